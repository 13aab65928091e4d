import {TERMINAL_STATUSES, type ToolCallApprovalStatus} from '../../protocol/sessions.js'

/**
 * What approvals need from sessions, and nothing more. The sessions service satisfies it
 * structurally; tests pass a double.
 */
export interface SessionRef {
  id: string
  run_id: string
  title: string | null
  summary: string
  status: string
}

/** A session setting that approves without asking; `setting` becomes the decision's provenance rule. */
export interface AutoApproval {
  setting: 'dangerously_skip_permissions' | 'auto_accept_edits'
  comment: string
}

export interface SessionLink {
  findByRunId(runId: string): SessionRef | undefined
  findById(sessionId: string): SessionRef | undefined
  /**
   * Pending approvals appeared (true) or all were decided (false): running ⇄ waiting_input
   * only; terminal sessions are left alone. Publishes session_status_changed.
   */
  setWaitingForApproval(sessionId: string, waiting: boolean): void
  /**
   * Marks the tool_call conversation event: the event already carrying this approval_id when
   * there is one (a decision after the pending mark), else by tool_use_id when given, else the
   * newest open tool_call of tool_name without an approval.
   */
  markToolCallApproval(
    sessionId: string,
    match: {tool_use_id?: string; tool_name: string},
    approval: {approval_id: string; approval_status: ToolCallApprovalStatus},
  ): void
}

/** Statuses after which a session never asks for (or waits on) an approval again; a set of strings, as events carry them. */
export const TERMINAL_SESSION_STATUSES: ReadonlySet<string> = new Set(TERMINAL_STATUSES)
