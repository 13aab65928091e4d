/**
 * One daemon per database, and auto-starts that do not trip over each other (issue 10). A second
 * daemon on the same database used to reconcile the first one's live sessions as orphans and
 * SIGKILL them; four commands auto-starting at once used to fail three of four.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {isAlive} from '../../src/shared/procfs.js'
import {GetSessionState, LaunchSession} from '../../src/protocol/sessions.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, recordedRun, waitForStatus} from '../helpers/sessions.js'

/** oclif wraps an error message at the terminal's width, with ` ›` at the start of each line. */
const unwrapped = (stderr: string): string => stderr.replace(/\s*\n ›\s+/g, ' ')

describe('one daemon per database', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
  })

  afterEach(async () => sandbox.cleanup())

  it('a second daemon on the same database with another socket refuses (exit 5), naming the holder, and leaves its sessions alone', async () => {
    const recordDir = path.join(sandbox.root, 'runs')
    const {pid} = await sandbox.startDaemon({FAKE_CLAUDE_RECORD_DIR: recordDir})
    const client = await sandbox.client()
    try {
      const {session_id} = await client.call(LaunchSession, {query: 'keep running [fake:slow=60000]', working_dir: sandbox.root})
      await waitForStatus(client, session_id, 'running')
      const run = await recordedRun(recordDir, 'keep running')

      const otherSocket = path.join(sandbox.root, 'other.sock')
      const started = await sandbox.cli(['daemon', 'start', '--socket', otherSocket])
      expect(started.exitCode, started.stderr).to.equal(5)
      expect(unwrapped(started.stderr)).to.contain(`in use by another hld daemon (pid ${pid}, socket ${sandbox.socketPath})`)
      // Any command auto-starts a daemon for its socket: the same refusal.
      const listed = await sandbox.cli(['session', 'list', '--socket', otherSocket], {env: {HUMANLAYER_NO_AUTOSTART: undefined}})
      expect(listed.exitCode, listed.stderr).to.equal(5)
      expect(unwrapped(listed.stderr)).to.contain(`pid ${pid}, socket ${sandbox.socketPath}`)

      expect((await client.call(GetSessionState, {session_id})).session.status).to.equal('running')
      expect(isAlive(run.pid), 'the first daemon’s claude').to.equal(true)
      expect(isAlive(pid)).to.equal(true)
    } finally {
      client.close()
    }
  })

  it('a SIGKILLed holder frees the database at once: the next daemon starts on it', async () => {
    const {pid} = await sandbox.startDaemon()
    process.kill(pid, 'SIGKILL')
    await waitFor(() => !isAlive(pid), 5000, 'the killed daemon to exit')
    const otherSocket = path.join(sandbox.root, 'other.sock')
    const started = await sandbox.cli(['daemon', 'start', '--json', '--socket', otherSocket])
    expect(started.exitCode, started.stderr).to.equal(0)
    sandbox.track(Sandbox.json<{pid: number}>(started).pid)
  })

  it('four commands auto-starting at once on a fresh home all succeed, with exactly one daemon', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => sandbox.cli(['session', 'list', '--json'], {env: {HUMANLAYER_NO_AUTOSTART: undefined}})),
    )
    const pid = await sandbox.waitHealthy()
    for (const result of results) expect(result.exitCode, result.stderr).to.equal(0)
    // Each says so only if it started the daemon itself.
    expect(results.filter((result) => result.stderr.includes('started hld daemon'))).to.have.length(1)
    const log = readFileSync(sandbox.logFile, 'utf8')
    expect(log.match(/"daemon started"/g), 'daemons started').to.have.length(1)
    expect(log).to.not.contain('failed to start')
    expect(isAlive(pid)).to.equal(true)
  })
})
