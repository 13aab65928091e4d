import {expect} from 'chai'

import type {SessionLink, SessionRef} from '../../../../src/daemon/approvals/session-link.js'
import {PendingApprovals, SessionContexts} from '../../../../src/daemon/approvals/view.js'
import type {ApprovalRow} from '../../../../src/daemon/store/schema/approvals.js'

/** The cached listing must never show what changed since it was built. */
describe('PendingApprovals', () => {
  const sessions = new Map<string, SessionRef>()
  const link: SessionLink = {
    findById: (id) => sessions.get(id),
    findByRunId: () => undefined,
    setWaitingForApproval: () => {},
    markToolCallApproval: () => {},
  }
  const row = (id: string, sessionId: string | null, createdAt: number): ApprovalRow => ({
    id,
    source: 'local',
    type: 'function_call',
    runId: 'run',
    sessionId,
    toolUseId: null,
    toolName: 'Bash',
    toolInput: '{"command":"ls"}',
    message: null,
    status: 'pending',
    comment: null,
    createdAt,
    decidedAt: null,
    decidedBy: null,
  })
  const list = (pending: PendingApprovals, sessionId?: string) => {
    const {count, members} = pending.listEncoded(sessionId, new SessionContexts(link), undefined, Infinity)
    const approvals = JSON.parse(`[${members}]`) as {id: string; session: {status: string} | null}[]
    expect(approvals).to.have.length(count)
    return approvals.map((a) => `${a.id}:${a.session?.status ?? '-'}`)
  }

  it("follows adds, deletes and session changes, oldest first, all or one session's", () => {
    sessions.set('s1', {id: 's1', run_id: 'r1', title: 't', summary: 'q', status: 'running'})
    const pending = new PendingApprovals()
    pending.add(row('b', 's1', 2))
    pending.add(row('a', null, 1))
    expect(list(pending)).to.deep.equal(['a:-', 'b:running'])
    expect(list(pending)).to.deep.equal(['a:-', 'b:running'])
    sessions.set('s1', {...sessions.get('s1')!, status: 'waiting_input'})
    expect(list(pending)).to.deep.equal(['a:-', 'b:waiting_input'])
    expect(list(pending, 's1')).to.deep.equal(['b:waiting_input'])
    pending.add(row('c', 's1', 3))
    expect(list(pending)).to.deep.equal(['a:-', 'b:waiting_input', 'c:waiting_input'])
    pending.delete('b')
    expect(list(pending)).to.deep.equal(['a:-', 'c:waiting_input'])
    pending.delete('a')
    pending.delete('c')
    expect(list(pending)).to.deep.equal([])
  })

  it('pages by bytes, in creation order, each page after the last one listed, even when that one was decided meanwhile', () => {
    const pending = new PendingApprovals()
    // Three in one millisecond, added out of id order: a page follows the order they came in.
    for (const [id, at] of [
      ['c', 1],
      ['z', 2],
      ['b', 2],
      ['m', 2],
      ['a', 3],
    ] as const)
      pending.add(row(id, null, at))
    const contexts = new SessionContexts(link)
    const one = pending.listEncoded(undefined, contexts, undefined, Infinity)
    const size = Math.ceil(Buffer.byteLength(one.members) / one.count)
    const pages: string[][] = []
    let from
    for (let i = 0; i < 10; i++) {
      const page = pending.listEncoded(undefined, contexts, from, 2 * size + 2)
      pages.push((JSON.parse(`[${page.members}]`) as {id: string}[]).map((a) => a.id))
      if (!page.last) break
      from = page.last
    }
    expect(pages).to.deep.equal([['c', 'z'], ['b', 'm'], ['a']])
    // The last one listed is decided before the next page: that page starts after its time.
    const first = pending.listEncoded(undefined, contexts, undefined, 3 * size + 3)
    pending.delete('b')
    const next = pending.listEncoded(undefined, contexts, first.last, Infinity)
    expect((JSON.parse(`[${next.members}]`) as {id: string}[]).map((a) => a.id)).to.deep.equal(['z', 'm', 'a'])
    // One approval larger than the page still comes, alone.
    expect(pending.listEncoded(undefined, contexts, undefined, 1).count).to.equal(1)
  })
})
