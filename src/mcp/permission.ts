/** What `request_permission` answers, in the exact shape Claude Code validates (reference §6.3). */
import type {Approval} from '../protocol/approvals.js'

export type PermissionAnswer = {behavior: 'allow'; updatedInput: Record<string, unknown>} | {behavior: 'deny'; message: string}

export interface PermissionRequest {
  tool_name: string
  input: Record<string, unknown>
  tool_use_id?: string
}

const DEFAULT_DENY_MESSAGE = 'Request denied by human reviewer'

/**
 * Allow only on an explicit approval, or a timeout whose verdict is allow; anything else (denied,
 * expired, answered elsewhere, a timeout that denies) denies.
 */
export function answerFor(approval: Pick<Approval, 'status' | 'comment' | 'decided_by'>, input: Record<string, unknown>): PermissionAnswer {
  if (approval.status === 'approved') return {behavior: 'allow', updatedInput: input}
  if (approval.status === 'timed_out' && approval.decided_by?.channel === 'timeout' && approval.decided_by.verdict === 'allow') {
    return {behavior: 'allow', updatedInput: input}
  }
  if (approval.status === 'denied') return {behavior: 'deny', message: approval.comment || DEFAULT_DENY_MESSAGE}
  return {behavior: 'deny', message: approval.comment || `The approval ended without a decision (${approval.status}).`}
}

/**
 * How long the MCP server keeps trying to reach what decides (daemon or API) before it gives
 * up with an error. Long enough for a daemon restart or an API outage; never an allow.
 */
export const GIVE_UP_AFTER_MS = 10 * 60_000
