import type {z} from 'zod'

import type * as schema from './approvals.schema.js'
import {method} from './method.js'

export type ApprovalSource = 'local' | 'cloud'
export type ApprovalType = 'function_call' | 'human_contact'
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'responded' | 'resolved_externally' | 'expired' | 'timed_out'
export type Decision = 'approve' | 'deny' | 'respond'

/** How a decision reached the daemon. */
export type DecisionChannel = 'cli' | 'rpc' | 'rest' | 'cloud' | 'policy' | 'timeout' | 'ssh'

/**
 * Who made a decision. `uid`, `pid` and `command` (the process's command line) come from the
 * kernel's record of the connection, never from what the client says; `channel` is how it came:
 * the hld CLI (`cli`), any other socket client (`rpc`), the HumanLayer API (`cloud`, answered
 * in Slack, email or the web app), a session setting or rule (`policy`), no one in time
 * (`timeout`: the approval is `timed_out`, and `verdict` says what that decided), or another
 * machine over ssh (`ssh`: then the kernel's process is `hld daemon dial-stdio` on this machine,
 * `ssh_connection` is its $SSH_CONNECTION, and `user` and `host` are who the CLI on the other
 * machine says it runs as).
 */
export interface DecisionProvenance {
  channel: DecisionChannel
  uid?: number
  pid?: number
  command?: string
  user?: string
  host?: string
  ssh_connection?: string
  /** `policy`: the setting or rule that decided; `timeout`: the ask rule whose timeout it was, if a rule asked. */
  rule?: string
  /** `timeout`: the default verdict that applied (`--on-timeout`). */
  verdict?: 'allow' | 'deny'
}

/** The session an approval belongs to, as much of it as a reviewer needs to decide. */
export interface ApprovalSession {
  id: string
  title: string | null
  summary: string
  status: string
}

/**
 * One approval, local or cloud. hld's local-era keys (`id`, `run_id`, `session_id`,
 * `tool_use_id`, `status`, `created_at`, `responded_at`, `tool_name`, `tool_input`, `comment`)
 * keep their meaning; the rest is ours. As in hld, optional keys are left out when empty.
 */
export interface Approval {
  /** `local-<uuid>` for local approvals, the HumanLayer `call_id` for cloud ones. */
  id: string
  source: ApprovalSource
  type: ApprovalType
  run_id: string
  /** null: no session has this run_id (a cloud item from elsewhere). */
  session_id: string | null
  tool_use_id?: string
  /** The tool (local) or `spec.fn` (cloud function call); absent for a human contact. */
  tool_name?: string
  /**
   * The tool input or `spec.kwargs`; absent for a human contact. Over MAX_LISTED_BYTES of JSON,
   * lists, events and decision replies carry a `TruncatedToolInput` instead (and
   * `tool_input_truncated`); getApproval has it whole.
   */
  tool_input?: unknown
  tool_input_truncated?: true
  /** A human contact's question (`spec.msg`). */
  message?: string
  status: ApprovalStatus
  /** The reviewer's comment (approve/deny), or why the approval ended (expired, timed_out). */
  comment?: string
  /** A human contact's answer. */
  response?: string
  created_at: string
  decided_at?: string
  /** Who decided; absent while pending, for an approval that expired, and for decisions stored before hld recorded it. */
  decided_by?: DecisionProvenance
  /** hld's name for `decided_at`. */
  responded_at?: string
  /** The session's context; null for an unassociated approval (or a session since deleted). */
  session: ApprovalSession | null
  unassociated: boolean
}

/** How much of a tool input (its JSON), a tool name or a message a list or an event carries. */
export const MAX_LISTED_BYTES = 64 * 1024
/** How much of the end of a tool input too large to list is carried with its preview. */
export const TRUNCATED_TAIL_CHARS = 1024

/** What stands in for a tool input too large to list. */
export interface TruncatedToolInput {
  hld_truncated: true
  /** The whole input's size, as JSON. */
  bytes: number
  /** Its JSON's first MAX_LISTED_BYTES characters. */
  preview: string
  /** Its JSON's last TRUNCATED_TAIL_CHARS characters: what a long command ends with stays in sight. */
  tail: string
  /** Its JSON's length in characters (code points): with preview and tail, what a cut leaves out. */
  characters: number
  message: string
}

export interface CreateApprovalResult {
  approval_id: string
}
export interface GetApprovalResult {
  approval: Approval
}
export interface FetchApprovalsResult {
  approvals: Approval[]
  /**
   * Ours: set when more approvals follow than one reply carries (a reply stays far below what a
   * client reads, however large the approvals); pass it as `cursor` for the next page.
   */
  next_cursor?: string
}
export interface SendDecisionResult {
  success: true
  approval: Approval
}
export interface WaitForDecisionResult {
  approval: Approval
  /** false when `timeout_ms` passed while the approval was still pending. */
  decided: boolean
}

export const CreateApproval = method<z.input<typeof schema.CreateApprovalParams>, CreateApprovalResult>('createApproval')
export const GetApproval = method<z.input<typeof schema.GetApprovalParams>, GetApprovalResult>('getApproval')
export const FetchApprovals = method<z.input<typeof schema.FetchApprovalsParams>, FetchApprovalsResult>('fetchApprovals')
export const SendDecision = method<z.input<typeof schema.SendDecisionParams>, SendDecisionResult>('sendDecision')
/**
 * Long-poll: answers once the approval is no longer pending, or after `timeout_ms` with
 * `decided: false`. Meant for a dedicated connection (requests on one connection are answered
 * in order); the MCP server waits on it instead of polling `getApproval`.
 */
export const WaitForDecision = method<z.input<typeof schema.WaitForDecisionParams>, WaitForDecisionResult>('waitForDecision')
