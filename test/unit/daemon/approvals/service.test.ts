import {readFileSync} from 'node:fs'

import {expect} from 'chai'

import type {CloudFunctionCall, CloudHumanContact, HumanLayerApi} from '../../../../src/daemon/approvals/cloud-api.js'
import {HumanLayerApiError} from '../../../../src/daemon/approvals/cloud-api.js'
import {type Decider, DeciderCheck} from '../../../../src/daemon/approvals/deciders.js'
import {ApprovalService} from '../../../../src/daemon/approvals/service.js'
import {restApproval} from '../../../../src/daemon/http/routes.js'
import {MemoryBus} from '../../../../src/daemon/bus/index.js'
import {createLogger} from '../../../../src/shared/logger.js'
import {openStore, type Store} from '../../../../src/daemon/store/index.js'
import {ErrorCode, RpcError} from '../../../../src/protocol/errors.js'
import type {DaemonEvent} from '../../../../src/protocol/events.js'
import {hasProcFs} from '../../../../src/shared/procfs.js'
import {FakeSessions} from '../../../helpers/fake-sessions.js'
import {rejected} from '../../../helpers/rpc.js'

/** A HumanLayerApi whose answers each test sets; respond calls can be held open. */
class StubApi implements HumanLayerApi {
  functionCalls: CloudFunctionCall[] = []
  humanContacts: CloudHumanContact[] = []
  items = new Map<string, CloudFunctionCall | CloudHumanContact>()
  responds: {callId: string; body: unknown}[] = []
  respondError: Error | undefined
  hold: Promise<void> | undefined

  pendingFunctionCalls(): Promise<CloudFunctionCall[]> {
    return Promise.resolve(this.functionCalls)
  }
  pendingHumanContacts(): Promise<CloudHumanContact[]> {
    return Promise.resolve(this.humanContacts)
  }
  getFunctionCall(callId: string): Promise<CloudFunctionCall> {
    return Promise.resolve(this.get(callId) as CloudFunctionCall)
  }
  getHumanContact(callId: string): Promise<CloudHumanContact> {
    return Promise.resolve(this.get(callId) as CloudHumanContact)
  }
  async respondFunctionCall(callId: string, body: unknown): Promise<void> {
    await this.respond(callId, body)
  }
  async respondHumanContact(callId: string, body: unknown): Promise<void> {
    await this.respond(callId, body)
  }
  private get(callId: string): CloudFunctionCall | CloudHumanContact {
    const item = this.items.get(callId)
    if (!item) throw new HumanLayerApiError(`GET ${callId} answered 404`, 404)
    return item
  }
  private async respond(callId: string, body: unknown): Promise<void> {
    this.responds.push({callId, body})
    await this.hold
    if (this.respondError) throw this.respondError
  }
}

const log = createLogger('error', {kind: 'none'})
/** These tests decide as themselves: a process outside every session. */
const outsider: Decider = {channel: 'rpc', peer: {pid: process.pid, uid: process.getuid!(), gid: process.getgid!()}}
const deciders = new DeciderCheck({sessionProcesses: () => [], log, procfs: hasProcFs()})

describe('ApprovalService', () => {
  let store: Store
  let bus: MemoryBus
  let events: DaemonEvent[]
  let sessions: FakeSessions
  let api: StubApi
  let service: ApprovalService
  const signal = new AbortController().signal

  beforeEach(() => {
    store = openStore(':memory:')
    bus = new MemoryBus()
    events = []
    bus.subscribe((event) => events.push(event))
    sessions = new FakeSessions(bus)
    sessions.add({id: 's1', run_id: 'run-1', title: 'Fix the build'})
    sessions.add({id: 's2', run_id: 'run-2'})
    api = new StubApi()
    service = new ApprovalService({db: store.db, bus, sessions, log, deciders, cloud: api})
    service.start()
  })

  afterEach(() => {
    service.stop()
    store.close()
  })

  const bash = {command: 'touch marker.txt', description: 'Create marker'}

  describe('local approvals', () => {
    it('refuses a run_id no session has, with a not-found error', async () => {
      const error = await rejected(() => service.create({run_id: 'nope', tool_name: 'Bash', tool_input: bash}))
      expect(error.code).to.equal(ErrorCode.NotFound)
      expect(error.message).to.contain('nope')
    })

    it('creates a pending approval: the session waits, its tool call is marked, new_approval is published', () => {
      const {approval_id: id} = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash, tool_use_id: 'toolu_1'})
      expect(id).to.match(/^local-[0-9a-f-]{36}$/)
      const approval = service.get(id)
      expect(approval).to.include({
        status: 'pending',
        source: 'local',
        type: 'function_call',
        session_id: 's1',
        run_id: 'run-1',
        tool_use_id: 'toolu_1',
        tool_name: 'Bash',
        unassociated: false,
      })
      expect(approval.tool_input).to.deep.equal(bash)
      expect(approval.session).to.deep.equal({id: 's1', title: 'Fix the build', summary: 'query of s1', status: 'waiting_input'})
      expect(sessions.findById('s1')!.status).to.equal('waiting_input')
      expect(sessions.marks).to.deep.equal([
        {session_id: 's1', match: {tool_use_id: 'toolu_1', tool_name: 'Bash'}, approval: {approval_id: id, approval_status: 'pending'}},
      ])
      expect(events.map((e) => [e.type, e.data])).to.deep.equal([
        ['new_approval', {approval_id: id, session_id: 's1', run_id: 'run-1', tool_name: 'Bash', source: 'local', type: 'function_call'}],
      ])
    })

    it('approves: stored, tool call marked, approval_resolved published, session back to running once none is pending', async () => {
      const first = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id
      const second = service.create({run_id: 'run-1', tool_name: 'Write', tool_input: {file_path: 'a'}}).approval_id
      const approved = await service.decide({approval_id: first, decision: 'approve', comment: 'ok'}, outsider)
      expect(approved).to.include({status: 'approved', comment: 'ok'})
      expect(approved.decided_at).to.be.a('string')
      // Who decided, as the kernel and /proc name it: this test process.
      const me = {
        channel: 'rpc',
        uid: process.getuid!(),
        pid: process.pid,
        command: readFileSync('/proc/self/cmdline', 'utf8').split('\0').slice(0, -1).join(' '),
      }
      expect(approved.decided_by).to.deep.equal(me)
      expect(sessions.findById('s1')!.status).to.equal('waiting_input')
      await service.decide({approval_id: second, decision: 'deny', comment: 'not that file'}, outsider)
      expect(sessions.findById('s1')!.status).to.equal('running')
      expect(sessions.marks.map((m) => m.approval)).to.deep.include({approval_id: second, approval_status: 'denied'})
      const resolved = events.filter((e) => e.type === 'approval_resolved').map((e) => e.data)
      expect(resolved).to.deep.equal([
        {
          approval_id: first,
          session_id: 's1',
          run_id: 'run-1',
          approved: true,
          response_text: 'ok',
          status: 'approved',
          type: 'function_call',
          decided_by: me,
        },
        {
          approval_id: second,
          session_id: 's1',
          run_id: 'run-1',
          approved: false,
          response_text: 'not that file',
          status: 'denied',
          type: 'function_call',
          decided_by: me,
        },
      ])
    })

    it('answers a second decision with a conflict that names the first', async () => {
      const id = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id
      const results = await Promise.allSettled([
        service.decide({approval_id: id, decision: 'approve'}, outsider),
        service.decide({approval_id: id, decision: 'deny', comment: 'no'}, outsider),
      ])
      expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected'])
      const error = (results[1] as PromiseRejectedResult).reason as RpcError
      expect(error.code).to.equal(ErrorCode.Conflict)
      expect(error.data).to.deep.equal({status: 'approved'})
    })

    it('refuses respond on a function call', async () => {
      const id = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id
      const error = await rejected(service.decide({approval_id: id, decision: 'respond', response: 'hi'}, outsider))
      expect(error.code).to.equal(ErrorCode.InvalidParams)
      expect(service.get(id).status).to.equal('pending')
    })

    it('resolves unique id prefixes, with or without local-, and refuses ambiguous ones', async () => {
      const ids = Array.from({length: 20}, () => service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id)
      const id = ids[0]
      const short = id.slice('local-'.length, 'local-'.length + 12)
      expect(service.get(short).id).to.equal(id)
      expect(service.get(`local-${short}`).id).to.equal(id)
      expect((await rejected(() => service.get('local-'))).code).to.equal(ErrorCode.InvalidParams)
      expect((await rejected(() => service.get('zzz'))).code).to.equal(ErrorCode.NotFound)
    })

    it("fetches all pending approvals, or one session's, with session context; --all adds decided ones", async () => {
      const a = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id
      const b = service.create({run_id: 'run-2', tool_name: 'Bash', tool_input: bash}).approval_id
      const c = service.create({run_id: 'run-2', tool_name: 'Write', tool_input: {}}).approval_id
      await service.decide({approval_id: c, decision: 'approve'}, outsider)
      expect(
        service
          .fetch({})
          .value()
          .approvals.map((x) => x.id),
      ).to.deep.equal([a, b])
      expect(
        service
          .fetch({session_id: 's2'})
          .value()
          .approvals.map((x) => x.id),
      ).to.deep.equal([b])
      expect(
        service
          .fetch({session_id: 's2', include_decided: true})
          .value()
          .approvals.map((x) => x.id),
      ).to.deep.equal([b, c])
      expect(service.fetch({}).value().approvals[1].session).to.include({id: 's2', title: null, summary: 'query of s2'})
      expect((await rejected(() => service.fetch({session_id: 'nope'}))).code).to.equal(ErrorCode.NotFound)
    })

    it('pages a list larger than one reply: pending then decided, each once, the decided limit kept across pages', async () => {
      const ids = Array.from(
        {length: 7},
        (_, i) => service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: {command: `c${i}`}}).approval_id,
      )
      for (const id of ids.slice(0, 4)) await service.decide({approval_id: id, decision: 'approve'}, outsider)
      const sizes = service
        .fetch({include_decided: true, limit: 3})
        .value()
        .approvals.map((a) => Buffer.byteLength(JSON.stringify(a)))
      const pageBytes = 2 * Math.max(...sizes) + 2
      const pages: string[][] = []
      let cursor: string | undefined
      for (let i = 0; i < 20; i++) {
        const reply = service.fetch({include_decided: true, limit: 3, ...(cursor === undefined ? {} : {cursor})}, pageBytes)
        const page = reply.value()
        expect(Buffer.byteLength(reply.json)).to.be.below(pageBytes + 100)
        pages.push(page.approvals.map((a) => a.id))
        cursor = page.next_cursor
        if (cursor === undefined) break
      }
      // Pending oldest first (4, 5, 6), then the 3 newest decided (3, 2, 1), two a page.
      expect(pages.flat()).to.deep.equal([ids[4], ids[5], ids[6], ids[3], ids[2], ids[1]])
      expect(pages.length).to.be.at.least(3)
      // A small list is one page, as before: no next_cursor.
      expect(service.fetch({}).value()).to.not.have.property('next_cursor')
      expect((await rejected(() => service.fetch({cursor: 'x.1'}))).code).to.equal(ErrorCode.InvalidParams)
    })
  })

  describe('timeouts', () => {
    for (const verdict of ['allow', 'deny'] as const) {
      it(`keeps a timeout's verdict (${verdict}) with the approval, and REST shows the outcome Go's enum can say`, () => {
        const id = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id
        expect(service.timeOut(id, verdict, 'No human decided in time.')).to.equal(true)
        const approval = service.get(id)
        expect(approval).to.include({status: 'timed_out'})
        expect(approval.decided_by).to.deep.equal({channel: 'timeout', verdict})
        expect(restApproval(approval)).to.include({status: verdict === 'allow' ? 'approved' : 'denied', hld_status: 'timed_out'})
      })
    }
  })

  describe('waiting for a decision', () => {
    it('wakes the waiter when the decision is stored', async () => {
      const id = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id
      const wait = service.waitForDecision({approval_id: id, timeout_ms: 60_000}, signal)
      expect(service.waiting).to.equal(1)
      await service.decide({approval_id: id, decision: 'approve'}, outsider)
      const result = await wait
      expect(result.decided).to.equal(true)
      expect(result.approval.status).to.equal('approved')
      expect(service.waiting).to.equal(0)
    })

    it('answers "not decided" after the timeout, and frees the waiter when the caller goes away', async () => {
      const id = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id
      expect((await service.waitForDecision({approval_id: id, timeout_ms: 1}, signal)).decided).to.equal(false)
      const gone = new AbortController()
      const wait = service.waitForDecision({approval_id: id, timeout_ms: 60_000}, gone.signal)
      expect(service.waiting).to.equal(1)
      gone.abort()
      expect((await wait).decided).to.equal(false)
      expect(service.waiting).to.equal(0)
    })

    it('expires the approvals of a session that ends, and wakes their waiters', async () => {
      const id = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id
      const other = service.create({run_id: 'run-2', tool_name: 'Bash', tool_input: bash}).approval_id
      const wait = service.waitForDecision({approval_id: id, timeout_ms: 60_000}, signal)
      sessions.end('s1', 'interrupted')
      const result = await wait
      expect(result.approval.status).to.equal('expired')
      expect(result.approval.comment).to.contain('interrupted')
      expect(service.get(other).status).to.equal('pending')
      expect(events.at(-1)).to.deep.include({type: 'approval_resolved'})
      expect(events.at(-1)!.data).to.include({approval_id: id, approved: false, status: 'expired'})
    })

    it('at start, expires pending approvals whose session ended or vanished while the daemon was down', () => {
      const a = service.create({run_id: 'run-1', tool_name: 'Bash', tool_input: bash}).approval_id
      const b = service.create({run_id: 'run-2', tool_name: 'Bash', tool_input: bash}).approval_id
      sessions.add({id: 's3', run_id: 'run-3'})
      const c = service.create({run_id: 'run-3', tool_name: 'Bash', tool_input: bash}).approval_id
      service.stop()
      sessions.sessions.get('s1')!.status = 'failed'
      sessions.sessions.delete('s2')
      const restarted = new ApprovalService({db: store.db, bus, sessions, log, deciders})
      restarted.start()
      expect([a, b, c].map((id) => restarted.get(id).status)).to.deep.equal(['expired', 'expired', 'pending'])
      restarted.stop()
    })
  })

  describe('cloud approvals', () => {
    const call = (id: string, runId: string, approved?: boolean): CloudFunctionCall => ({
      run_id: runId,
      call_id: id,
      spec: {fn: 'Write', kwargs: {file_path: 'notes.txt'}},
      status: {requested_at: '2025-06-02T10:30:00.123456', ...(approved === undefined ? {} : {approved, comment: 'from slack'})},
    })

    it('upserts polled items, tied to a session by run_id or kept unassociated, once each', async () => {
      api.functionCalls = [call('call-a', 'run-1'), call('call-b', 'elsewhere')]
      api.humanContacts = [{run_id: 'run-2', call_id: 'human_call-c', spec: {msg: 'Which database?'}, status: {}}]
      await service.applyCloudSnapshot({functionCalls: api.functionCalls, humanContacts: api.humanContacts}, signal)
      await service.applyCloudSnapshot({functionCalls: api.functionCalls, humanContacts: api.humanContacts}, signal)
      const list = service
        .fetch({})
        .value()
        .approvals.map((a) => [a.id, a.source, a.type, a.session_id, a.unassociated])
      expect(list.sort()).to.deep.equal([
        ['call-a', 'cloud', 'function_call', 's1', false],
        ['call-b', 'cloud', 'function_call', null, true],
        ['human_call-c', 'cloud', 'human_contact', 's2', false],
      ])
      expect(service.get('call-a').created_at).to.equal('2025-06-02T10:30:00.123Z')
      expect(service.get('human_call-c').message).to.equal('Which database?')
      expect(events.filter((e) => e.type === 'new_approval')).to.have.length(3)
      expect(sessions.findById('s1')!.status).to.equal('waiting_input')
      expect(sessions.marks[0]).to.deep.equal({
        session_id: 's1',
        match: {tool_name: 'Write'},
        approval: {approval_id: 'call-a', approval_status: 'pending'},
      })
    })

    it('marks an item answered elsewhere as resolved_externally, but not one merely missing from a page', async () => {
      api.functionCalls = [call('call-a', 'run-1'), call('call-b', 'run-1')]
      await service.applyCloudSnapshot({functionCalls: api.functionCalls, humanContacts: []}, signal)
      api.items.set('call-a', call('call-a', 'run-1', false))
      api.items.set('call-b', call('call-b', 'run-1'))
      await service.applyCloudSnapshot({functionCalls: [], humanContacts: []}, signal)
      const a = service.get('call-a')
      expect(a).to.include({status: 'resolved_externally', comment: 'from slack'})
      expect(a.decided_by).to.deep.equal({channel: 'cloud'})
      expect(service.get('call-b').status).to.equal('pending')
      const resolved = events.find((e) => e.type === 'approval_resolved')!
      expect(resolved.data).to.include({approval_id: 'call-a', resolved_externally: true, approved: false, status: 'resolved_externally'})
      expect(sessions.marks.at(-1)!.approval).to.deep.equal({approval_id: 'call-a', approval_status: 'resolved'})
    })

    it('posts the decision to the API before storing it', async () => {
      api.functionCalls = [call('call-a', 'run-1')]
      await service.applyCloudSnapshot({functionCalls: api.functionCalls, humanContacts: []}, signal)
      let release!: () => void
      api.hold = new Promise((resolve) => (release = resolve))
      const deciding = service.decide({approval_id: 'call-a', decision: 'deny', comment: 'no'}, outsider)
      await new Promise((resolve) => setImmediate(resolve))
      expect(api.responds).to.deep.equal([{callId: 'call-a', body: {approved: false, comment: 'no'}}])
      expect(service.get('call-a').status).to.equal('pending')
      // A poll while the decision is in flight must not call it "answered elsewhere".
      await service.applyCloudSnapshot({functionCalls: [], humanContacts: []}, signal)
      const concurrent = await rejected(service.decide({approval_id: 'call-a', decision: 'approve'}, outsider))
      expect(concurrent.code).to.equal(ErrorCode.Conflict)
      release()
      expect((await deciding).status).to.equal('denied')
      expect(api.responds).to.have.length(1)
    })

    it('turns a 409 into resolved_externally and a conflict error', async () => {
      api.functionCalls = [call('call-a', 'run-1')]
      await service.applyCloudSnapshot({functionCalls: api.functionCalls, humanContacts: []}, signal)
      api.respondError = new HumanLayerApiError('already responded', 409)
      const error = await rejected(service.decide({approval_id: 'call-a', decision: 'approve'}, outsider))
      expect(error.code).to.equal(ErrorCode.Conflict)
      expect(service.get('call-a').status).to.equal('resolved_externally')
      expect(sessions.findById('s1')!.status).to.equal('running')
    })

    it('keeps the approval pending when the API fails, with an upstream error', async () => {
      api.functionCalls = [call('call-a', 'run-1')]
      await service.applyCloudSnapshot({functionCalls: api.functionCalls, humanContacts: []}, signal)
      api.respondError = new HumanLayerApiError('POST answered 500', 500)
      const error = await rejected(service.decide({approval_id: 'call-a', decision: 'approve'}, outsider))
      expect(error.code).to.equal(ErrorCode.UpstreamFailure)
      expect(service.get('call-a').status).to.equal('pending')
    })

    it('answers human contacts with respond only', async () => {
      await service.applyCloudSnapshot(
        {functionCalls: [], humanContacts: [{run_id: 'x', call_id: 'human_call-c', spec: {msg: 'Which?'}}]},
        signal,
      )
      expect((await rejected(service.decide({approval_id: 'human_call-c', decision: 'approve'}, outsider))).code).to.equal(
        ErrorCode.InvalidParams,
      )
      const answered = await service.decide({approval_id: 'human_call-c', decision: 'respond', response: 'staging'}, outsider)
      expect(answered).to.include({status: 'responded', response: 'staging'})
      expect(answered).to.not.have.property('comment')
      expect(api.responds).to.deep.equal([{callId: 'human_call-c', body: {response: 'staging'}}])
    })

    it('cannot decide a cloud approval without an api key', async () => {
      const local = new ApprovalService({db: store.db, bus, sessions, log, deciders})
      await service.applyCloudSnapshot({functionCalls: [call('call-a', 'run-1')], humanContacts: []}, signal)
      const error = await rejected(local.decide({approval_id: 'call-a', decision: 'approve'}, outsider))
      expect(error.code).to.equal(ErrorCode.Unavailable)
      expect(error.message).to.contain('HUMANLAYER_API_KEY')
    })
  })
})
