/**
 * Storage faults (issue 10): a full log disk, a full database disk, another process holding
 * the database's write lock. Each runs the real daemon on a real SQLite file.
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'

import {expect} from 'chai'

import {Health, type HealthResult} from '../../src/protocol/daemon.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'
import {RawConnection} from '../helpers/raw-socket.js'
import {TracedDaemon} from '../helpers/strace.js'
import {FAKE_CLAUDE, queryDb, recordedRun} from '../helpers/sessions.js'
import {isAlive} from '../../src/shared/procfs.js'
import {holdWriteLock} from '../helpers/lock.js'
import {waitForApproval} from '../helpers/approvals.js'
import {startFakeHumanLayerApi} from '../fixtures/fake-humanlayer-api.js'
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
    const daemon = await TracedDaemon.start(sandbox)
    try {
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
      expect(await daemon.syncsBetween(2, 3), 'a sync between the createApproval reply and the decision reply').to.have.length.of.at.least(
        1,
      )
    } finally {
      await daemon.stop()
    }
  })

  it('an external write lock of 6 s: health answers, a launch and a decision wait, session output is kept, no event is lost', async () => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    const runs = path.join(sandbox.root, 'runs')
    await sandbox.startDaemon({FAKE_CLAUDE_RECORD_DIR: runs})
    const rpc = async <T>(method: string, params: unknown): Promise<T> => {
      const connection = await RawConnection.open(sandbox.socketPath)
      try {
        const reply = await connection.request<{result?: T; error?: {message: string}}>({jsonrpc: '2.0', method, params, id: 1}, 60_000)
        if (reply.error) throw new Error(`${method}: ${reply.error.message}`)
        return reply.result!
      } finally {
        connection.close()
      }
    }
    const events = await RawConnection.open(sandbox.socketPath)
    try {
      await events.request({jsonrpc: '2.0', method: 'Subscribe', params: {since: 0}, id: 1})
      // A session that waits on an approval, decided during the lock.
      const waiting = await rpc<{session_id: string; run_id: string}>('launchSession', {
        query: '[fake:slow=60000] waits',
        working_dir: sandbox.root,
      })
      const {approval_id: approvalId} = await rpc<{approval_id: string}>('createApproval', {
        run_id: waiting.run_id,
        tool_name: 'Bash',
        tool_input: {command: 'ls'},
      })
      // A session that writes output before the lock, and more (then exits) while it is held.
      const writer = await rpc<{session_id: string}>('launchSession', {
        query: '[fake:slow=1500] writes through the lock',
        working_dir: sandbox.root,
      })
      const writerPid = (await recordedRun(runs, 'writes through the lock')).pid
      await waitFor(
        async () => (await rpc<{events: unknown[]}>('getConversation', {session_id: writer.session_id})).events.length >= 2,
        10_000,
        'the output before the lock',
      )

      const lock = await holdWriteLock(sandbox.databasePath, 6000)
      let lockReleased = false
      const launch = rpc<{session_id: string}>('launchSession', {query: 'launched during the lock', working_dir: sandbox.root}).finally(
        () => {
          expect(lockReleased, 'the launch waited for the lock').to.equal(true)
        },
      )
      const decision = rpc<{approval: {status: string}}>('sendDecision', {approval_id: approvalId, decision: 'approve'}).finally(() => {
        expect(lockReleased, 'the decision waited for the lock').to.equal(true)
      })
      // Awaited below; settled early only if they fail to wait.
      launch.catch(() => {})
      decision.catch(() => {})
      // While the lock is held: health answers, and the writer finishes its output and exits.
      expect(await rpc<{status: string}>('health', {})).to.include({status: 'ok'})
      await waitFor(() => !isAlive(writerPid), 15_000, 'the writing session to exit during the lock')
      lockReleased = true
      await lock.release()

      expect((await launch).session_id).to.be.a('string')
      expect((await decision).approval.status).to.equal('approved')
      await waitFor(
        async () =>
          (await rpc<{session: {status: string}}>('getSessionState', {session_id: writer.session_id})).session.status !== 'running',
        15_000,
        'the writer to end',
      )
      const state = await rpc<{session: {status: string; error_message?: string}}>('getSessionState', {session_id: writer.session_id})
      expect(state.session, JSON.stringify(state.session)).to.include({status: 'completed'})
      const conversation = await rpc<{events: {event_type: string; content?: string}[]}>('getConversation', {session_id: writer.session_id})
      const texts = conversation.events.map((event) => event.content ?? '')
      expect(texts[0]).to.include('writes through the lock')
      expect(texts.some((text) => text.includes('Fake reply to'))).to.equal(true)

      // The event stream: every id once, in order, through the writer's end.
      const ids: number[] = []
      for (let done = false; !done;) {
        const frame = await events.next<{result: {event?: {id: number; type: string; data: {session_id?: string; new_status?: string}}}}>(
          15_000,
        )
        const event = frame.result.event
        if (!event) continue
        ids.push(event.id)
        done =
          event.type === 'session_status_changed' && event.data.session_id === writer.session_id && event.data.new_status === 'completed'
      }
      expect(ids).to.deep.equal(ids.map((_, i) => i + 1))
    } finally {
      events.close()
    }
  })

  it('events the database keeps refusing are given up past 64 MiB: every subscriber, live or replaying (socket or SSE, whatever its filter), gets events_lost for exactly their ids, and the stream goes on', async () => {
    sandbox = new Sandbox({HUMANLAYER_TEST_EVENTS: '1', HUMANLAYER_DAEMON_HTTP_PORT: '0'})
    await sandbox.startDaemon()
    const session = 'sess-given-up'
    const publish = async (data: Record<string, unknown>, count = 1): Promise<{first_id: number; last_id: number}> => {
      const connection = await RawConnection.open(sandbox.socketPath)
      try {
        const reply = await connection.request<{result: {first_id: number; last_id: number}}>(
          {
            jsonrpc: '2.0',
            method: 'debugPublish',
            params: {type: 'session_status_changed', data: {session_id: session, ...data}, count},
            id: 1,
          },
          30_000,
        )
        return reply.result
      } finally {
        connection.close()
      }
    }
    type Frame = {
      result: {event?: {id: number; data: {note?: string}}; type?: string; from_id?: number; through_id?: number; message?: string}
    }
    const subscribe = async (params: Record<string, unknown>): Promise<() => Promise<Frame>> => {
      const stream = await RawConnection.open(sandbox.socketPath)
      streams.push(stream)
      await stream.request({jsonrpc: '2.0', method: 'Subscribe', params, id: 1})
      return async () => {
        for (let i = 0; i < 10; i++) {
          const frame = await stream.next<Frame>(30_000)
          if (frame.result.type !== 'heartbeat') return frame
        }
        throw new Error('only heartbeats on the stream')
      }
    }
    const streams: RawConnection[] = []
    try {
      const next = await subscribe({})
      const before = await publish({note: 'before'})
      expect((await next()).result.event).to.deep.include({id: before.first_id})

      // While another process holds the lock, 70 events of 1 MiB: more than the daemon holds unstored.
      const lock = await holdWriteLock(sandbox.databasePath, 0)
      let lost: {first_id: number; last_id: number}
      try {
        lost = await publish({note: 'x'.repeat(1024 * 1024)}, 70)
        // Given up while the lock lasts (the daemon says so in its log); the subscriber hears of it once the database takes writes.
        await waitFor(() => readFileSync(sandbox.logFile, 'utf8').includes('gave up on events'), 30_000, 'the daemon to give up the events')
      } finally {
        await lock.release()
      }
      const lostFrame = {type: 'events_lost', from_id: lost.first_id, through_id: lost.last_id}
      const frame = await next()
      expect(frame.result, 'the live stream reports the lost events, and delivers none of them').to.deep.include(lostFrame)
      expect(frame.result.message).to.match(/could not store events.*lost/)

      // The stream goes on with the next event stored; the lost ones are in no replay.
      const after = await publish({note: 'after'})
      expect(after.first_id).to.equal(lost.last_id + 1)
      expect((await next()).result.event).to.deep.include({id: after.first_id})
      const stored = queryDb<{id: number; type: string}>(
        sandbox.databasePath,
        `SELECT id, type FROM events WHERE id >= ${before.first_id} ORDER BY id`,
      )
      expect(stored.filter((row) => row.type !== 'events_lost').map((row) => row.id)).to.deep.equal([before.first_id, after.first_id])

      // A subscriber that comes back with `since` across the lost ids is told too, filtered or not.
      for (const filter of [{}, {session_id: session}, {event_types: ['session_status_changed']}]) {
        const replay = await subscribe({...filter, since: before.first_id - 1})
        const frames = [await replay(), await replay(), await replay()]
        expect(
          frames.map((f) => f.result.event?.id ?? f.result.type),
          JSON.stringify(filter),
        ).to.deep.equal([before.first_id, 'events_lost', after.first_id])
        expect(frames[1].result).to.deep.include(lostFrame)
      }
      // And over SSE: a named events_lost event whose id moves Last-Event-ID past the gap.
      const sse = await readSse(`/stream/events?sessionId=${session}`, before.first_id - 1, 3)
      expect(sse.map((block) => block.event ?? Number(block.id))).to.deep.equal([before.first_id, 'events_lost', after.first_id])
      expect(sse[1].id).to.equal(String(lost.last_id))
      expect(JSON.parse(sse[1].data)).to.deep.include(lostFrame)

      // hld watch says so, in the daemon's words.
      const watch = await sandbox.cli(['watch', '--since', String(before.first_id - 1), '--count', '2', '--json'])
      expect(watch.exitCode, watch.stderr).to.equal(0)
      expect(watch.stderr).to.contain(`hld watch: The daemon could not store events ${lost.first_id}–${lost.last_id} (database is locked)`)

      const health = await sandbox.cli(['daemon', 'status', '--json'])
      expect(health.exitCode, health.stderr).to.equal(0)
    } finally {
      for (const stream of streams) stream.close()
    }
  })

  /** The first `count` SSE blocks with data from the daemon's REST API, resuming after `lastEventId`. */
  async function readSse(route: string, lastEventId: number, count: number): Promise<{id?: string; event?: string; data: string}[]> {
    const client = await sandbox.client()
    let base: string
    try {
      base = (await client.call(Health, {})).components.http?.detail ?? 'the daemon reports no HTTP API'
    } finally {
      client.close()
    }
    const token = readFileSync(path.join(sandbox.home, '.humanlayer', 'http-token'), 'utf8').trim()
    return new Promise((resolve, reject) => {
      const blocks: {id?: string; event?: string; data: string}[] = []
      const headers = {authorization: `Bearer ${token}`, 'last-event-id': String(lastEventId)}
      const req = http.get(`${base}${route}`, {headers}, (res) => {
        let buffer = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          buffer += chunk
          for (let end; (end = buffer.indexOf('\n\n')) !== -1;) {
            const fields = new Map(
              buffer
                .slice(0, end)
                .split('\n')
                .map((line) => [line.slice(0, line.indexOf(': ')), line.slice(line.indexOf(': ') + 2)] as const),
            )
            buffer = buffer.slice(end + 2)
            if (fields.has('data')) blocks.push({id: fields.get('id'), event: fields.get('event'), data: fields.get('data')!})
          }
          if (blocks.length >= count) {
            req.destroy()
            resolve(blocks)
          }
        })
      })
      req.on('error', (error) => (blocks.length >= count ? undefined : reject(error)))
      setTimeout(() => {
        req.destroy()
        reject(new Error(`fewer than ${count} SSE events within 20 s: ${JSON.stringify(blocks)}`))
      }, 20_000).unref()
    })
  }

  it('a lock taken while a cloud decision is on its way to the API: the decision is stored once the lock goes, not failed', async () => {
    const fake = await startFakeHumanLayerApi()
    try {
      sandbox = new Sandbox({HUMANLAYER_API_KEY: fake.apiKey, HUMANLAYER_API_BASE_URL: fake.baseUrl, HUMANLAYER_POLL_INTERVAL_MS: '100'})
      await sandbox.startDaemon()
      const call = fake.addFunctionCall({run_id: 'run-cloud', fn: 'deploy', kwargs: {env: 'prod'}})
      await waitForApproval(sandbox, (list) => list.find((a) => a.id === call.call_id))
      // The API takes its time answering; the lock is taken meanwhile, and held past its answer.
      const respondPath = `/agent/function_calls/${call.call_id}/respond`
      fake.delayNext(1, 3000, {path: respondPath})
      let lockReleased = false
      let settledDuringLock = false
      const approve = sandbox.cli(['approvals', 'approve', call.call_id, '--comment', 'ship it']).finally(() => {
        settledDuringLock = !lockReleased
      })
      await waitFor(() => fake.requests.some((request) => request.path === respondPath), 15_000, 'the decision to reach the API')
      const lock = await holdWriteLock(sandbox.databasePath, 5000)
      try {
        expect(call.status.approved, 'the lock was taken before the API answered').to.equal(undefined)
        await waitFor(() => call.status.approved === true, 15_000, 'the API to take the decision')
      } finally {
        // The locker holds the lock 5 s in all, well past the API's answer (3 s after the request).
        await lock.release()
        lockReleased = true
      }
      const approved = await approve
      // Before: the daemon stored the decision as soon as the API answered, met the lock, and failed the request.
      expect(settledDuringLock, `the decision waited for the lock: ${approved.stderr}`).to.equal(false)
      expect(approved.exitCode, approved.stdout + approved.stderr).to.equal(0)
      const stored = queryDb<{status: string; comment: string}>(
        sandbox.databasePath,
        `SELECT status, comment FROM approvals WHERE id = '${call.call_id}'`,
      )
      expect(stored).to.deep.equal([{status: 'approved', comment: 'ship it'}])
    } finally {
      await fake.close()
    }
  })

  it('a lock held past database_lock_wait_ms: the launch fails with a clear error, and nothing was stored', async () => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, HUMANLAYER_DATABASE_LOCK_WAIT_MS: '500'})
    await sandbox.startDaemon()
    const lock = await holdWriteLock(sandbox.databasePath, 0)
    try {
      const launched = await sandbox.cli(['session', 'launch', 'never stored', '--json'])
      expect(launched.exitCode).to.equal(6)
      expect(launched.stdout + launched.stderr).to.match(/locked by another process.*database_lock_wait_ms/)
    } finally {
      await lock.release()
    }
    expect(queryDb(sandbox.databasePath, "SELECT id FROM sessions WHERE query = 'never stored'")).to.deep.equal([])
  })
})
