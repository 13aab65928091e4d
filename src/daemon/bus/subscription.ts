/**
 * The `Subscribe` stream: one subscriber per connection, fed from the event log.
 *
 * A subscription with `since` first replays the log page by page, reading the next page
 * only when the peer has taken the last one (so a replay of a million events costs one page
 * of memory), and switches to live delivery in the same synchronous step as its last page
 * read: live batches come from the log's flushes, which cannot interleave with it.
 *
 * Live delivery never waits for a subscriber. Frames go to the connection's buffer; one
 * that still has more than `bufferBytes` waiting when the next batch comes (it stopped
 * reading, or reads slower than events arrive) gets a final overflow frame with the last id
 * it was sent and is closed, so it holds at most `bufferBytes` plus one batch. It loses
 * nothing by subscribing again with that id as `since`.
 *
 * Events the daemon gave up storing reach every subscriber, live or replaying and whatever its
 * filter, as one `events_lost` frame in their place (the log's marker row; see log.ts).
 */
import {randomBytes} from 'node:crypto'

import {ErrorCode} from '../../protocol/errors.js'
import {EVENT_TYPES} from '../../protocol/events.js'
import {
  HEARTBEAT_MESSAGE,
  SUBSCRIBED_MESSAGE,
  Subscribe,
  type OverflowData,
  type SubscribeConfirmation,
  eventFrameLine,
} from '../../protocol/subscribe.js'
import type {Logger} from '../../shared/logger.js'
import {invalidParams} from '../rpc/router.js'
import type {StreamConnection, StreamHandler} from '../rpc/server.js'
import {type EventFilter, type EventLog, type LoggedEvent, lostEventsResult, matches} from './log.js'

export interface SubscribeStreamOptions {
  heartbeatIntervalMs: number
  /** Bytes that may wait for one subscriber before it is cut off. */
  bufferBytes: number
  log: Logger
}

/** Events read from the log per replay step. */
const REPLAY_PAGE_EVENTS = 500
/** A replay reads its next page once less than this is waiting for the peer. */
const REPLAY_LOW_WATER_BYTES = 64 * 1024
/** A filtered subscriber's frames of one batch are copied into one write below this size. */
const COPY_FRAMES_BELOW_BYTES = 256 * 1024

/** hld's format: `<yyyymmddHHMMSS>-<16 hex>` (UTC here). */
export function newSubscriptionId(now = new Date()): string {
  const stamp = now.toISOString().replaceAll(/[-:T]/g, '').slice(0, 14)
  return `${stamp}-${randomBytes(8).toString('hex')}`
}

/** Unfiltered subscribers all send the same bytes for a batch: encode them once, to one buffer. */
const encodedBatches = new WeakMap<readonly LoggedEvent[], Buffer>()
function encodeAll(batch: readonly LoggedEvent[]): Buffer {
  let frames = encodedBatches.get(batch)
  if (frames === undefined) {
    frames = Buffer.concat(batch.map(encodeOne))
    encodedBatches.set(batch, frames)
  }
  return frames
}

/**
 * Filtered subscribers pick events from a batch: each event is encoded once, to one buffer that
 * every subscriber's socket shares, so one large event costs its size once, not once per subscriber.
 */
const encodedEvents = new WeakMap<LoggedEvent, Buffer>()
function encodeOne(event: LoggedEvent): Buffer {
  let frame = encodedEvents.get(event)
  if (frame === undefined) {
    frame = Buffer.from(frameLine(event))
    encodedEvents.set(event, frame)
  }
  return frame
}

/** An event's frame, or for lost events the `events_lost` frame, reporting ids after `cursor` only. */
function frameLine(event: LoggedEvent, cursor = 0): string {
  if (!event.lost) return eventFrameLine(event.json)
  const result = lostEventsResult(event.lost, Math.max(event.lost.from, cursor + 1))
  return `${JSON.stringify({jsonrpc: '2.0', result, id: null})}\n`
}

type SubscribeSchemas = typeof import('../../protocol/subscribe.schema.js')

export function createSubscribeStream(bus: EventLog, options: SubscribeStreamOptions): StreamHandler {
  // Loaded (with zod) by the first Subscribe, not at start. Its confirmation names the head of
  // the log as it is then, so a subscription that waited for the load misses nothing it promises.
  let schemas: SubscribeSchemas | undefined
  let loading: Promise<SubscribeSchemas> | undefined
  const subscribe = (schema: SubscribeSchemas, rawParams: unknown, connection: StreamConnection): void => {
    // The peer may have hung up while the schema loaded: nothing to start then.
    if (connection.signal.aborted) return
    const parsed = schema.SubscribeParams.safeParse(rawParams ?? {})
    if (!parsed.success) {
      connection.send({jsonrpc: '2.0', error: invalidParams(Subscribe.name, parsed.error).toJSON(), id: null})
      connection.close()
      return
    }
    const {event_types: types, session_id: sessionId, run_id: runId, since} = parsed.data
    logUnknown(schema, rawParams, types, options.log)
    const filter: EventFilter = {types: types && types.length > 0 ? new Set(types) : undefined, sessionId, runId}
    new Subscription(bus, connection, filter, options).start(since)
  }
  return (rawParams, connection) => {
    if (schemas) {
      subscribe(schemas, rawParams, connection)
      return
    }
    loading ??= import('../../protocol/subscribe.schema.js')
    loading.then(
      (loaded) => subscribe((schemas = loaded), rawParams, connection),
      (error: unknown) => {
        options.log.error('could not load the Subscribe schema', {error})
        connection.close()
      },
    )
  }
}

/** What a newer (or Go) client asked for that this daemon does not know: it never matches. */
function logUnknown(schema: SubscribeSchemas, rawParams: unknown, types: string[] | undefined, log: Logger): void {
  const known = new Set<string>(EVENT_TYPES)
  const unknownTypes = (types ?? []).filter((type) => !known.has(type))
  const keys = typeof rawParams === 'object' && rawParams !== null ? Object.keys(rawParams) : []
  const unknownKeys = keys.filter((key) => !Object.hasOwn(schema.SubscribeParams.shape, key))
  if (unknownTypes.length > 0 || unknownKeys.length > 0) {
    log.debug('Subscribe names event types or keys this daemon does not know; they never match', {
      event_types: unknownTypes,
      keys: unknownKeys,
    })
  }
}

class Subscription {
  /** Every event up to this id has been sent (or filtered out). */
  private cursor = 0
  private live = false
  private stopped = false
  private heartbeat: NodeJS.Timeout | undefined
  private detach: (() => void) | undefined
  private readonly unfiltered: boolean

  constructor(
    private readonly bus: EventLog,
    private readonly connection: StreamConnection,
    private readonly filter: EventFilter,
    private readonly options: SubscribeStreamOptions,
  ) {
    this.unfiltered = !filter.types && filter.sessionId === undefined && filter.runId === undefined
  }

  start(since: number | undefined): void {
    const head = this.bus.flushedId
    const confirmation: SubscribeConfirmation = {subscription_id: newSubscriptionId(), message: SUBSCRIBED_MESSAGE, last_event_id: head}
    if (since !== undefined && since < this.bus.prunedThrough) confirmation.pruned_through = this.bus.prunedThrough
    this.connection.send({jsonrpc: '2.0', result: confirmation, id: null})

    this.heartbeat = setTimeout(() => this.beat(), this.options.heartbeatIntervalMs).unref()
    this.connection.signal.addEventListener('abort', () => this.stop(), {once: true})
    this.detach = this.bus.onBatch((batch) => this.deliver(batch))
    // An id beyond the head comes from another log (a wiped database): start from now.
    this.cursor = Math.min(since ?? head, head)
    this.replay()
  }

  private replay(): void {
    while (!this.stopped && !this.live) {
      if (this.connection.pendingBytes > REPLAY_LOW_WATER_BYTES) {
        this.connection.onDrain(() => this.replay())
        return
      }
      const page = this.bus.readPage(this.cursor, this.filter, REPLAY_PAGE_EVENTS)
      if (page.length > 0) {
        this.write(page.map((event) => frameLine(event, this.cursor)).join(''))
        this.cursor = page.at(-1)!.id
      }
      if (page.length < REPLAY_PAGE_EVENTS) {
        // The log holds everything up to flushedId, and no flush can run before this returns.
        this.cursor = this.bus.flushedId
        this.live = true
      }
    }
  }

  private deliver(batch: readonly LoggedEvent[]): void {
    if (!this.live || this.stopped) return
    // Still behind by more than the bound when new events come: cut off. Checking before the
    // write (not after) lets one large burst through to subscribers that keep reading.
    if (this.connection.pendingBytes > this.options.bufferBytes) return this.overflow()
    if (this.unfiltered && batch[0].id > this.cursor) {
      this.write(encodeAll(batch))
    } else {
      const frames: Buffer[] = []
      let bytes = 0
      for (const event of batch) {
        if (event.id <= this.cursor || !matches(event, this.filter)) continue
        frames.push(encodeOne(event))
        bytes += frames.at(-1)!.length
      }
      // Small frames leave in one write; large ones go as the shared buffers they are.
      if (bytes <= COPY_FRAMES_BELOW_BYTES && frames.length > 1) this.write(Buffer.concat(frames, bytes))
      else for (const frame of frames) this.write(frame)
    }
    this.cursor = batch.at(-1)!.id
  }

  private write(frames: string | Buffer): void {
    this.connection.sendEncoded(frames)
    this.heartbeat?.refresh()
  }

  private beat(): void {
    if (this.stopped) return
    this.connection.send({jsonrpc: '2.0', result: {type: 'heartbeat', message: HEARTBEAT_MESSAGE}, id: null})
    this.heartbeat?.refresh()
  }

  private overflow(): void {
    const pending = this.connection.pendingBytes
    const data: OverflowData = {last_event_id: this.cursor}
    this.options.log.warn('subscriber fell behind; closing it', {pending_bytes: pending, last_event_id: this.cursor})
    this.stop()
    this.connection.send({
      jsonrpc: '2.0',
      error: {
        code: ErrorCode.SubscriberOverflow,
        message:
          `This subscriber fell behind: ${pending} bytes were waiting for it (subscriber_buffer_bytes is ${this.options.bufferBytes}). ` +
          `Subscribe again with since=${this.cursor} to continue without loss.`,
        data,
      },
      id: null,
    })
    this.connection.close()
  }

  private stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.detach?.()
    clearTimeout(this.heartbeat)
  }
}
