/**
 * Bounded resources under hostile or heavy load (issue 10): a daemon whose memory a few
 * peers can balloon, or whose health stalls behind one client's burst, is down for everyone.
 * Each case drives the real daemon over its socket and measures its RSS from /proc.
 */
import {expect} from 'chai'

import {ErrorCode} from '../../src/protocol/errors.js'
import {rssMiB} from '../helpers/proc.js'
import {RawConnection} from '../helpers/raw-socket.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, queryDb} from '../helpers/sessions.js'

const MIB = 1024 * 1024
/** What the daemon may grow by while 100 peers each push 9 MB at it (before the fixes: ~900 MiB). */
const RSS_GROWTH_LIMIT_MIB = 200

/** `count` raw connections, opened one after another. */
async function openMany(socketPath: string, count: number): Promise<RawConnection[]> {
  const connections: RawConnection[] = []
  for (let i = 0; i < count; i++) connections.push(await RawConnection.open(socketPath))
  return connections
}

async function health(socketPath: string): Promise<Record<string, unknown>> {
  const connection = await RawConnection.open(socketPath)
  try {
    return await connection.request({jsonrpc: '2.0', method: 'health', id: 'h'}, 30_000)
  } finally {
    connection.close()
  }
}

describe('bounded resources under load', function () {
  this.timeout(120_000)
  let sandbox: Sandbox
  let pid: number
  let connections: RawConnection[] = []

  afterEach(async () => {
    for (const connection of connections) connection.close()
    connections = []
    await sandbox.cleanup()
  })

  /** A daemon that runs the fake claude, one raw connection to it, and `call` over that connection. */
  async function daemonWithConnection(env: Record<string, string> = {}, timeoutMs = 60_000) {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, ...env})
    await sandbox.startDaemon()
    const connection = await RawConnection.open(sandbox.socketPath)
    connections = [connection]
    const call = async <T = Record<string, unknown>>(method: string, params: unknown): Promise<T> =>
      (await connection.request<{result: T}>({jsonrpc: '2.0', method, params, id: 1}, timeoutMs)).result
    return {connection, call}
  }

  it('holds at most max_pending_frame_bytes of unfinished frames: 100 peers each sending 9 MB without a newline', async () => {
    sandbox = new Sandbox()
    pid = (await sandbox.startDaemon()).pid
    const rssBefore = rssMiB(pid)
    connections = await openMany(sandbox.socketPath, 100)
    // One buffer shared by every write, so this process does not hold 900 MB itself.
    const partial = Buffer.concat([Buffer.from('{"jsonrpc":"2.0","method":"health","params":{"pad":"'), Buffer.alloc(9 * MIB, 0x61)])
    for (const connection of connections) connection.write(partial)

    // Each peer's bytes are either all taken by the daemon (held as a partial frame) or refused.
    let peak = rssBefore
    await waitFor(
      () => {
        peak = Math.max(peak, rssMiB(pid))
        return connections.every((c) => c.closed || c.socket.writableLength === 0)
      },
      60_000,
      'the daemon to take or refuse every partial frame',
    )
    peak = Math.max(peak, rssMiB(pid))
    expect(peak - rssBefore, `RSS growth in MiB (before: ${rssBefore.toFixed(1)})`).to.be.below(RSS_GROWTH_LIMIT_MIB)

    const refused = connections.filter((c) => c.closed)
    expect(refused.length, 'connections refused once the global cap was reached').to.be.at.least(90)
    const reply = await refused[0].next<{error: {code: number; message: string}}>()
    expect(reply.error.code).to.equal(ErrorCode.InvalidRequest)
    expect(reply.error.message).to.include('max_pending_frame_bytes')
    expect(await health(sandbox.socketPath)).to.have.property('result')
  })

  it('closes a connection whose frame stays unfinished past frame_idle_timeout_ms, with an error saying so', async () => {
    sandbox = new Sandbox({HUMANLAYER_FRAME_IDLE_TIMEOUT_MS: '300'})
    await sandbox.startDaemon()
    const idle = await RawConnection.open(sandbox.socketPath)
    const busy = await RawConnection.open(sandbox.socketPath)
    connections = [idle, busy]
    idle.write('{"jsonrpc":"2.0","method":"hea')
    const reply = await idle.next<{error: {code: number; message: string}}>(10_000)
    expect(reply.error.code).to.equal(ErrorCode.InvalidRequest)
    expect(reply.error.message).to.include('frame_idle_timeout_ms')
    await waitFor(() => idle.closed, 10_000, 'the idle connection to be closed')
    // A connection that sends whole frames, however slowly, is not touched.
    expect(busy.closed).to.equal(false)
    expect(await busy.request({jsonrpc: '2.0', method: 'health', id: 1})).to.have.property('result')
  })

  it('past max_connections still answers health, and refuses other calls with a clear error', async () => {
    sandbox = new Sandbox({HUMANLAYER_MAX_CONNECTIONS: '20'})
    await sandbox.startDaemon()
    connections = await openMany(sandbox.socketPath, 20)
    // The 20 are served in full.
    expect(await connections[19].request({jsonrpc: '2.0', method: 'listSessions', id: 1})).to.have.property('result')

    expect(await health(sandbox.socketPath)).to.have.nested.property('result.status', 'ok')
    const extra = await RawConnection.open(sandbox.socketPath)
    connections.push(extra)
    const refused = await extra.request<{error: {code: number; message: string}}>({jsonrpc: '2.0', method: 'listSessions', id: 2})
    expect(refused.error.code).to.equal(ErrorCode.Unavailable)
    expect(refused.error.message).to.include('max_connections')
    await waitFor(() => extra.closed, 10_000, 'the refused connection to be closed')
  })

  it('one 9 MB event to 100 filtered subscribers that never read costs its size once, and health stays up', async () => {
    sandbox = new Sandbox({HUMANLAYER_TEST_EVENTS: '1'})
    pid = (await sandbox.startDaemon()).pid
    connections = await openMany(sandbox.socketPath, 100)
    for (const connection of connections) {
      const confirmation = await connection.request({jsonrpc: '2.0', method: 'Subscribe', params: {event_types: ['new_approval']}, id: 1})
      expect(confirmation).to.have.nested.property('result.subscription_id')
      connection.socket.pause()
    }
    const rssBefore = rssMiB(pid)
    const publisher = await RawConnection.open(sandbox.socketPath)
    connections.push(publisher)
    const big = {approval_id: 'big', tool_name: 'x'.repeat(9 * MIB)}
    const published = await publisher.request(
      {jsonrpc: '2.0', method: 'debugPublish', params: {type: 'new_approval', data: big}, id: 1},
      30_000,
    )
    expect(published).to.have.nested.property('result.first_id')
    // Answered after the event's flush and fan-out (both run before the next request is read).
    expect(await health(sandbox.socketPath)).to.have.nested.property('result.status', 'ok')
    const growth = rssMiB(pid) - rssBefore
    expect(growth, `RSS growth in MiB (before: ${rssBefore.toFixed(1)})`).to.be.below(RSS_GROWTH_LIMIT_MIB)

    // And the subscribers do get it once they read.
    const reader = connections[0]
    reader.socket.resume()
    const frame = await reader.next<{result: {event: {type: string; data: {tool_name: string}}}}>(30_000)
    expect(frame.result.event.type).to.equal('new_approval')
    expect(frame.result.event.data.tool_name).to.have.length(9 * MIB)
  })

  it('a batch of 100 launchSession: at most max_concurrent_sessions run, the rest show queued and start in launch order', async () => {
    const max = 4
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, HUMANLAYER_MAX_CONCURRENT_SESSIONS: String(max)})
    await sandbox.startDaemon()
    const launcher = await RawConnection.open(sandbox.socketPath)
    const watcher = await RawConnection.open(sandbox.socketPath)
    connections = [launcher, watcher]
    const batch = Array.from({length: 100}, (_, i) => ({
      jsonrpc: '2.0',
      method: 'launchSession',
      params: {query: `[fake:slow=200] burst ${i}`, working_dir: sandbox.root},
      id: i,
    }))
    const replies = await launcher.request<{id: number; result?: {session_id: string}; error?: unknown}[]>(batch, 60_000)
    expect(
      replies.filter((reply) => reply.error),
      'failed launches',
    ).to.deep.equal([])
    const launchOrder = replies.sort((a, b) => a.id - b.id).map((reply) => reply.result!.session_id)

    // Watched while it runs: never more than `max` hold a slot, the others are visibly queued.
    let sawQueued = false
    for (let round = 0; ; round++) {
      const listed = await watcher.request<{result: {sessions: {status: string}[]}}>(
        {jsonrpc: '2.0', method: 'listSessions', id: round},
        30_000,
      )
      const statuses = listed.result.sessions.map((session) => session.status)
      const holding = statuses.filter((status) => ['starting', 'running', 'waiting_input', 'interrupting'].includes(status))
      expect(holding.length, `sessions holding a slot (of ${statuses.join(',')})`).to.be.at.most(max)
      sawQueued ||= statuses.includes('queued')
      if (statuses.every((status) => status === 'completed')) break
      expect(round, 'rounds until the burst is done').to.be.below(10_000)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(sawQueued, 'a queued status was visible').to.equal(true)

    // Queued sessions left the queue in the order they were launched.
    const dequeued = queryDb<{data: string}>(
      sandbox.databasePath,
      "SELECT data FROM events WHERE type = 'session_status_changed' ORDER BY id",
    )
      .map((row) => JSON.parse(row.data) as {session_id: string; old_status: string})
      .filter((data) => data.old_status === 'queued')
      .map((data) => data.session_id)
    expect(dequeued.length).to.be.at.least(100 - max)
    expect(dequeued).to.deep.equal(launchOrder.filter((id) => dequeued.includes(id)))
    expect(await health(sandbox.socketPath)).to.have.nested.property('result.status', 'ok')
  })

  it('a queued session can be interrupted before it starts, and never runs', async () => {
    const {call} = await daemonWithConnection({HUMANLAYER_MAX_CONCURRENT_SESSIONS: '1'}, 30_000)
    const first = await call('launchSession', {query: '[fake:slow=60000] holds the slot', working_dir: sandbox.root})
    const second = await call('launchSession', {query: 'waits its turn', working_dir: sandbox.root})
    expect(await call('getSessionState', {session_id: second.session_id})).to.have.nested.property('session.status', 'queued')
    expect(await call('interruptSession', {session_id: second.session_id})).to.include({status: 'interrupted'})
    await call('interruptSession', {session_id: first.session_id})
    await waitFor(
      async () => ((await call('getSessionState', {session_id: first.session_id})).session as {status: string}).status === 'interrupted',
      15_000,
      'the first session to end',
    )
    const state = (await call('getSessionState', {session_id: second.session_id})).session as {status: string; error_message: string}
    expect(state.status).to.equal('interrupted')
    expect(state.error_message).to.match(/before it started/)
    const conversation = (await call('getConversation', {session_id: second.session_id})).events as unknown[]
    expect(conversation, 'only the query: claude never ran').to.have.length(1)
  })

  it('five pending approvals with 9 MB inputs: approvals list still works, capped with a marker; getApproval has each whole', async () => {
    const {connection, call} = await daemonWithConnection()
    const session = await call<{run_id: string}>('launchSession', {query: '[fake:slow=60000] asks a lot', working_dir: sandbox.root})
    const command = `echo ${'x'.repeat(9 * MIB)}`
    const ids: string[] = []
    for (let i = 0; i < 5; i++) {
      ids.push(
        (await call<{approval_id: string}>('createApproval', {run_id: session.run_id, tool_name: 'Bash', tool_input: {command, i}}))
          .approval_id,
      )
    }

    const listed = await connection.request<{result: {approvals: unknown[]}}>(
      {jsonrpc: '2.0', method: 'fetchApprovals', params: {}, id: 2},
      60_000,
    )
    expect(JSON.stringify(listed).length, 'the listing stays small').to.be.below(5 * 200 * 1024)
    const list = listed.result.approvals as {
      id: string
      tool_input_truncated?: boolean
      tool_input: {hld_truncated?: boolean; bytes?: number; message?: string}
    }[]
    expect(list.map((approval) => approval.id).sort()).to.deep.equal([...ids].sort())
    for (const approval of list) {
      expect(approval.tool_input_truncated).to.equal(true)
      expect(approval.tool_input.hld_truncated).to.equal(true)
      expect(approval.tool_input.bytes).to.be.above(9 * MIB)
      expect(approval.tool_input.message).to.match(/getApproval/)
    }
    const whole = await call<{approval: {tool_input: {command: string}; tool_input_truncated?: boolean}}>('getApproval', {
      approval_id: ids[0],
    })
    expect(whole.approval.tool_input.command).to.equal(command)
    expect(whole.approval.tool_input_truncated).to.equal(undefined)
  })

  it('120 pending approvals as large as a list shows them (45 MiB in all, over the 40 MiB a client reads): approvals list shows every one', async () => {
    const {connection, call} = await daemonWithConnection()
    const session = await call<{run_id: string}>('launchSession', {query: '[fake:slow=60000] asks a lot', working_dir: sandbox.root})
    // Just over the 64 Ki characters a list keeps of each, in a 3-byte character: ~400 KiB listed per approval.
    const big = '€'.repeat(70_000)
    const ids: string[] = []
    for (let i = 0; i < 120; i++) {
      const params = {run_id: session.run_id, tool_name: `Bash${big}`, tool_input: {command: big, i}}
      ids.push((await call<{approval_id: string}>('createApproval', params)).approval_id)
    }

    // Before: ReplyTooLargeError "sent a reply of 45.4 MiB, over this client's limit of 40 MiB", and no approval shown.
    const listed = await sandbox.cli(['approvals', 'list', '--json'], {timeoutMs: 60_000})
    expect(listed.exitCode, listed.stderr.slice(0, 2000)).to.equal(0)
    expect(Buffer.byteLength(listed.stdout), 'more than one reply could carry').to.be.above(40 * MIB)
    const approvals = Sandbox.json<{approvals: {id: string; tool_input_truncated?: boolean}[]}>(listed).approvals
    expect(approvals.map((approval) => approval.id)).to.deep.equal(ids)
    expect(approvals.every((approval) => approval.tool_input_truncated)).to.equal(true)
    // The table too, one row each.
    const table = await sandbox.cli(['approvals', 'list'], {timeoutMs: 60_000})
    expect(table.exitCode, table.stderr.slice(0, 2000)).to.equal(0)
    expect(ids.filter((id) => table.stdout.includes(id.slice('local-'.length, 'local-'.length + 8)))).to.have.length(120)
    // One reply stays far below the limit, and says where the rest is.
    const first = await connection.request<{result: {approvals: unknown[]; next_cursor?: string}}>(
      {jsonrpc: '2.0', method: 'fetchApprovals', params: {}, id: 2},
      60_000,
    )
    expect(first.result.next_cursor).to.be.a('string')
    expect(first.result.approvals.length).to.be.within(1, 119)
  })
})
