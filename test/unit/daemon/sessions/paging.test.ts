import os from 'node:os'
import path from 'node:path'
import {expect} from 'chai'

import {MemoryBus} from '../../../../src/daemon/bus/index.js'
import {createLogger} from '../../../../src/shared/logger.js'
import {SessionRepository} from '../../../../src/daemon/sessions/repository.js'
import {SessionService} from '../../../../src/daemon/sessions/service.js'
import {type Store, openStore} from '../../../../src/daemon/store/index.js'
import {ListSessionsParams} from '../../../../src/protocol/sessions.schema.js'
import {FAKE_CLAUDE} from '../../../helpers/sessions.js'

/** listSessions and getConversation pages (ours, beyond hld): windows counted from the newest. */
describe('SessionService paging', () => {
  let store: Store
  let repo: SessionRepository
  let service: SessionService

  beforeEach(() => {
    store = openStore(':memory:')
    repo = new SessionRepository(store)
    service = new SessionService({
      outputDir: path.join(os.tmpdir(), `hld-test-sessions-${process.pid}`),
      store,
      bus: new MemoryBus(),
      log: createLogger('error', {kind: 'none'}),
      socketPath: '/nonexistent/d.sock',
      stopTimeoutMs: 1000,
      locateClaude: () => ({available: true, path: FAKE_CLAUDE}),
    })
  })

  afterEach(async () => {
    await service.stop()
    store.close()
  })

  /** Session `s<i>` created at second i; `events` conversation events numbered from 1. */
  function session(i: number, opts: {status?: string; parent?: string; events?: number} = {}): string {
    const id = `s${i}`
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i))
    repo.insert({
      id,
      runId: `run-${id}`,
      claudeSessionId: `claude-${id}`,
      parentSessionId: opts.parent,
      status: opts.status ?? 'completed',
      query: 'q',
      summary: 'q',
      workingDir: '/tmp',
      createdAt: at,
      lastActivityAt: at,
    })
    for (let n = 1; n <= (opts.events ?? 0); n++)
      repo.insertEvent(id, `claude-${id}`, n, {event_type: 'message', role: 'assistant', content: `${id}#${n}`}, at.getTime())
    return id
  }

  it('lists every session oldest first without a page, as hld does, and no total', () => {
    for (let i = 0; i < 5; i++) session(i)
    const result = service.list({})
    expect(result.sessions.map((s) => s.id)).to.deep.equal(['s0', 's1', 's2', 's3', 's4'])
    expect(result).not.to.have.property('total')
  })

  it('a page is a window of the newest, still oldest first, with the total; a status filters both', () => {
    for (let i = 0; i < 6; i++) session(i, {status: i % 2 === 0 ? 'completed' : 'failed'})
    expect(service.list({limit: 2})).to.deep.include({total: 6})
    expect(service.list({limit: 2}).sessions.map((s) => s.id)).to.deep.equal(['s4', 's5'])
    expect(service.list({limit: 2, offset: 1}).sessions.map((s) => s.id)).to.deep.equal(['s3', 's4'])
    expect(service.list({offset: 4}).sessions.map((s) => s.id)).to.deep.equal(['s0', 's1'])
    expect(service.list({limit: 10, offset: 6}).sessions).to.deep.equal([])
    const failed = service.list({status: 'failed', limit: 2})
    expect([failed.sessions.map((s) => s.id), failed.total]).to.deep.equal([['s3', 's5'], 3])
  })

  it('refuses a limit that is not a positive integer, or a negative offset', () => {
    for (const params of [{limit: 0}, {limit: 1.5}, {offset: -1}, {limit: '5'}])
      expect(ListSessionsParams.safeParse(params).success, JSON.stringify(params)).to.equal(false)
  })

  it("pages a continued session's conversation across its chain, from the newest event back", () => {
    const parent = session(1, {events: 3})
    const child = session(2, {parent, events: 2})
    const contents = (page: {limit?: number; offset?: number}) => {
      const {events, total} = service.conversation({session_id: child, ...page})
      return [events.map((e) => e.content), total]
    }
    expect(service.conversation({session_id: child}).events.map((e) => e.content)).to.deep.equal(['s1#1', 's1#2', 's1#3', 's2#1', 's2#2'])
    expect(contents({limit: 1})).to.deep.equal([['s2#2'], 5])
    expect(contents({limit: 3})).to.deep.equal([['s1#3', 's2#1', 's2#2'], 5])
    expect(contents({limit: 2, offset: 2})).to.deep.equal([['s1#2', 's1#3'], 5])
    expect(contents({offset: 4})).to.deep.equal([['s1#1'], 5])
    expect(contents({limit: 9, offset: 5})).to.deep.equal([[], 5])
    const byClaude = service.conversation({claude_session_id: 'claude-s1', limit: 2})
    expect([byClaude.events.map((e) => e.content), byClaude.total]).to.deep.equal([['s1#2', 's1#3'], 3])
  })
})
