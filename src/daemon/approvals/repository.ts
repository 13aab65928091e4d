/**
 * The approvals table's queries. Everything here is synchronous, one SQLite statement each;
 * the frequent ones are prepared once, because building a drizzle query costs more than
 * running it.
 */
import {and, asc, desc, eq, getTableColumns, lt, ne, or, sql} from 'drizzle-orm'

import type {ApprovalStatus, DecisionProvenance} from '../../protocol/approvals.js'
import type {Db} from '../store/index.js'
import {columnKeys, placeholdersFor} from '../store/placeholders.js'
import {idsWithPrefix} from '../store/prefix.js'
import {approvals, type ApprovalRow} from '../store/schema/approvals.js'
import {preparedOnFirstUse} from '../store/prepared.js'

// A literal, not a bound value: the partial indexes are built with this very term, and a bound
// value compared with it makes SQLite prepare the statement again at every run.
const pendingStatus = sql`${approvals.status} = 'pending'`

/** Where a decided approval is in the newest-first order. */
export interface DecidedPosition {
  createdAt: number
  rowid: number
}

export class ApprovalRepository {
  private readonly byId
  private readonly pendingAll
  private readonly insertRow
  private readonly insertNew
  private readonly finish
  private readonly countPendingOf
  private readonly byToolUse

  constructor(private readonly db: Db) {
    this.byId = preparedOnFirstUse(() =>
      db
        .select()
        .from(approvals)
        .where(eq(approvals.id, sql.placeholder('id')))
        .prepare(),
    )
    // rowid breaks ties in insertion order; the partial index carries it, so no sort step.
    this.pendingAll = preparedOnFirstUse(() =>
      db
        .select()
        .from(approvals)
        .where(pendingStatus)
        .orderBy(asc(approvals.createdAt), asc(sql`rowid`))
        .prepare(),
    )
    // Every column from the row's value of the same key. Bound as is: every column here is text
    // or a number, so a row's values are already what the driver stores.
    const everyColumn = placeholdersFor(columnKeys(getTableColumns(approvals)))
    this.insertRow = preparedOnFirstUse(() => db.insert(approvals).values(everyColumn).prepare())
    this.insertNew = preparedOnFirstUse(() => db.insert(approvals).values(everyColumn).onConflictDoNothing().prepare())
    this.finish = preparedOnFirstUse(() =>
      db
        .update(approvals)
        .set(placeholdersFor(['status', 'comment', 'decidedAt', 'decidedBy']))
        .where(and(eq(approvals.id, sql.placeholder('id')), pendingStatus))
        .prepare(),
    )
    this.countPendingOf = preparedOnFirstUse(() =>
      db
        .select({n: sql<number>`count(*)`})
        .from(approvals)
        .where(and(eq(approvals.sessionId, sql.placeholder('session')), pendingStatus))
        .prepare(),
    )
    // The oldest: `get` takes the first row. No LIMIT: a bound one makes SQLite prepare the
    // statement again at every run (see CONTRIBUTING.md, Queries).
    this.byToolUse = preparedOnFirstUse(() =>
      db
        .select()
        .from(approvals)
        .where(and(eq(approvals.toolUseId, sql.placeholder('toolUse')), eq(approvals.sessionId, sql.placeholder('session'))))
        .orderBy(asc(approvals.createdAt))
        .prepare(),
    )
  }

  insert(row: ApprovalRow): void {
    this.insertRow.run(row)
  }

  /** Inserts unless the id exists; true when inserted. */
  insertIfNew(row: ApprovalRow): boolean {
    return this.insertNew.run(row).changes === 1
  }

  get(id: string): ApprovalRow | undefined {
    return this.byId.get({id})
  }

  /** Up to `limit` ids that start with `prefix`, in id order. */
  idsWithPrefix(prefix: string, limit: number): string[] {
    return idsWithPrefix(this.db, approvals, approvals.id, prefix, limit)
  }

  /** Every pending approval, oldest first, or one session's. */
  pending(sessionId?: string): ApprovalRow[] {
    const rows = this.pendingAll.all()
    return sessionId === undefined ? rows : rows.filter((row) => row.sessionId === sessionId)
  }

  /**
   * Decided approvals, newest first (rowid, the insertion order, breaks ties), after `before`
   * when given: a position in that order, for the next page of a list.
   */
  decided(limit: number, sessionId?: string, before?: DecidedPosition): (ApprovalRow & DecidedPosition)[] {
    const rowid = sql<number>`rowid`
    return this.db
      .select({...getTableColumns(approvals), rowid})
      .from(approvals)
      .where(
        and(
          ne(approvals.status, 'pending'),
          sessionId === undefined ? undefined : eq(approvals.sessionId, sessionId),
          before === undefined
            ? undefined
            : or(lt(approvals.createdAt, before.createdAt), and(eq(approvals.createdAt, before.createdAt), lt(rowid, before.rowid))),
        ),
      )
      .orderBy(desc(approvals.createdAt), desc(rowid))
      .limit(limit)
      .all()
  }

  /** The approval a session already has for one tool call, if any (hook and MCP server ask for the same call). */
  findByToolUse(sessionId: string, toolUseId: string): ApprovalRow | undefined {
    return this.byToolUse.get({toolUse: toolUseId, session: sessionId})
  }

  pendingCloudIds(): string[] {
    return this.db
      .select({id: approvals.id})
      .from(approvals)
      .where(and(pendingStatus, eq(approvals.source, 'cloud')))
      .all()
      .map((row) => row.id)
  }

  countPending(sessionId: string): number {
    return this.countPendingOf.get({session: sessionId})?.n ?? 0
  }

  /**
   * Ends a pending approval; false when it was no longer pending. The `status = 'pending'`
   * guard is what makes exactly one of two racing decisions win.
   */
  decide(id: string, status: Exclude<ApprovalStatus, 'pending'>, comment: string | null, at: number, by?: DecisionProvenance): boolean {
    const decidedBy = by === undefined ? null : JSON.stringify(by)
    return this.finish.run({id, status, comment, decidedAt: at, decidedBy}).changes === 1
  }
}
