/**
 * Storage faults (issue 10): a full log disk, a full database disk, another process holding
 * the database's write lock. Each runs the real daemon on a real SQLite file.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'
import {execa} from 'execa'

import type {HealthResult} from '../../src/protocol/daemon.js'
import {CLI, Sandbox, waitFor} from '../helpers/sandbox.js'
import {RawConnection} from '../helpers/raw-socket.js'
import {FAKE_CLAUDE, queryDb} from '../helpers/sessions.js'

describe('storage faults', function () {
  this.timeout(120_000)
  let sandbox: Sandbox

  afterEach(async () => {
    await sandbox.cleanup()
  })

  it('a full log disk: the daemon starts, counts the lost lines in health, stops and starts again', async () => {
    // /dev/full fails every write with ENOSPC, as a full filesystem does.
    sandbox = new Sandbox({HUMANLAYER_LOG_FILE: '/dev/full'})
    for (let round = 0; round < 2; round++) {
      await sandbox.startDaemon()
      const status = await sandbox.cli(['daemon', 'status', '--json'])
      expect(status.exitCode, status.stderr).to.equal(0)
      const result = Sandbox.json<HealthResult>(status)
      expect(result.log_write_failures, JSON.stringify(result)).to.be.at.least(1)
      expect(result.log_write_error).to.match(/ENOSPC/)
      const stop = await sandbox.cli(['daemon', 'stop', '--json'])
      expect(stop.exitCode, stop.stderr).to.equal(0)
    }
  })

  it('raw_events has a retention like events: raw_event_retention_count rows are kept', async () => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, HUMANLAYER_RAW_EVENT_RETENTION_COUNT: '10'})
    await sandbox.startDaemon()
    const launched = await sandbox.cli(['session', 'launch', '[fake:events=50] fill raw_events', '--wait', '--json'])
    expect(launched.exitCode, launched.stderr).to.equal(0)
    const count = (): number => queryDb<{n: number}>(sandbox.databasePath, 'SELECT count(*) AS n FROM raw_events')[0].n
    expect(count()).to.be.above(50)
    // Retention runs at start, then every minute.
    expect((await sandbox.cli(['daemon', 'stop'])).exitCode).to.equal(0)
    await sandbox.startDaemon()
    await waitFor(() => count() <= 10, 10_000, 'raw_events to be pruned to 10 rows')
    // The newest were kept: the session's result line among them.
    const newest = queryDb<{event_json: string}>(sandbox.databasePath, 'SELECT event_json FROM raw_events ORDER BY id DESC LIMIT 1')
    expect(JSON.parse(newest[0].event_json)).to.include({type: 'result'})
  })

  it('acknowledges a decision only after a durable commit: the WAL is synced before the reply is written', async () => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    const trace = path.join(sandbox.root, 'strace.txt')
    // The foreground daemon under strace: its syncs and socket writes, in order.
    const daemon = execa('strace', ['-f', '-qq', '-s', '64', '-e', 'trace=fsync,fdatasync,write,writev', '-o', trace, process.execPath, CLI, 'daemon', 'start', '--foreground'], {
      env: sandbox.env(),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    })
    let pid: number | undefined
    try {
      pid = await sandbox.waitHealthy(30_000)
      const connection = await RawConnection.open(sandbox.socketPath)
      try {
        const launch = await connection.request<{result: {run_id: string}}>(
          {jsonrpc: '2.0', method: 'launchSession', params: {query: '[fake:slow=60000] wait', working_dir: sandbox.root}, id: 1},
          30_000,
        )
        const approval = await connection.request<{result: {approval_id: string}}>({
          jsonrpc: '2.0',
          method: 'createApproval',
          params: {run_id: launch.result.run_id, tool_name: 'Bash', tool_input: {command: 'echo durable'}},
          id: 2,
        })
        const decided = await connection.request<{result: unknown}>({
          jsonrpc: '2.0',
          method: 'sendDecision',
          params: {approval_id: approval.result.approval_id, decision: 'approve', comment: 'ok'},
          id: 3,
        })
        expect(decided).to.have.property('result')
      } finally {
        connection.close()
      }
      // strace quotes the frames it shows: `{\"jsonrpc\":\"2.0\",\"id\":3,…`.
      const replyTo = (id: number) => (line: string) => /^\d+ write/.test(line) && line.includes(`\\"id\\":${id},\\"result\\"`)
      await waitFor(() => readFileSync(trace, 'utf8').split('\n').some(replyTo(3)), 10_000, 'the decision reply in the trace')
      const lines = readFileSync(trace, 'utf8').split('\n')
      const reply = lines.findIndex(replyTo(3))
      const previousReply = lines.findIndex(replyTo(2))
      expect(reply, 'the decision reply was written').to.be.above(0)
      const between = lines.slice(previousReply + 1, reply)
      expect(between.some((line) => /\b(fsync|fdatasync)\(/.test(line)), `a sync between the createApproval reply and the decision reply:\n${between.join('\n')}`).to.equal(true)
    } finally {
      // strace passes on nothing: stop the daemon itself, and strace ends with it.
      if (pid !== undefined) process.kill(pid, 'SIGTERM')
      else daemon.kill('SIGKILL')
      await daemon
    }
  })
})
