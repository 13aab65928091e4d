import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {MemoryBus} from '../../../../src/daemon/bus/index.js'
import {createLogger} from '../../../../src/shared/logger.js'
import {SessionRepository} from '../../../../src/daemon/sessions/repository.js'
import {SessionService} from '../../../../src/daemon/sessions/service.js'
import {type Store, openStore} from '../../../../src/daemon/store/index.js'
import type {DaemonEvent} from '../../../../src/protocol/events.js'
import {ErrorCode, RpcError} from '../../../../src/protocol/errors.js'
import {waitFor} from '../../../helpers/sandbox.js'
import {rejected} from '../../../helpers/rpc.js'
import {FAKE_CLAUDE} from '../../../helpers/sessions.js'

describe('SessionService', () => {
  let store: Store
  let service: SessionService
  let repo: SessionRepository
  let events: DaemonEvent[]
  let dir: string
  let bus: MemoryBus

  beforeEach(() => {
    store = openStore(':memory:')
    bus = new MemoryBus()
    events = []
    bus.subscribe((event) => events.push(event))
    dir = mkdtempSync(path.join(os.tmpdir(), 'hld-svc-'))
    service = new SessionService({
      outputDir: path.join(os.tmpdir(), `hld-test-sessions-${process.pid}`),
      store,
      bus,
      log: createLogger('error', {kind: 'none'}),
      socketPath: path.join(dir, 'd.sock'),
      stopTimeoutMs: 1000,
      locateClaude: () => ({available: true, path: FAKE_CLAUDE}),
    })
    repo = new SessionRepository(store)
  })

  afterEach(async () => {
    await service.stop()
    store.close()
    rmSync(dir, {recursive: true, force: true})
  })

  function insertSession(id: string, runId = `run-${id}`): void {
    const now = new Date()
    repo.insert({id, runId, status: 'completed', query: 'q', summary: 'q', workingDir: dir, createdAt: now, lastActivityAt: now})
  }

  function toolCall(sessionId: string, sequence: number, toolId: string, toolName = 'Bash'): void {
    repo.insertEvent(
      sessionId,
      'claude-1',
      sequence,
      {event_type: 'tool_call', role: 'assistant', tool_id: toolId, tool_name: toolName, tool_input: {}},
      Date.now(),
    )
  }

  const approvals = (sessionId: string) =>
    service.conversation({session_id: sessionId}).events.map((e) => [e.tool_id, e.approval_id ?? null, e.approval_status ?? null])

  it('resolves a full id or a unique prefix; an ambiguous or unknown one is a clear error', async () => {
    insertSession('abc-111')
    insertSession('abc-222')
    expect(service.resolve('abc-111').id).to.equal('abc-111')
    expect(service.resolve('abc-2').id).to.equal('abc-222')
    const ambiguous = await rejected(() => service.resolve('abc'))
    expect(ambiguous.code).to.equal(ErrorCode.InvalidParams)
    expect(ambiguous.message).to.match(/abc is ambiguous.*abc-111, abc-222/)
    expect(ambiguous.data).to.deep.equal({candidates: ['abc-111', 'abc-222']})
    expect(() => service.resolve('zzz')).to.throw(RpcError, /No session has the id zzz/)
    // LIKE wildcards in a prefix are literal.
    expect(() => service.resolve('%')).to.throw(RpcError, /No session has the id %/)
  })

  it('finds sessions by run id and id, for approvals', () => {
    insertSession('s-1', 'run-x')
    expect(service.findByRunId('run-x')).to.deep.equal({id: 's-1', run_id: 'run-x', title: null, summary: 'q', status: 'completed'})
    expect(service.findById('s-1')?.run_id).to.equal('run-x')
    expect(service.findByRunId('nope')).to.equal(undefined)
  })

  it('marks the tool call of an approval by tool_use_id, by name, and again by approval id', () => {
    insertSession('s-1')
    toolCall('s-1', 1, 'toolu_a')
    toolCall('s-1', 2, 'toolu_b')
    toolCall('s-1', 3, 'toolu_c', 'Write')
    service.markToolCallApproval('s-1', {tool_use_id: 'toolu_a', tool_name: 'Bash'}, {approval_id: 'ap-1', approval_status: 'pending'})
    // By name: the newest unfinished Bash call with no approval yet.
    service.markToolCallApproval('s-1', {tool_name: 'Bash'}, {approval_id: 'ap-2', approval_status: 'pending'})
    expect(approvals('s-1')).to.deep.equal([
      ['toolu_a', 'ap-1', 'pending'],
      ['toolu_b', 'ap-2', 'pending'],
      ['toolu_c', null, null],
    ])
    service.markToolCallApproval('s-1', {tool_name: 'Bash'}, {approval_id: 'ap-1', approval_status: 'approved'})
    expect(approvals('s-1')[0]).to.deep.equal(['toolu_a', 'ap-1', 'approved'])
  })

  it('moves a live session between running and waiting_input, publishing each change and the final status', async () => {
    const {session_id} = await service.launch({query: 'wait [fake:slow=60000]', working_dir: dir})
    expect(service.state(session_id).status).to.equal('running')
    await waitFor(() => events.some((e) => e.type === 'conversation_updated'), 10_000, 'the first conversation event')
    service.setWaitingForApproval(session_id, true)
    expect(service.state(session_id).status).to.equal('waiting_input')
    service.setWaitingForApproval(session_id, false)
    service.setWaitingForApproval(session_id, true)
    service.interrupt(session_id)
    await waitFor(() => service.state(session_id).status === 'interrupted')
    // A finished session is left alone.
    service.setWaitingForApproval(session_id, false)
    const transitions = events
      .filter((e) => e.type === 'session_status_changed')
      .map((e) => (e.type === 'session_status_changed' ? `${e.data.old_status}>${e.data.new_status}` : ''))
    expect(transitions).to.deep.equal([
      'starting>running',
      'running>waiting_input',
      'waiting_input>running',
      'running>waiting_input',
      'waiting_input>interrupting',
      'interrupting>interrupted',
    ])
    const update = events.find((e) => e.type === 'conversation_updated')
    expect(update?.data).to.include({session_id, event_type: 'message', content_type: 'text', role: 'assistant', content: 'Working on it…'})
  })

  it("starts claude only once the write that stores the session's row has committed, also with no MCP config to write", async () => {
    // The children of this process's threads: a claude started inside the write would be among them.
    const children = () =>
      new Set(
        readdirSync('/proc/self/task').flatMap((tid) => readFileSync(`/proc/self/task/${tid}/children`, 'utf8').split(' ').filter(Boolean)),
      )
    const before = children()
    let startedInside: string[] = []
    // As the router runs a launch request: inside a write, which commits when the work first awaits.
    const launched = await store.write(() => {
      const launch = service.launch({query: 'fine', working_dir: dir, disable_approvals: true})
      expect(store.sqlite.inTransaction).to.equal(true)
      startedInside = [...children()].filter((pid) => !before.has(pid))
      return launch
    })
    expect(startedInside, 'claude started before the row was committed').to.deep.equal([])
    await waitFor(() => service.state(launched.session_id).status === 'completed', 10_000, 'the session to complete')
  })

  it('a subscriber that throws does not disturb a session', async () => {
    bus.subscribe(() => {
      throw new Error('subscriber bug')
    })
    const {session_id} = await service.launch({query: 'fine', working_dir: dir})
    await waitFor(() => service.state(session_id).status === 'completed', 10_000, 'the session to complete')
    expect(service.conversation({session_id}).events).to.have.length(2)
  })

  it('kills and fails a session whose output can no longer be stored', async () => {
    const {session_id} = await service.launch({query: 'flood [fake:events=200000]', working_dir: dir})
    await waitFor(() => events.some((e) => e.type === 'conversation_updated'), 10_000, 'the first conversation event')
    store.sqlite.exec('DROP TABLE raw_events')
    await waitFor(() => service.state(session_id).status === 'failed', 10_000, 'the session to fail')
    expect(service.state(session_id).error_message).to.match(
      /^hld could not store claude's output, so it stopped the session: .*raw_events/,
    )
  })
})
