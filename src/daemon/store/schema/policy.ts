/** The policy engine's tables: each session's own rules, and the audit of every decision. */
import {index, integer, sqliteTable, text} from 'drizzle-orm/sqlite-core'

/**
 * What a session was launched with (`--allow/--deny/--ask`, `--approval-timeout`,
 * `--on-timeout`), kept so a continued session inherits it and a restarted daemon still knows it.
 * Not a foreign key to sessions, for the same reason as approvals (stand-in sessions in tests).
 */
export const sessionPolicies = sqliteTable('session_policies', {
  sessionId: text('session_id').primaryKey(),
  runId: text('run_id').notNull().unique(),
  workingDir: text('working_dir').notNull(),
  /** `[{rule, effect, source}]` in the order given. */
  rules: text('rules', {mode: 'json'}).notNull().$type<Array<{rule: string; effect: 'allow' | 'ask' | 'deny'; source: string}>>(),
  approvalTimeoutMs: integer('approval_timeout_ms'),
  onTimeout: text('on_timeout', {enum: ['allow', 'deny']}),
  /** false: an ask falls back to claude's own default (the session runs without approvals). */
  approvalsEnabled: integer('approvals_enabled', {mode: 'boolean'}).notNull(),
  /** `--dangerously-allow-self-approval`: the built-in rules are off for this session. */
  allowSelfApproval: integer('allow_self_approval', {mode: 'boolean'}).notNull().default(false),
  createdAt: integer('created_at', {mode: 'number'}).notNull(),
})

/** Every decision on every tool call the hook asked about, with who or what made it. */
export const auditEntries = sqliteTable(
  'audit_entries',
  {
    id: integer('id').primaryKey({autoIncrement: true}),
    sessionId: text('session_id'),
    runId: text('run_id').notNull(),
    toolUseId: text('tool_use_id'),
    toolName: text('tool_name').notNull(),
    /** JSON, capped (see AUDIT_INPUT_CAP): an audit row must not carry a 10 MB Write. */
    toolInput: text('tool_input').notNull(),
    decision: text('decision', {enum: ['allow', 'deny', 'ask']}).notNull(),
    /** policy | human | timeout | cloud | error */
    decidedBy: text('decided_by').notNull(),
    /** The rule's text (policy), or null. */
    rule: text('rule'),
    /** Where the rule came from, or the human's channel. */
    source: text('source'),
    /** A human decision's provenance (uid, pid, command, channel) as JSON, when known. */
    provenance: text('provenance'),
    approvalId: text('approval_id'),
    reason: text('reason'),
    decidedAt: integer('decided_at', {mode: 'number'}).notNull(),
    latencyMs: integer('latency_ms').notNull(),
  },
  (table) => [index('audit_session_idx').on(table.sessionId, table.decidedAt), index('audit_decided_at_idx').on(table.decidedAt)],
)

export type SessionPolicyRow = typeof sessionPolicies.$inferSelect
export type AuditRow = typeof auditEntries.$inferSelect
