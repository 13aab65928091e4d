import {expect} from 'chai'

import {SpawnError, startClaude} from '../../../../src/daemon/sessions/runner.js'
import {waitFor} from '../../../helpers/sandbox.js'
import {isAlive} from '../../../../src/client/lifecycle.js'

/** Runs `node -e script` the way the service runs claude, collecting its stdout lines. */
async function run(script: string, maxLineBytes?: number) {
  const lines: string[] = []
  const oversize: number[] = []
  const child = await startClaude({
    command: process.execPath,
    args: ['-e', script],
    cwd: process.cwd(),
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

  it('delivers stdout lines in order, a last line without newline, and stderr tail and exit code', async () => {
    const {child, lines} = await run(`
      process.stdout.write('{"n":1}\\n{"n":' + '2}\\n\\n');
      process.stdout.write('{"n":3}');
      process.stderr.write('something broke\\n');
      process.exitCode = 3;
    `)
    const outcome = await child.exited
    expect(lines).to.deep.equal(['{"n":1}', '{"n":2}', '{"n":3}'])
    expect(outcome).to.deep.equal({exitCode: 3, signal: null, stderrTail: 'something broke'})
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

  it('fails to start a missing command with a SpawnError', async () => {
    const error = await startClaude({command: '/nonexistent/claude', args: [], cwd: process.cwd(), onLines: () => {}, onOversize: () => {}}).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).to.be.instanceOf(SpawnError)
    expect((error as Error).message).to.match(/Could not start \/nonexistent\/claude: .*ENOENT/)
  })
})
