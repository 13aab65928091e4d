/**
 * The durable bus: every published event is appended to the `events` table with a monotonic
 * id, then fanned out to stream subscribers.
 *
 * `publish` stays synchronous and cheap for services that publish thousands of events a
 * second: it stamps the event (id, timestamp), encodes it once, and queues it. Events published
 * inside a transaction of the store (a request's handler runs in one, see Store.write) are stored
 * in that transaction, as a participant in its commit (Store.joinCommits), and handed to stream
 * subscribers right after its COMMIT: one commit (and for a durable write one sync) for the rows
 * and their events, and no turn of the event loop between them and a subscriber. Others wait for
 * a flush on the next turn of the event loop, which writes the queue in one transaction and only
 * then hands the batch to stream subscribers. So anything a subscriber received live is already
 * in the log: a batch the database refuses is held and retried. Past MAX_UNSTORED_BYTES the held events
 * are given up on: one marker row takes their place in the queue (id = the last lost id, type
 * `events_lost`), stored and delivered in order like an event once the database takes writes
 * again, so live subscribers and later replays alike, whatever their filter, get an
 * `events_lost` frame where the ids jump. A replay (`since`) that reads the log up to
 * `flushedId` and then switches to live delivery, in one synchronous step, has no gap and no
 * duplicate at the seam.
 *
 * In-process listeners (`subscribe`) are called synchronously inside `publish`, as with the
 * in-memory bus: they live and die with the daemon, so durability means nothing to them.
 *
 * Every query is a drizzle statement prepared once (a page per filter's shape): an insert per
 * event and a page per replay step are where building or preparing per call would show.
 */
import {and, asc, eq, gt, inArray, lte, max, sql} from 'drizzle-orm'

import type {DaemonEvent, EventType, NewEvent} from '../../protocol/events.js'
import type {EventsLostResult} from '../../protocol/subscribe.js'
import type {Logger} from '../../shared/logger.js'
import type {Store} from '../store/index.js'
import {bindRows, rowPlaceholdersFor} from '../store/placeholders.js'
import {events} from '../store/schema/index.js'
import {type RetentionOptions, TableRetention} from '../store/retention.js'
import type {EventBus, EventListener} from './index.js'
import {preparedOnFirstUse} from '../store/prepared.js'

/** An event as the log keeps and sends it, or the marker of events given up on. */
export type LoggedEvent = {
  id: number
  sessionId: string | null
  runId: string | null
} & (
  | {
      type: EventType
      /** `{"id":…,"type":…,"timestamp":…,"data":{…}}`, exactly as it goes on the wire. */
      json: string
      lost?: undefined
    }
  | {type: typeof LOST_EVENTS_TYPE; lost: LostEvents}
)

/** Called with each flushed batch, in id order. */
export type BatchListener = (batch: readonly LoggedEvent[]) => void

/**
 * Events that could not be stored and were given up on: never delivered, and reported instead.
 * Its marker row in the log has the id `through` (an id no event has) and this type.
 */
export interface LostEvents {
  from: number
  through: number
  reason: string
}
export const LOST_EVENTS_TYPE = 'events_lost'

/** The frame's result that tells a subscriber about lost events, from `from` on (its own view of the range). */
export function lostEventsResult({from, through, reason}: LostEvents, fromId = from): EventsLostResult {
  return {
    type: 'events_lost',
    from_id: fromId,
    through_id: through,
    message: `The daemon could not store events ${from}–${through} (${reason}); they are lost, to every subscriber.`,
  }
}

/** Unstored events held while the database refuses them (locked, full) before the oldest are given up. */
const MAX_UNSTORED_BYTES = 64 * 1024 * 1024
/** Events per multi-row insert; fewer go one by one. */
const EVENTS_PER_INSERT = 16
const RETRY_FIRST_MS = 10
const RETRY_MAX_MS = 1000

export interface EventFilter {
  types?: ReadonlySet<string>
  sessionId?: string
  runId?: string
}

export type {RetentionOptions}

function encodeEvent(id: number, type: string, timestamp: string, dataJson: string): string {
  return `{"id":${id},"type":${JSON.stringify(type)},"timestamp":${JSON.stringify(timestamp)},"data":${dataJson}}`
}

function stringKey(data: unknown, key: 'session_id' | 'run_id'): string | null {
  const value = (data as Record<string, unknown>)[key]
  return typeof value === 'string' ? value : null
}

/**
 * hld semantics: a session or run filter drops events whose data lacks that key. Lost events
 * pass every filter: what they were is unknown, so every subscriber is told.
 */
export function matches(event: LoggedEvent, filter: EventFilter): boolean {
  if (event.lost) return true
  if (filter.types && !filter.types.has(event.type)) return false
  if (filter.sessionId !== undefined && event.sessionId !== filter.sessionId) return false
  if (filter.runId !== undefined && event.runId !== filter.runId) return false
  return true
}

type PendingRow = {logged: LoggedEvent; timestamp: string; data: string}

function toLogged(row: typeof events.$inferSelect): LoggedEvent {
  const base = {id: row.id, sessionId: row.sessionId, runId: row.runId}
  if (row.type === LOST_EVENTS_TYPE) return {...base, type: LOST_EVENTS_TYPE, lost: JSON.parse(row.data) as LostEvents}
  return {...base, type: row.type as EventType, json: encodeEvent(row.id, row.type, row.timestamp, row.data)}
}

export class EventLog implements EventBus {
  private lastId: number
  private flushed: number
  private queue: PendingRow[] = []
  private flushTimer: NodeJS.Immediate | undefined
  /** Set while the last flush failed: the next attempt is this timer's, with backoff. */
  private retryTimer: NodeJS.Timeout | undefined
  private retryDelay = RETRY_FIRST_MS
  private queuedBytes = 0
  private readonly retention: TableRetention
  private closed = false
  private readonly listeners = new Set<EventListener>()
  private readonly batchListeners = new Set<BatchListener>()
  private readonly insertBatch: (rows: PendingRow[]) => void
  private readonly pages = new Map<string, ReturnType<EventLog['preparePage']>>()
  private readonly lostMarkers: ReturnType<EventLog['prepareLostMarkers']>
  /** How many events at the head of the queue the transaction committing now stores. */
  private committing = 0
  private readonly leaveCommits: () => void

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    retention: RetentionOptions,
  ) {
    const {sqlite, db} = store
    // Raw SQL: sqlite_sequence is SQLite's own table, which drizzle's schema does not describe.
    const seq = sqlite.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'").get() as {seq: number} | undefined
    const newest = db
      .select({id: max(events.id)})
      .from(events)
      .get()?.id
    this.lastId = Math.max(seq?.seq ?? 0, newest ?? 0)
    this.flushed = this.lastId
    this.retention = new TableRetention(
      store,
      // Ids are dense, so the newest N ids are N events; what is not flushed yet is not counted.
      {table: events, id: events.id, time: events.timestamp, timeOf: (ms) => new Date(ms).toISOString(), newestId: () => this.flushed},
      retention,
      log,
    )

    // Busy sessions publish events by the dozen per read: EVENTS_PER_INSERT rows per statement
    // cost a third less than as many single-row inserts (binding and stepping, not SQLite's own work).
    const keys = ['id', 'type', 'timestamp', 'sessionId', 'runId', 'data'] as const
    const insertMany = preparedOnFirstUse(() => db.insert(events).values(rowPlaceholdersFor(keys, EVENTS_PER_INSERT)).prepare())
    const insertOne = preparedOnFirstUse(() => db.insert(events).values(rowPlaceholdersFor(keys, 1)).prepare())
    this.insertBatch = sqlite.transaction((queued: PendingRow[]) => {
      const rows = queued.map(({logged, timestamp, data}) => ({
        id: logged.id,
        type: logged.type,
        timestamp,
        sessionId: logged.sessionId,
        runId: logged.runId,
        data,
      }))
      let i = 0
      for (; i + EVENTS_PER_INSERT <= rows.length; i += EVENTS_PER_INSERT) insertMany.run(bindRows(keys, rows, i, EVENTS_PER_INSERT))
      for (; i < rows.length; i++) insertOne.run(bindRows(keys, rows, i, 1))
    })
    this.lostMarkers = preparedOnFirstUse(() => this.prepareLostMarkers())
    this.leaveCommits = store.joinCommits({beforeCommit: () => this.beforeCommit(), afterCommit: () => this.afterCommit()})
  }

  /** Starts the periodic retention; the first run happens at once (in bounded steps). */
  start(): this {
    this.retention.start()
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
      this.queuedBytes += data.length
      if (!this.retryTimer) this.flushTimer ??= setImmediate(() => this.flush())
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
    return this.retention.prunedThrough
  }

  get batchListenerCount(): number {
    return this.batchListeners.size
  }

  /**
   * Writes queued events in one transaction, then hands them to stream subscribers. An event
   * is delivered only once it is stored: when the database refuses the write (another process
   * holds the lock, the disk is full) the events stay queued and the flush is retried with
   * backoff. Past MAX_UNSTORED_BYTES they are given up on: a marker of their ids takes their place.
   */
  flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer)
    this.flushTimer = undefined
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    if (this.queue.length === 0) return
    try {
      this.insertBatch(this.queue)
    } catch (error) {
      this.flushFailed(error)
      return
    }
    this.stored()
  }

  /**
   * `work` and the storing of every event queued by its end (those it published, and any not
   * flushed yet) in one IMMEDIATE transaction; the events reach subscribers after its commit. If
   * it fails, they stay queued for flush and its retries. Inside a transaction already, they are
   * stored with that one.
   */
  storeWith<T>(work: () => T): T {
    return this.store.transaction(work)
  }

  /**
   * A transaction of the store is about to commit: what is queued (what its work published, and
   * anything not flushed yet) is stored in it, in a savepoint. When the database refuses the rows
   * but the transaction lives on, the work commits without them and they stay queued for flush and
   * its retries, as they would have without the transaction; when the refusal ended the
   * transaction (SQLite rolls back on some errors, a full disk), that fails the whole of it.
   */
  private beforeCommit(): void {
    this.committing = 0
    if (this.queue.length === 0) return
    try {
      this.insertBatch(this.queue)
    } catch (error) {
      if (!this.store.sqlite.inTransaction) throw error
      if (!this.retryTimer) this.flushTimer ??= setImmediate(() => this.flush())
      return
    }
    this.committing = this.queue.length
  }

  /** Committed: the events stored with it go to subscribers now, before anything else runs. */
  private afterCommit(): void {
    if (this.committing === 0) return
    const count = this.committing
    this.committing = 0
    // Events published since beforeCommit (by another participant's afterCommit) stay queued.
    this.stored(count)
  }

  /** The queue's first `count` events are committed: deliver them. */
  private stored(count = this.queue.length): void {
    const rows = count === this.queue.length ? this.queue : this.queue.slice(0, count)
    if (this.retryDelay > RETRY_FIRST_MS) this.log.info('events stored again after a failure', {count: rows.length})
    this.retryDelay = RETRY_FIRST_MS
    this.queue = count === this.queue.length ? [] : this.queue.slice(count)
    this.queuedBytes = this.queue.reduce((bytes, row) => bytes + row.data.length, 0)
    this.flushed = rows.at(-1)!.logged.id
    this.deliver(rows.map((row) => row.logged))
  }

  private flushFailed(error: unknown): void {
    if (this.retryDelay === RETRY_FIRST_MS)
      this.log.warn('could not store events; holding them and retrying', {count: this.queue.length, error})
    if (this.queuedBytes > MAX_UNSTORED_BYTES) this.giveUp(error)
    if (this.closed) return
    this.retryTimer = setTimeout(() => this.flush(), this.retryDelay)
    this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS)
  }

  /**
   * Replaces the queue by one marker of the ids it held (a marker already at its head, from an
   * earlier give-up, is merged in): small, so it waits in the queue until the database takes it.
   */
  private giveUp(error: unknown): void {
    const first = this.queue[0].logged
    const lost: LostEvents = {from: first.lost?.from ?? first.id, through: this.queue.at(-1)!.logged.id, reason: (error as Error).message}
    this.log.error('gave up on events the database kept refusing', {...lost, bytes: this.queuedBytes})
    const data = JSON.stringify(lost)
    const logged: LoggedEvent = {id: lost.through, type: LOST_EVENTS_TYPE, sessionId: null, runId: null, lost}
    this.queue = [{logged, timestamp: new Date().toISOString(), data}]
    this.queuedBytes = data.length
  }

  private deliver(batch: LoggedEvent[]): void {
    for (const listener of this.batchListeners) {
      try {
        listener(batch)
      } catch (error) {
        this.log.error('event stream listener failed', {error})
      }
    }
  }

  /**
   * Up to `limit` logged events after `afterId` that pass the filter, oldest first, with the
   * markers of lost events among them (a few more than `limit` then): a page that comes back
   * with fewer than `limit` events reached the end of the log.
   */
  readPage(afterId: number, filter: EventFilter, limit: number): LoggedEvent[] {
    const types = filter.types ? [...filter.types] : []
    const filtered = types.length > 0 || filter.sessionId !== undefined || filter.runId !== undefined
    const shape = `${types.length}:${filter.sessionId !== undefined}:${filter.runId !== undefined}`
    let page = this.pages.get(shape)
    if (!page) this.pages.set(shape, (page = this.preparePage(types.length, filter.sessionId !== undefined, filter.runId !== undefined)))
    const values: Record<string, unknown> = {after: afterId, limit, session: filter.sessionId, run: filter.runId}
    types.forEach((type, i) => (values[`type${i}`] = type))
    const rows = page.all(values)
    // A filter keeps the markers out of the page (they have no session or run, and no client
    // asks for their type, or if one does, has them already): they come from their own index,
    // over the ids the page covered.
    if (filtered) {
      const through = rows.length === limit ? rows.at(-1)!.id : this.flushed
      const markers = this.lostMarkers.all({after: afterId, through})
      if (markers.length > 0) {
        const inPage = new Set(rows.map((row) => row.id))
        rows.push(...markers.filter((marker) => !inPage.has(marker.id)))
        rows.sort((a, b) => a.id - b.id)
      }
    }
    return rows.map(toLogged)
  }

  /** The markers of lost events in (after, through]: a lookup in their partial index, however large the log. */
  private prepareLostMarkers() {
    return this.store.db
      .select()
      .from(events)
      .where(
        and(
          // A literal, not a placeholder: SQLite uses the partial index only for the term it was built with.
          sql`${events.type} = 'events_lost'`,
          gt(events.id, sql.placeholder('after')),
          lte(events.id, sql.placeholder('through')),
        ),
      )
      .orderBy(asc(events.id))
      .prepare()
  }

  /** The page query for one shape of filter: how many types, whether by session, by run. */
  private preparePage(typeCount: number, bySession: boolean, byRun: boolean) {
    const types = Array.from({length: typeCount}, (_, i) => sql.placeholder(`type${i}`))
    return this.store.db
      .select()
      .from(events)
      .where(
        and(
          gt(events.id, sql.placeholder('after')),
          typeCount > 0 ? inArray(events.type, types) : undefined,
          bySession ? eq(events.sessionId, sql.placeholder('session')) : undefined,
          byRun ? eq(events.runId, sql.placeholder('run')) : undefined,
        ),
      )
      .orderBy(asc(events.id))
      .limit(sql.placeholder('limit'))
      .prepare()
  }

  /** One bounded retention step (see TableRetention); whether another may find more. */
  pruneStep(now = Date.now()): boolean {
    return this.retention.step(now)
  }

  /** Flushes what is queued and stops retention; the store is closed by its owner. */
  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    clearTimeout(this.retryTimer)
    if (this.queue.length > 0) this.log.error('events not stored at shutdown: the database refused them', {count: this.queue.length})
    this.retention.close()
    this.leaveCommits()
    this.listeners.clear()
    this.batchListeners.clear()
  }
}
