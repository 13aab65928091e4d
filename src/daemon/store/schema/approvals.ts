import {sql} from 'drizzle-orm'
import {index, integer, sqliteTable, text} from 'drizzle-orm/sqlite-core'

/**
 * Local approvals (from `hld mcp claude-approvals`) and cloud ones (polled from the HumanLayer
 * API) in one table. `session_id` is null for a cloud item whose run_id matches no session.
 * It is not a foreign key: in-process tests and the bench give approvals a stand-in sessions
 * service, and session rows are never deleted, so no id dangles.
 */
export const approvals = sqliteTable(
  'approvals',
  {
    /** `local-<uuid>`, or the cloud `call_id`. */
    id: text('id').primaryKey(),
    source: text('source', {enum: ['local', 'cloud']}).notNull(),
    type: text('type', {enum: ['function_call', 'human_contact']}).notNull(),
    runId: text('run_id').notNull(),
    sessionId: text('session_id'),
    toolUseId: text('tool_use_id'),
    /** Tool name (local) or `spec.fn` (cloud); null for a human contact. */
    toolName: text('tool_name'),
    /** Tool input or `spec.kwargs`, as JSON text. */
    toolInput: text('tool_input'),
    /** A human contact's question. */
    message: text('message'),
    status: text('status', {enum: ['pending', 'approved', 'denied', 'responded', 'resolved_externally', 'expired', 'timed_out']}).notNull(),
    /** The reviewer's comment, a human contact's response, or why it expired. */
    comment: text('comment'),
    createdAt: integer('created_at', {mode: 'number'}).notNull(),
    decidedAt: integer('decided_at', {mode: 'number'}),
    /** Who decided, as DecisionProvenance JSON; null while pending, once expired, and for rows from before it was kept. */
    decidedBy: text('decided_by'),
  },
  (table) => [
    index('approvals_run_id_idx').on(table.runId),
    index('approvals_session_idx').on(table.sessionId, table.createdAt),
    // Small however large the table grows: what fetchApprovals and the reconcilers read.
    index('approvals_pending_idx')
      .on(table.createdAt)
      .where(sql`status = 'pending'`),
    // A session's pending approvals (counted at every decision), without reading its decided ones.
    index('approvals_session_pending_idx')
      .on(table.sessionId)
      .where(sql`status = 'pending'`),
    index('approvals_tool_use_id_idx')
      .on(table.toolUseId)
      .where(sql`tool_use_id IS NOT NULL`),
  ],
)

export type ApprovalRow = typeof approvals.$inferSelect
