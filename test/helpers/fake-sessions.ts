/**
 * An in-memory stand-in for the sessions service as approvals see it (SessionLink): it keeps a
 * few sessions, moves running ⇄ waiting_input like the real one, and records every call.
 */
import type {EventBus} from '../../src/daemon/bus/index.js'
import {type SessionLink, type SessionRef, TERMINAL_SESSION_STATUSES} from '../../src/daemon/approvals/session-link.js'
import type {ToolCallApprovalStatus} from '../../src/protocol/sessions.js'

export interface MarkCall {
  session_id: string
  match: {tool_use_id?: string; tool_name: string}
  approval: {approval_id: string; approval_status: ToolCallApprovalStatus}
}

export class FakeSessions implements SessionLink {
  readonly sessions = new Map<string, SessionRef>()
  readonly waitingCalls: {session_id: string; waiting: boolean}[] = []
  readonly marks: MarkCall[] = []
  /** Set after construction when the daemon's bus is only known then. */
  bus: EventBus | undefined

  constructor(bus?: EventBus) {
    this.bus = bus
  }

  add(session: Partial<SessionRef> & {id: string}): SessionRef {
    const ref: SessionRef = {run_id: `run-${session.id}`, title: null, summary: `query of ${session.id}`, status: 'running', ...session}
    this.sessions.set(ref.id, ref)
    return ref
  }

  /** Ends a session as the sessions service does: status, then a session_status_changed event. */
  end(id: string, status: 'completed' | 'failed' | 'interrupted'): void {
    const session = this.sessions.get(id)!
    const old = session.status
    session.status = status
    this.bus?.publish({type: 'session_status_changed', data: {session_id: id, run_id: session.run_id, old_status: old, new_status: status}})
  }

  findByRunId(runId: string): SessionRef | undefined {
    return [...this.sessions.values()].find((s) => s.run_id === runId)
  }

  findById(sessionId: string): SessionRef | undefined {
    return this.sessions.get(sessionId)
  }

  setWaitingForApproval(sessionId: string, waiting: boolean): void {
    this.waitingCalls.push({session_id: sessionId, waiting})
    const session = this.sessions.get(sessionId)
    if (!session || TERMINAL_SESSION_STATUSES.has(session.status)) return
    session.status = waiting ? 'waiting_input' : 'running'
  }

  markToolCallApproval(sessionId: string, match: MarkCall['match'], approval: MarkCall['approval']): void {
    this.marks.push({session_id: sessionId, match, approval})
  }
}
