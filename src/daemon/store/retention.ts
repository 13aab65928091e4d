/**
 * Retention for an append-only table with a growing integer id and a time column: keeps the
 * newest `maxCount` ids and nothing older than `maxAgeMs`. Deletes in bounded steps, one per
 * turn of the event loop, so requests and writes go first; the event log and raw_events use it.
 */
import {asc, gt, lte, max, min, sql} from 'drizzle-orm'
import type {SQLiteColumn, SQLiteTable} from 'drizzle-orm/sqlite-core'

import type {Logger} from '../../shared/logger.js'
import type {Store} from './index.js'
import {preparedOnFirstUse} from './prepared.js'

export interface RetentionOptions {
  /** Keep at most about this many rows (the newest N ids). */
  maxCount: number
  /** Drop rows older than this. */
  maxAgeMs: number
  /** How often retention runs; every run deletes in bounded steps. */
  intervalMs?: number
}

export interface RetainedTable {
  table: SQLiteTable
  /** Its integer primary key, growing with time. */
  id: SQLiteColumn
  /** The column holding each row's time. */
  time: SQLiteColumn
  /** The time column's stored value for an instant (an ISO string, or epoch ms). */
  timeOf: (ms: number) => string | number
  /** The newest id (rows above it may be in flight); defaults to the table's MAX(id). */
  newestId?: () => number
}

/** Rows a single step looks at and may delete: small enough to never stall the loop. */
const STEP_ROWS = 2000
const DEFAULT_INTERVAL_MS = 60_000

export class TableRetention {
  private pruned: number
  private timer: NodeJS.Timeout | undefined
  private pending: NodeJS.Immediate | undefined
  private closed = false
  private readonly candidates
  private readonly deleteThrough
  private readonly maxId

  constructor(
    store: Store,
    private readonly target: RetainedTable,
    private readonly options: RetentionOptions,
    private readonly log: Logger,
  ) {
    const {db} = store
    const {table, id, time} = target
    this.maxId = preparedOnFirstUse(() =>
      db
        .select({id: max(id)})
        .from(table)
        .prepare(),
    )
    // The stored value (not mapped to a Date), to compare with timeOf's.
    const at = sql<string | number>`${time}`
    this.candidates = preparedOnFirstUse(() =>
      db
        .select({id: sql<number>`${id}`, at})
        .from(table)
        .where(gt(id, sql.placeholder('after')))
        .orderBy(asc(id))
        .limit(sql.placeholder('limit'))
        .prepare(),
    )
    this.deleteThrough = preparedOnFirstUse(() =>
      db
        .delete(table)
        .where(lte(id, sql.placeholder('through')))
        .prepare(),
    )
    const oldest = db
      .select({id: min(id)})
      .from(table)
      .get()?.id
    // Whatever lies below the oldest row kept (all of it, for an empty table) is gone.
    this.pruned = oldest === null || oldest === undefined ? this.newestId() : Number(oldest) - 1
  }

  /** The newest id deleted; rows up to here are gone. */
  get prunedThrough(): number {
    return this.pruned
  }

  /** Starts the periodic runs; the first happens at once. */
  start(): this {
    this.schedule()
    this.timer = setInterval(() => this.schedule(), this.options.intervalMs ?? DEFAULT_INTERVAL_MS).unref()
    return this
  }

  /**
   * One bounded step: deletes the oldest rows over the count or the age limit, at most
   * STEP_ROWS of them; returns whether another step may find more. Stops at the first row
   * both young enough and within the count, so it relies on ids growing with time (a clock
   * set back only delays pruning).
   */
  step(now = Date.now()): boolean {
    const keepFromId = this.newestId() - this.options.maxCount + 1
    const cutoff = this.target.timeOf(now - this.options.maxAgeMs)
    const rows = this.candidates.all({after: this.pruned, limit: STEP_ROWS})
    let through: number | undefined
    for (const row of rows) {
      if (row.id >= keepFromId && row.at >= cutoff) break
      through = row.id
    }
    if (through === undefined) return false
    this.deleteThrough.run({through})
    this.pruned = through
    return through === rows.at(-1)?.id && rows.length === STEP_ROWS
  }

  private newestId(): number {
    const newest = this.target.newestId?.() ?? this.maxId.get()?.id
    return newest === null || newest === undefined ? 0 : Number(newest)
  }

  close(): void {
    this.closed = true
    clearInterval(this.timer)
    if (this.pending) clearImmediate(this.pending)
  }

  private schedule(): void {
    if (this.pending || this.closed) return
    const run = (): void => {
      this.pending = undefined
      if (this.closed) return
      let more: boolean
      try {
        more = this.step()
      } catch (error) {
        // A locked or full database: the next run tries again.
        this.log.warn('retention failed; will retry', {table: this.target.table, error})
        return
      }
      if (more) this.pending = setImmediate(run)
    }
    this.pending = setImmediate(run)
  }
}
