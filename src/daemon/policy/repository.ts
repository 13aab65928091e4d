/**
 * The policy tables' queries: sessions' own rules and the audit log. Those that run on every
 * tool call (the session by run id, the audit insert), on every approval (the session by id) and
 * at every launch (the session's rules) are prepared once.
 */
import {and, asc, desc, eq, getTableColumns, gte, sql} from 'drizzle-orm'

import type {Db} from '../store/index.js'
import {columnKeys, driverValues, placeholdersFor} from '../store/placeholders.js'
import {idsWithPrefix} from '../store/prefix.js'
import {auditEntries, type AuditRow, sessionPolicies, type SessionPolicyRow} from '../store/schema/policy.js'
import {preparedOnFirstUse} from '../store/prepared.js'

/** An audit row keeps at most this much of a tool input; the approval (if any) has it all. */
export const AUDIT_INPUT_CAP = 64 * 1024

const AUDIT_KEYS = columnKeys(getTableColumns(auditEntries)).filter((key) => key !== 'id')
const SESSION_POLICY_COLUMNS = getTableColumns(sessionPolicies)

export class PolicyRepository {
  private readonly byRunId
  private readonly byId
  private readonly insertAuditRow
  /** Runs at every launch (building and preparing it per launch showed in the launch bench). */
  private readonly insertSessionStmt

  constructor(private readonly db: Db) {
    this.byRunId = preparedOnFirstUse(() =>
      db
        .select()
        .from(sessionPolicies)
        .where(eq(sessionPolicies.runId, sql.placeholder('runId')))
        .prepare(),
    )
    this.byId = preparedOnFirstUse(() =>
      db
        .select()
        .from(sessionPolicies)
        .where(eq(sessionPolicies.sessionId, sql.placeholder('sessionId')))
        .prepare(),
    )
    this.insertAuditRow = preparedOnFirstUse(() => db.insert(auditEntries).values(placeholdersFor(AUDIT_KEYS)).prepare())
    this.insertSessionStmt = preparedOnFirstUse(() =>
      db
        .insert(sessionPolicies)
        .values(placeholdersFor(columnKeys(SESSION_POLICY_COLUMNS)))
        .onConflictDoNothing()
        .prepare(),
    )
  }

  insertSession(row: SessionPolicyRow): void {
    this.insertSessionStmt.run(driverValues(SESSION_POLICY_COLUMNS, row))
  }

  sessionByRunId(runId: string): SessionPolicyRow | undefined {
    return this.byRunId.get({runId})
  }

  sessionById(sessionId: string): SessionPolicyRow | undefined {
    return this.byId.get({sessionId})
  }

  /** Up to `limit` ids of sessions with a policy that start with `prefix` (see store/prefix.ts). */
  sessionIdsWithPrefix(prefix: string, limit: number): string[] {
    return idsWithPrefix(this.db, sessionPolicies, sessionPolicies.sessionId, prefix, limit)
  }

  /** Every column is text or a number: bound as is. */
  insertAudit(row: Omit<AuditRow, 'id' | 'toolInput'> & {toolInput: unknown}): void {
    this.insertAuditRow.run({...row, toolInput: capJson(row.toolInput)})
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
