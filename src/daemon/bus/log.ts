/**
 * The durable bus: every published event is appended to the `events` table with a monotonic
 * id, then fanned out to stream subscribers.
 *
 * `publish` stays synchronous and cheap for services that publish thousands of events a
 * second: it stamps the event (id, timestamp), encodes it once, and queues it. A flush on
 * the next turn of the event loop writes the queue in one transaction and only then hands
 * the batch to stream subscribers. So anything a subscriber received live is already in the
 * log (unless that transaction failed: the batch is still delivered, logged as an error, and
 * missing from replays), and a replay (`since`) that reads the log up to `flushedId` and then switches to live
 * delivery, in one synchronous step, has no gap and no duplicate at the seam.
 *
 * In-process listeners (`subscribe`) are called synchronously inside `publish`, as with the
 * in-memory bus: they live and die with the daemon, so durability means nothing to them.
 *
 * Hot paths use prepared better-sqlite3 statements rather than drizzle's builder: an insert
 * per event and a page per replay step, where the builder's per-call cost shows.
 */
import type {Statement} from 'better-sqlite3'

import type {DaemonEvent, EventType, NewEvent} from '../../protocol/events.js'
import type {Logger} from '../logger.js'
import type {Store} from '../store/index.js'
import type {EventBus, EventListener} from './index.js'

/** An event as the log keeps and sends it. */
export interface LoggedEvent {
  id: number
  type: EventType
  sessionId: string | null
  runId: string | null
  /** `{"id":…,"type":…,"timestamp":…,"data":{…}}`, exactly as it goes on the wire. */
  json: string
}

/** Called with each flushed batch, in id order. */
export type BatchListener = (batch: readonly LoggedEvent[]) => void

export interface EventFilter {
  types?: ReadonlySet<string>
  sessionId?: string
  runId?: string
}

export interface RetentionOptions {
  /** Keep at most about this many events (ids are dense, so the newest N ids). */
  maxCount: number
  /** Drop events older than this. */
  maxAgeMs: number
  /** How often retention runs; every run deletes in bounded steps. */
  intervalMs?: number
}

/** Rows a single prune step looks at and may delete: small enough to never stall the loop. */
const PRUNE_STEP_ROWS = 2000
const DEFAULT_PRUNE_INTERVAL_MS = 60_000

interface Row {
  id: number
  type: EventType
  timestamp: string
  session_id: string | null
  run_id: string | null
  data: string
}

function encodeEvent(id: number, type: string, timestamp: string, dataJson: string): string {
  return `{"id":${id},"type":${JSON.stringify(type)},"timestamp":${JSON.stringify(timestamp)},"data":${dataJson}}`
}

function stringKey(data: unknown, key: 'session_id' | 'run_id'): string | null {
  const value = (data as Record<string, unknown>)[key]
  return typeof value === 'string' ? value : null
}

/** hld semantics: a session or run filter drops events whose data lacks that key. */
export function matches(event: LoggedEvent, filter: EventFilter): boolean {
  if (filter.types && !filter.types.has(event.type)) return false
  if (filter.sessionId !== undefined && event.sessionId !== filter.sessionId) return false
  if (filter.runId !== undefined && event.runId !== filter.runId) return false
  return true
}

type PendingRow = {logged: LoggedEvent; timestamp: string; data: string}

export class EventLog implements EventBus {
  private lastId: number
  private flushed: number
  private pruned: number
  private queue: {logged: LoggedEvent; timestamp: string; data: string}[] = []
  private flushTimer: NodeJS.Immediate | undefined
  private pruneTimer: NodeJS.Timeout | undefined
  private pruning: NodeJS.Immediate | undefined
  private closed = false
  private readonly listeners = new Set<EventListener>()
  private readonly batchListeners = new Set<BatchListener>()
  private readonly insert: Statement
  private readonly pruneCandidates: Statement
  private readonly deleteThrough: Statement
  private readonly insertBatch: (rows: PendingRow[]) => void
  private readonly pages = new Map<string, Statement>()

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    private readonly retention: RetentionOptions,
  ) {
    const {sqlite} = store
    const seq = sqlite.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as {seq: number} | undefined
    const bounds = sqlite.prepare('SELECT MIN(id) AS oldest, MAX(id) AS newest FROM events').get() as {oldest: number | null; newest: number | null}
    this.lastId = Math.max(seq?.seq ?? 0, bounds.newest ?? 0)
    this.flushed = this.lastId
    // Whatever lies below the oldest row kept (all of it, for an empty log) was pruned.
    this.pruned = bounds.oldest === null ? this.lastId : bounds.oldest - 1

    this.insert = sqlite.prepare('INSERT INTO events (id, type, timestamp, session_id, run_id, data) VALUES (?, ?, ?, ?, ?, ?)')
    this.pruneCandidates = sqlite.prepare('SELECT id, timestamp FROM events WHERE id > ? ORDER BY id LIMIT ?')
    this.deleteThrough = sqlite.prepare('DELETE FROM events WHERE id <= ?')
    this.insertBatch = sqlite.transaction((rows: PendingRow[]) => {
      for (const {logged, timestamp, data} of rows) this.insert.run(logged.id, logged.type, timestamp, logged.sessionId, logged.runId, data)
    })
  }

  /** Starts the periodic retention; the first run happens at once (in bounded steps). */
  start(): this {
    this.schedulePrune()
    this.pruneTimer = setInterval(() => this.schedulePrune(), this.retention.intervalMs ?? DEFAULT_PRUNE_INTERVAL_MS).unref()
    return this
  }

  publish(event: NewEvent): DaemonEvent {
    const id = ++this.lastId
    const timestamp = new Date().toISOString()
    const data = JSON.stringify(event.data)
    const logged: LoggedEvent = {
      id,
      type: event.type,
      sessionId: stringKey(event.data, 'session_id'),
      runId: stringKey(event.data, 'run_id'),
      json: encodeEvent(id, event.type, timestamp, data),
    }
    if (this.closed) {
      // A service still publishing after shutdown began: the store may be gone already.
      this.log.error('event published after the bus was closed; not logged', {type: event.type, id})
    } else {
      this.queue.push({logged, timestamp, data})
      this.flushTimer ??= setImmediate(() => this.flush())
    }
    const stamped = {id, type: event.type, timestamp, data: event.data} as DaemonEvent
    for (const listener of this.listeners) {
      try {
        listener(stamped)
      } catch (error) {
        this.log.error('event listener failed', {type: event.type, error})
      }
    }
    return stamped
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** Stream subscribers get flushed batches; returns the function that detaches. */
  onBatch(listener: BatchListener): () => void {
    this.batchListeners.add(listener)
    return () => this.batchListeners.delete(listener)
  }

  /** The newest id written to the log (and so delivered live to stream subscribers). */
  get flushedId(): number {
    return this.flushed
  }

  /** The newest id that retention deleted; events up to here cannot be replayed. */
  get prunedThrough(): number {
    return this.pruned
  }

  get batchListenerCount(): number {
    return this.batchListeners.size
  }

  /** Writes queued events in one transaction, then hands them to stream subscribers. */
  flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer)
    this.flushTimer = undefined
    if (this.queue.length === 0) return
    const rows = this.queue
    this.queue = []
    try {
      this.insertBatch(rows)
    } catch (error) {
      // The events still reach live subscribers; they will be missing from replays.
      this.log.error('could not append events to the log', {count: rows.length, first_id: rows[0].logged.id, error})
    }
    this.flushed = rows.at(-1)!.logged.id
    const batch = rows.map((row) => row.logged)
    for (const listener of this.batchListeners) {
      try {
        listener(batch)
      } catch (error) {
        this.log.error('event stream listener failed', {error})
      }
    }
  }

  /** Up to `limit` logged events after `afterId` that pass the filter, oldest first. */
  readPage(afterId: number, filter: EventFilter, limit: number): LoggedEvent[] {
    const types = filter.types ? [...filter.types] : []
    const where = ['id > ?']
    const args: unknown[] = [afterId]
    if (types.length > 0) {
      where.push(`type IN (${types.map(() => '?').join(', ')})`)
      args.push(...types)
    }
    if (filter.sessionId !== undefined) {
      where.push('session_id = ?')
      args.push(filter.sessionId)
    }
    if (filter.runId !== undefined) {
      where.push('run_id = ?')
      args.push(filter.runId)
    }
    const sql = `SELECT id, type, timestamp, session_id, run_id, data FROM events WHERE ${where.join(' AND ')} ORDER BY id LIMIT ?`
    let statement = this.pages.get(sql)
    if (!statement) {
      statement = this.store.sqlite.prepare(sql)
      this.pages.set(sql, statement)
    }
    const rows = statement.all(...args, limit) as Row[]
    return rows.map((row) => ({
      id: row.id,
      type: row.type,
      sessionId: row.session_id,
      runId: row.run_id,
      json: encodeEvent(row.id, row.type, row.timestamp, row.data),
    }))
  }

  /**
   * One bounded retention step: deletes the oldest events that are over the count or the
   * age limit, at most PRUNE_STEP_ROWS of them. Returns whether another step may find more.
   * Stops at the first event that is both young enough and within the count, so it relies
   * on ids growing with time (a clock set back only delays pruning).
   */
  pruneStep(now = Date.now()): boolean {
    const keepFromId = this.flushed - this.retention.maxCount + 1
    const cutoff = new Date(now - this.retention.maxAgeMs).toISOString()
    const rows = this.pruneCandidates.all(this.pruned, PRUNE_STEP_ROWS) as {id: number; timestamp: string}[]
    let through: number | undefined
    for (const row of rows) {
      if (row.id >= keepFromId && row.timestamp >= cutoff) break
      through = row.id
    }
    if (through === undefined) return false
    this.deleteThrough.run(through)
    this.pruned = through
    return through === rows.at(-1)?.id && rows.length === PRUNE_STEP_ROWS
  }

  private schedulePrune(): void {
    if (this.pruning || this.closed) return
    const step = (): void => {
      this.pruning = undefined
      if (this.closed) return
      let more: boolean
      try {
        more = this.pruneStep()
      } catch (error) {
        this.log.error('event retention failed', {error})
        return
      }
      // Yield between steps so requests and publishes go first.
      if (more) this.pruning = setImmediate(step)
    }
    this.pruning = setImmediate(step)
  }

  /** Flushes what is queued and stops retention; the store is closed by its owner. */
  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    clearInterval(this.pruneTimer)
    if (this.pruning) clearImmediate(this.pruning)
    this.listeners.clear()
    this.batchListeners.clear()
  }
}
