/** The policy tables' queries: sessions' own rules and the audit log. */
import {and, asc, desc, eq, gte, like} from 'drizzle-orm'

import type {Db} from '../store/index.js'
import {auditEntries, type AuditRow, sessionPolicies, type SessionPolicyRow} from '../store/schema/policy.js'

/** An audit row keeps at most this much of a tool input; the approval (if any) has it all. */
export const AUDIT_INPUT_CAP = 64 * 1024

export class PolicyRepository {
  constructor(private readonly db: Db) {}

  insertSession(row: SessionPolicyRow): void {
    this.db.insert(sessionPolicies).values(row).onConflictDoNothing().run()
  }

  sessionByRunId(runId: string): SessionPolicyRow | undefined {
    return this.db.select().from(sessionPolicies).where(eq(sessionPolicies.runId, runId)).get()
  }

  /** By id or unique prefix; throws the ambiguity to the caller as a list. */
  sessionsByIdPrefix(prefix: string): SessionPolicyRow[] {
    const exact = this.db.select().from(sessionPolicies).where(eq(sessionPolicies.sessionId, prefix)).get()
    if (exact) return [exact]
    const escaped = prefix.replace(/[\\%_]/g, (ch) => `\\${ch}`)
    return this.db
      .select()
      .from(sessionPolicies)
      .where(like(sessionPolicies.sessionId, `${escaped}%`))
      .limit(5)
      .all()
  }

  insertAudit(row: Omit<AuditRow, 'id' | 'toolInput'> & {toolInput: unknown}): void {
    this.db.insert(auditEntries).values({...row, toolInput: capJson(row.toolInput)}).run()
  }

  /** Newest `limit` entries, returned oldest first. */
  audit(filter: {sessionId?: string; sinceMs?: number; limit: number}): AuditRow[] {
    const conditions = [
      filter.sessionId === undefined ? undefined : eq(auditEntries.sessionId, filter.sessionId),
      filter.sinceMs === undefined ? undefined : gte(auditEntries.decidedAt, filter.sinceMs),
    ].filter((c) => c !== undefined)
    const rows = this.db
      .select()
      .from(auditEntries)
      .where(conditions.length ? and(...conditions) : undefined)
      .orderBy(desc(auditEntries.decidedAt), desc(auditEntries.id))
      .limit(filter.limit)
      .all()
    return rows.reverse()
  }

  auditOldestFirst(filter: {sinceMs?: number; sessionId?: string}): AuditRow[] {
    return this.db
      .select()
      .from(auditEntries)
      .where(
        and(
          filter.sinceMs === undefined ? undefined : gte(auditEntries.decidedAt, filter.sinceMs),
          filter.sessionId === undefined ? undefined : eq(auditEntries.sessionId, filter.sessionId),
        ),
      )
      .orderBy(asc(auditEntries.id))
      .all()
  }
}

/** JSON text of a value, cut at the cap with a visible marker (then no longer valid JSON: it is stored as a string). */
export function capJson(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null'
  if (text.length <= AUDIT_INPUT_CAP) return text
  return JSON.stringify(`${text.slice(0, AUDIT_INPUT_CAP)}… [truncated: ${text.length} characters in all]`)
}
