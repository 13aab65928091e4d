/**
 * The client side of `Subscribe`: a hand-written line reader on a connection of its own
 * (the subscription owns it; hld's protocol allows nothing else on it), and a resumable
 * stream on top that reconnects with capped exponential backoff and resumes after the last
 * event id it yielded, across daemon restarts and overflow cut-offs. Events are yielded at
 * most once each, in id order.
 */

import {ErrorCode, RpcError} from '../protocol/errors.js'
import type {DaemonEvent, EventType} from '../protocol/events.js'
import {LineDecoder, encodeFrame} from '../protocol/framing.js'
import {Subscribe, type SubscribeConfirmation, type SubscribeFrame, parseSubscribeFrame} from '../protocol/subscribe.js'
import {DaemonUnreachableError} from '../shared/errors.js'
import {type Connection, type Endpoint, MAX_REPLY_BYTES, socketEndpoint} from './index.js'
import {sleep} from '../shared/retry.js'

export interface SubscribeFilter {
  event_types?: EventType[]
  session_id?: string
  run_id?: string
}

/** hld's clients wait this long for the confirmation. */
export const CONFIRMATION_TIMEOUT_MS = 5000
/** Frames read ahead of the consumer before the socket is paused (backpressure to the daemon). */
const READ_AHEAD_FRAMES = 1000

/** One subscription on one connection; `frames()` ends when the connection does. */
export class Subscription {
  private readonly buffered: SubscribeFrame[] = []
  private wake: (() => void) | undefined
  private ended = false
  private failure: Error | undefined

  private constructor(
    private readonly socket: Connection,
    readonly confirmation: SubscribeConfirmation,
  ) {}

  static async open(
    target: string | Endpoint,
    params: SubscribeFilter & {since?: number},
    timeoutMs = CONFIRMATION_TIMEOUT_MS,
  ): Promise<Subscription> {
    const endpoint = typeof target === 'string' ? socketEndpoint(target) : target
    const socketPath = endpoint.label
    const socket = await endpoint.open(timeoutMs)
    return new Promise((resolve, reject) => {
      let subscription: Subscription | undefined
      const timer = setTimeout(
        () => fail(new DaemonUnreachableError(socketPath, `no Subscribe confirmation within ${timeoutMs} ms`)),
        timeoutMs,
      )
      const fail = (error: Error): void => {
        clearTimeout(timer)
        socket.destroy()
        reject(error)
      }
      const decoder = new LineDecoder({
        maxFrameBytes: MAX_REPLY_BYTES,
        onLine: (line) => {
          const frame = parseSubscribeFrame(line)
          if (!frame) return
          if (subscription) return subscription.push(frame)
          if (frame.kind === 'confirmation') {
            clearTimeout(timer)
            subscription = new Subscription(socket, frame.confirmation)
            resolve(subscription)
          } else if (frame.kind === 'error') {
            fail(RpcError.from(frame.error))
          }
        },
      })
      socket.on('data', (chunk: Buffer) => decoder.push(chunk))
      let failure: Error | undefined
      socket.on('error', (error) => {
        // A transport's own errors (ssh's) already say where and what; a socket's get that said.
        failure = error.name === 'Error' ? new DaemonUnreachableError(socketPath, error.message) : error
        subscription?.finish(failure)
      })
      socket.on('close', () => {
        if (subscription) subscription.finish()
        else fail(failure ?? new DaemonUnreachableError(socketPath, 'the daemon closed the connection before confirming the subscription'))
      })
      socket.write(encodeFrame({jsonrpc: '2.0', method: Subscribe.name, params, id: 1}))
    })
  }

  /** Frames after the confirmation, until the connection ends. */
  async *frames(): AsyncGenerator<SubscribeFrame> {
    try {
      for (;;) {
        const frame = this.buffered.shift()
        if (frame) {
          if (this.buffered.length < READ_AHEAD_FRAMES / 2) this.socket.resume()
          yield frame
          continue
        }
        if (this.failure) throw this.failure
        if (this.ended) return
        await new Promise<void>((resolve) => (this.wake = resolve))
      }
    } finally {
      this.close()
    }
  }

  close(): void {
    this.socket.destroy()
  }

  private push(frame: SubscribeFrame): void {
    this.buffered.push(frame)
    if (this.buffered.length >= READ_AHEAD_FRAMES) this.socket.pause()
    this.notify()
  }

  private finish(error?: Error): void {
    this.ended = true
    this.failure ??= error
    this.notify()
  }

  private notify(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

export type StreamStatus =
  | {state: 'subscribed'; subscriptionId: string; reconnected: boolean; resumedAfter: number | undefined}
  | {state: 'gap'; prunedThrough: number}
  /** The daemon could not store these events and gave them up: no one will ever get them. */
  | {state: 'lost'; fromId: number; throughId: number; message: string}
  | {state: 'disconnected'; reason: string; retryInMs: number}

export interface EventStreamOptions {
  /** A socket path, or an Endpoint (another machine over ssh). */
  target: string | Endpoint
  filter?: SubscribeFilter
  /** Yield events after this id (replayed from the log); undefined = only events from now on. */
  since?: number
  signal?: AbortSignal
  /** Reconnect delays: doubled after each failed attempt, capped, reset once subscribed. */
  backoff?: {initialMs?: number; maxMs?: number}
  onStatus?: (status: StreamStatus) => void
}

/**
 * Events, for as long as the caller iterates and the signal is not aborted. Survives
 * daemon restarts; fails only on an error the daemon gives for the request itself (bad
 * params), which retrying cannot fix.
 */
export async function* streamEvents(options: EventStreamOptions): AsyncGenerator<DaemonEvent> {
  const initialMs = options.backoff?.initialMs ?? 100
  const maxMs = options.backoff?.maxMs ?? 5000
  const {signal} = options
  let lastId = options.since
  let delay = initialMs
  let reconnected = false
  while (!signal?.aborted) {
    let subscription: Subscription | undefined
    let reason: string
    try {
      subscription = await Subscription.open(options.target, {...options.filter, since: lastId})
      const stop = (): void => subscription!.close()
      signal?.addEventListener('abort', stop, {once: true})
      try {
        const {confirmation} = subscription
        options.onStatus?.({state: 'subscribed', subscriptionId: confirmation.subscription_id, reconnected, resumedAfter: lastId})
        if (confirmation.pruned_through !== undefined) options.onStatus?.({state: 'gap', prunedThrough: confirmation.pruned_through})
        // A head below what we saw means another log (the database was replaced): take it from there.
        if (lastId === undefined || confirmation.last_event_id < lastId) lastId = confirmation.last_event_id
        delay = initialMs
        reason = 'the daemon closed the subscription'
        for await (const frame of subscription.frames()) {
          if (frame.kind === 'event' && frame.event.id > lastId) {
            lastId = frame.event.id
            yield frame.event
          } else if (frame.kind === 'lost') {
            if (frame.lost.through_id > lastId) lastId = frame.lost.through_id
            options.onStatus?.({state: 'lost', fromId: frame.lost.from_id, throughId: frame.lost.through_id, message: frame.lost.message})
          } else if (frame.kind === 'error') {
            if (frame.error.code !== ErrorCode.SubscriberOverflow) throw RpcError.from(frame.error)
            // We fell behind and were cut off: come straight back for the rest.
            reason = frame.error.message
            delay = 0
          }
        }
      } finally {
        signal?.removeEventListener('abort', stop)
      }
    } catch (error) {
      if (error instanceof RpcError) throw error
      reason = (error as Error).message
    } finally {
      subscription?.close()
    }
    if (signal?.aborted) return
    reconnected = true
    options.onStatus?.({state: 'disconnected', reason, retryInMs: delay})
    await sleep(delay, signal)
    delay = Math.min(Math.max(delay * 2, initialMs), maxMs)
  }
}
