import type {z} from 'zod'

import {method} from './method.js'
import type * as schema from './policy.schema.js'

export type PolicyVerdict = 'allow' | 'ask' | 'deny'
export type PolicyEffect = PolicyVerdict

/** Who made a decision in the audit: a rule, a human (through any channel), a timeout, or a failure. */
export type DecidedBy = 'policy' | 'human' | 'timeout' | 'cloud' | 'error'

/** The hook's answer for one tool call. `ask` only when the session has approvals off: claude's default applies. */
export interface DecideToolUseResult {
  decision: PolicyVerdict
  /** What the model reads (deny), or why it was allowed. */
  reason: string
  rule: string | null
  source: string
  decided_by: DecidedBy
  approval_id?: string
}

export interface PolicyRuleView {
  rule: string
  effect: PolicyEffect
  /** `built-in`, `policy file <path>`, `launch --deny`, `default`, … */
  source: string
  timeout_ms?: number
  on_timeout?: 'allow' | 'deny'
}

export interface GetPolicyResult {
  /** The policy file the daemon reads, and whether it exists. */
  file: string
  file_exists: boolean
  /** In order of precedence: built-in, then deny, ask, allow rules, then the default. */
  rules: PolicyRuleView[]
  /** The tools the default allows; every other call the default asks about. */
  default_allowed_tools: string[]
  approval_timeout_ms?: number
  on_timeout?: 'allow' | 'deny'
  session_id?: string
}

export interface PolicyPartView {
  command: string
  decision: PolicyVerdict
  rule: string | null
  source: string
}

export interface CheckPolicyResult {
  decision: PolicyVerdict
  rule: string | null
  source: string
  reason: string
  parts?: PolicyPartView[]
  timeout_ms?: number
  on_timeout?: 'allow' | 'deny'
}

export interface AuditEntry {
  id: number
  session_id: string | null
  run_id: string
  tool_use_id?: string
  tool_name: string
  /** Capped: a long input ends with a visible marker. */
  tool_input: unknown
  decision: PolicyVerdict
  decided_by: DecidedBy
  rule: string | null
  source: string | null
  /** A human decision's provenance (channel, uid, pid, command), when it is known. */
  provenance?: unknown
  approval_id?: string
  reason: string | null
  decided_at: string
  latency_ms: number
}

export interface ListAuditResult {
  entries: AuditEntry[]
}

export interface ReplayPolicyResult {
  /** How many recorded calls were judged again. */
  checked: number
  /** The calls whose decision would differ now. */
  changes: Array<{entry: AuditEntry; now: CheckPolicyResult}>
}

/** The PreToolUse hook's question: may this call run? Waits for a human when the policy asks. */
export const DecideToolUse = method<z.input<typeof schema.DecideToolUseParams>, DecideToolUseResult>('decideToolUse')
export const GetPolicy = method<z.input<typeof schema.GetPolicyParams>, GetPolicyResult>('getPolicy')
export const CheckPolicy = method<z.input<typeof schema.CheckPolicyParams>, CheckPolicyResult>('checkPolicy')
export const ListAudit = method<z.input<typeof schema.ListAuditParams>, ListAuditResult>('listAudit')
export const ReplayPolicy = method<z.input<typeof schema.ReplayPolicyParams>, ReplayPolicyResult>('replayPolicy')
