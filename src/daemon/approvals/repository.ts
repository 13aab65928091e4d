/** The approvals table's queries. Everything here is synchronous: one SQLite statement each. */
import {and, asc, desc, eq, gte, lt, ne, sql} from 'drizzle-orm'

import type {ApprovalStatus} from '../../protocol/approvals.js'
import type {Db} from '../store/index.js'
import {approvals, type ApprovalRow} from '../store/schema/approvals.js'

export type NewApprovalRow = typeof approvals.$inferInsert

/** Sorts after every character an id can hold, so `[p, p + END)` is "starts with p". */
const PREFIX_END = '\uFFFF'

export class ApprovalRepository {
  private readonly pendingAll
  private readonly pendingBySession

  constructor(private readonly db: Db) {
    // rowid breaks ties in insertion order; the partial index carries it, so no sort step.
    this.pendingAll = db.select().from(approvals).where(eq(approvals.status, 'pending')).orderBy(asc(approvals.createdAt), asc(sql`rowid`)).prepare()
    this.pendingBySession = db
      .select()
      .from(approvals)
      .where(and(eq(approvals.sessionId, sql.placeholder('session')), eq(approvals.status, 'pending')))
      .orderBy(asc(approvals.createdAt), asc(sql`rowid`))
      .prepare()
  }

  insert(row: NewApprovalRow): void {
    this.db.insert(approvals).values(row).run()
  }

  /** Inserts unless the id exists; true when inserted. */
  insertIfNew(row: NewApprovalRow): boolean {
    return this.db.insert(approvals).values(row).onConflictDoNothing().run().changes === 1
  }

  get(id: string): ApprovalRow | undefined {
    return this.db.select().from(approvals).where(eq(approvals.id, id)).get()
  }

  /** Up to `limit` ids that start with `prefix`, in id order. */
  idsStartingWith(prefix: string, limit: number): string[] {
    return this.db
      .select({id: approvals.id})
      .from(approvals)
      .where(and(gte(approvals.id, prefix), lt(approvals.id, prefix + PREFIX_END)))
      .orderBy(asc(approvals.id))
      .limit(limit)
      .all()
      .map((row) => row.id)
  }

  pending(sessionId?: string): ApprovalRow[] {
    return sessionId === undefined ? this.pendingAll.all() : this.pendingBySession.all({session: sessionId})
  }

  /** Decided approvals, newest first. */
  decided(limit: number, sessionId?: string): ApprovalRow[] {
    const notPending = ne(approvals.status, 'pending')
    return this.db
      .select()
      .from(approvals)
      .where(sessionId === undefined ? notPending : and(eq(approvals.sessionId, sessionId), notPending))
      .orderBy(desc(approvals.createdAt))
      .limit(limit)
      .all()
  }

  pendingCloudIds(): string[] {
    return this.db
      .select({id: approvals.id})
      .from(approvals)
      .where(and(eq(approvals.status, 'pending'), eq(approvals.source, 'cloud')))
      .all()
      .map((row) => row.id)
  }

  countPending(sessionId: string): number {
    const row = this.db
      .select({n: sql<number>`count(*)`})
      .from(approvals)
      .where(and(eq(approvals.sessionId, sessionId), eq(approvals.status, 'pending')))
      .get()
    return row?.n ?? 0
  }

  /**
   * Ends a pending approval; false when it was no longer pending. The `status = 'pending'`
   * guard is what makes exactly one of two racing decisions win.
   */
  decide(id: string, status: Exclude<ApprovalStatus, 'pending'>, comment: string | null, at: number): boolean {
    const result = this.db
      .update(approvals)
      .set({status, comment, decidedAt: at})
      .where(and(eq(approvals.id, id), eq(approvals.status, 'pending')))
      .run()
    return result.changes === 1
  }
}
