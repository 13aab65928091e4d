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
    const {count, members} = pending.listEncoded(sessionId, new SessionContexts(link))
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
})
