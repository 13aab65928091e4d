/**
 * A full database disk (issue 10): the daemon's writes to its database fail (the file size limit
 * of the daemon's process, RLIMIT_FSIZE, stands in for a full filesystem: the kernel refuses the
 * write with EFBIG as it would with ENOSPC, and no root is needed). A request whose write fails
 * gets a clear error and nothing it did is stored or acknowledged; the daemon stays up and, once
 * there is room again, goes on with everything it had.
 */
import {execFileSync} from 'node:child_process'
import {statSync} from 'node:fs'

import {expect} from 'chai'

import {RawConnection} from '../helpers/raw-socket.js'
import {FAKE_CLAUDE, queryDb} from '../helpers/sessions.js'
import {Sandbox} from '../helpers/sandbox.js'

interface Reply<T> {
  result?: T
  error?: {code: number; message: string}
}

/** Caps (or, with 'unlimited', frees) the size of any file the process writes to. */
function limitFileSize(pid: number, bytes: number | 'unlimited'): void {
  execFileSync('prlimit', ['--pid', String(pid), `--fsize=${bytes}:unlimited`])
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}

describe('a full database disk', function () {
  this.timeout(120_000)
  let sandbox: Sandbox

  afterEach(async () => {
    await sandbox.cleanup()
  })

  it('a write that does not fit fails with a clear error and stores nothing; with room again the daemon goes on', async () => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    const {pid} = await sandbox.startDaemon()
    const connection = await RawConnection.open(sandbox.socketPath)
    try {
      let id = 0
      const call = <T>(method: string, params: unknown): Promise<Reply<T>> =>
        connection.request<Reply<T>>({jsonrpc: '2.0', method, params, id: ++id}, 30_000)
      const launch = async (query: string): Promise<string> => {
        const launched = await call<{run_id: string}>('launchSession', {query, working_dir: sandbox.root})
        expect(launched.result, JSON.stringify(launched)).to.have.property('run_id')
        return launched.result!.run_id
      }
      const before = await call<{approval_id: string}>('createApproval', {
        run_id: await launch('[fake:slow=60000] before'),
        tool_name: 'Bash',
        tool_input: {command: 'echo stored'},
      })
      expect(before.result, JSON.stringify(before)).to.have.property('approval_id')

      // The disk fills: no file of the daemon's may grow past what it is now.
      const full = Math.max(sizeOf(sandbox.databasePath), sizeOf(`${sandbox.databasePath}-wal`), sizeOf(sandbox.logFile)) + 4096
      limitFileSize(pid, full)
      try {
        const refused = await call('createApproval', {
          run_id: (await call<{sessions: {run_id: string}[]}>('listSessions', {})).result!.sessions[0].run_id,
          tool_name: 'Bash',
          tool_input: {command: `echo ${'x'.repeat(2 * 1024 * 1024)}`},
        })
        expect(refused.result, 'no approval id for a request that was not stored').to.equal(undefined)
        expect(refused.error?.code).to.equal(-32_004)
        expect(refused.error?.message).to.match(/could not be written: .*is its disk full\?.*Nothing of this request was stored/)

        const launched = await sandbox.cli(['session', 'launch', 'launched on a full disk', '--json'])
        expect(launched.exitCode, launched.stderr).to.equal(6)
        expect(launched.stdout + launched.stderr).to.match(/could not be written.*is its disk full\?/s)

        const health = await call<{status: string}>('health', {})
        expect(health.result, 'the daemon still answers').to.have.property('status')
      } finally {
        limitFileSize(pid, 'unlimited')
      }

      const after = await call<{approval_id: string}>('createApproval', {
        run_id: await launch('[fake:slow=60000] after'),
        tool_name: 'Bash',
        tool_input: {command: 'echo after'},
      })
      expect(after.result, JSON.stringify(after)).to.have.property('approval_id')
    } finally {
      connection.close()
    }
    const approvals = queryDb<{command: string}>(
      sandbox.databasePath,
      "SELECT json_extract(tool_input, '$.command') AS command FROM approvals ORDER BY created_at",
    )
    expect(approvals.map((row) => row.command)).to.deep.equal(['echo stored', 'echo after'])
    const sessions = queryDb<{query: string}>(sandbox.databasePath, 'SELECT query FROM sessions ORDER BY created_at')
    expect(sessions.map((row) => row.query)).to.deep.equal(['[fake:slow=60000] before', '[fake:slow=60000] after'])
  })
})
