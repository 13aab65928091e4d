import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {SpawnError, startClaude, usableSpawnAddon} from '../../../../src/daemon/sessions/runner.js'
import {waitFor} from '../../../helpers/sandbox.js'
import {isAlive} from '../../../../src/shared/procfs.js'

const dir = mkdtempSync(path.join(os.tmpdir(), 'hld-runner-'))
let runs = 0
const filesOfRun = () => ({output: path.join(dir, `${++runs}.out`), errors: path.join(dir, `${runs}.err`)})

/** Runs `node -e script` the way the service runs claude, collecting its stdout lines. */
async function run(script: string, maxLineBytes?: number) {
  const lines: string[] = []
  const oversize: number[] = []
  const child = await startClaude({
    command: process.execPath,
    args: ['-e', script],
    cwd: process.cwd(),
    files: filesOfRun(),
    onLines: (batch) => lines.push(...batch),
    onOversize: (bytes) => oversize.push(bytes),
    maxLineBytes,
  })
  return {child, lines, oversize}
}

describe('startClaude (runner)', () => {
  /** Grandchildren a failing test could leave behind. */
  const spawned: number[] = []
  afterEach(() => {
    for (const pid of spawned.splice(0)) {
      if (isAlive(pid)) process.kill(pid, 'SIGKILL')
    }
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('delivers stdout lines in order, a last line without newline, and stderr tail and exit code', async () => {
    const {child, lines} = await run(`
      process.stdout.write('{"n":1}\\n{"n":' + '2}\\n\\n');
      process.stdout.write('{"n":3}');
      process.stderr.write('something broke\\n');
      process.exitCode = 3;
    `)
    const outcome = await child.exited
    expect(lines).to.deep.equal(['{"n":1}', '{"n":2}', '{"n":3}'])
    expect(outcome).to.deep.equal({exitCode: 3, signal: null, stderrTail: 'something broke', adopted: false})
  })

  it('delivers every line of a claude that exits right after writing them, to a slow reader, while an escaped child holds its stdout', async () => {
    // Under load the daemon reads slowly; the old runner cut stdout 2 s after the exit and lost
    // what it had not read yet (issue 10: sessions ended with 0 lines stored).
    const lines: string[] = []
    const files = filesOfRun()
    const child = await startClaude({
      command: process.execPath,
      args: [
        '-e',
        `
        const {spawn} = require('node:child_process');
        // Its own group, so the runner's group kill misses it; it keeps claude's stdout open.
        const escaped = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], {detached: true, stdio: ['ignore', 'inherit', 'ignore']});
        escaped.unref();
        process.stderr.write(String(escaped.pid));
        for (let i = 1; i <= 20000; i++) process.stdout.write(JSON.stringify({n: i, pad: 'x'.repeat(100)}) + '\\n');
      `,
      ],
      cwd: process.cwd(),
      files,
      onLines: (batch) => {
        lines.push(...batch)
        // A busy daemon: each read waits 50 ms before the next.
        const until = Date.now() + 50
        while (Date.now() < until) {
          // busy, as a loaded event loop is
        }
      },
      onOversize: () => {},
    })
    const outcome = await child.exited
    spawned.push(Number(outcome.stderrTail))
    expect(outcome.exitCode).to.equal(0)
    expect(lines).to.have.length(20000)
    expect(JSON.parse(lines.at(-1)!)).to.include({n: 20000})
  })

  it('replaces a line over the limit with a marker, in its place, and carries on', async () => {
    const {child, lines, oversize} = await run(`process.stdout.write('a\\n' + 'x'.repeat(5000) + '\\nb\\n')`, 1000)
    await child.exited
    expect(lines).to.deep.equal(['a', '{"type":"hld_line_too_long","bytes":5000}', 'b'])
    expect(oversize).to.deep.equal([5000])
  })

  it("signals the whole process group, reaching claude's own children", async () => {
    const {child, lines} = await run(`
      const {spawn} = require('node:child_process');
      const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'});
      console.log(String(grandchild.pid));
      setInterval(() => {}, 1000);
    `)
    await waitFor(() => lines.length === 1, 5000, 'the grandchild pid')
    const grandchild = Number(lines[0])
    spawned.push(grandchild)
    expect(isAlive(grandchild)).to.equal(true)
    child.signal('SIGKILL')
    const outcome = await child.exited
    expect(outcome.signal).to.equal('SIGKILL')
    await waitFor(() => !isAlive(grandchild), 5000, 'the grandchild to die')
    // A group that is already gone is not an error.
    child.signal('SIGINT')
  })

  it('ends what claude left running in its group when it exits', async () => {
    const {child, lines} = await run(`
      const {spawn} = require('node:child_process');
      const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'});
      grandchild.unref();
      console.log(String(grandchild.pid));
    `)
    const outcome = await child.exited
    spawned.push(Number(lines[0]))
    expect(outcome.exitCode).to.equal(0)
    await waitFor(() => !isAlive(Number(lines[0])), 5000, 'the left-behind grandchild to die')
  })

  it('names the signal that killed claude as Node does (SIGABRT, not its alias SIGIOT)', async () => {
    const {child} = await run(`process.kill(process.pid, 'SIGABRT')`)
    const outcome = await child.exited
    expect(outcome).to.include({exitCode: null, signal: 'SIGABRT'})
  })

  it('fails to start a missing command with a SpawnError, with or without a umask (no shell in between that would start instead)', async () => {
    for (const umask of [undefined, 0o022]) {
      const error = await startClaude({
        command: '/nonexistent/claude',
        args: [],
        cwd: process.cwd(),
        ...(umask === undefined ? {} : {umask}),
        files: filesOfRun(),
        onLines: () => {},
        onOversize: () => {},
      }).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error, `umask ${umask}`).to.be.instanceOf(SpawnError)
      expect((error as Error).message).to.match(/Could not start \/nonexistent\/claude: .*ENOENT/)
    }
  })

  it('runs claude itself with the umask asked for: its umask, stdin /dev/null, its own session, no signal blocked or ignored', async () => {
    const lines: string[] = []
    const child = await startClaude({
      command: process.execPath,
      args: [
        '-e',
        `const fs = require('node:fs')
         const status = fs.readFileSync('/proc/self/status', 'utf8')
         const field = (name) => status.split(name + ':')[1].trim().split(/\\s/)[0]
         console.log(JSON.stringify({umask: process.umask(), stdin: fs.readlinkSync('/proc/self/fd/0'), blocked: field('SigBlk'),
           ignored: field('SigIgn'), sid: Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[3])}))`,
      ],
      cwd: process.cwd(),
      umask: 0o027,
      files: filesOfRun(),
      onLines: (batch) => lines.push(...batch),
      onOversize: () => {},
    })
    expect((await child.exited).exitCode).to.equal(0)
    // Node itself ignores SIGPIPE and SIGXFSZ at start; nothing else is.
    expect(JSON.parse(lines[0])).to.deep.equal({
      umask: 0o027,
      stdin: '/dev/null',
      blocked: '0000000000000000',
      ignored: '0000000001001000',
      sid: child.pid,
    })
  })

  it('uses the spawn addon only when it works here and is built from this spawn.c (an older build takes other arguments)', () => {
    const addon = {supported: true, withUmask: true}
    expect(usableSpawnAddon(addon)).to.equal(addon)
    expect(usableSpawnAddon({supported: true})).to.equal(null)
    expect(usableSpawnAddon({supported: false, withUmask: true})).to.equal(null)
  })
})
