/**
 * The `Subscribe` stream (the Go hld's, described in docs/events.md): one request takes the connection
 * over, and every frame after it is a JSON-RPC response with `id: null`. In order: one
 * confirmation, then event frames, with a heartbeat after each idle interval; bad params get
 * one -32602 error frame and the connection is closed; a subscriber that falls too far
 * behind gets one `SubscriberOverflow` error frame carrying the last event id it was sent.
 *
 * Our additions, invisible to hld clients (they ignore unknown keys and params they do not
 * send): events carry `id`; params take `since`; the confirmation carries `last_event_id`
 * (where a subscriber that has seen nothing yet resumes) and `pruned_through` (set when
 * `since` is older than what retention kept, so the client knows it has a gap).
 */
import type {z} from 'zod'

import type {RpcErrorObject} from './errors.js'
import type {DaemonEvent, EventType} from './events.js'
import {method} from './method.js'
import type * as schema from './subscribe.schema.js'

export type SubscribeParams = z.input<typeof schema.SubscribeParams>

export interface SubscribeConfirmation {
  subscription_id: string
  message: string
  /** The newest event in the log when the subscription started. */
  last_event_id: number
  /** Present when events after `since` were already pruned: the newest id no longer kept. */
  pruned_through?: number
}

/**
 * Sent in place of events the daemon could not store and gave up on (its database refused
 * them for too long): they are delivered to no one. Live subscribers and replays (`since`)
 * alike get it where the ids jump, whatever their filter.
 */
export interface EventsLostResult {
  type: 'events_lost'
  from_id: number
  through_id: number
  message: string
}

/** `data` of the overflow error frame. */
export interface OverflowData {
  last_event_id: number
}

/** hld's method name, capital S included. */
export const Subscribe = method<SubscribeParams, SubscribeConfirmation>('Subscribe')

export const SUBSCRIBED_MESSAGE = 'Subscription established. Waiting for events...'
export const HEARTBEAT_MESSAGE = 'Connection alive'

/** One frame of the stream, as a client reads it. */
export type SubscribeFrame =
  | {kind: 'confirmation'; confirmation: SubscribeConfirmation}
  | {kind: 'event'; event: DaemonEvent}
  | {kind: 'heartbeat'}
  | {kind: 'lost'; lost: EventsLostResult}
  | {kind: 'error'; error: RpcErrorObject}

/** Classifies a frame by its shape; undefined for anything that is not a stream frame. */
export function parseSubscribeFrame(line: string): SubscribeFrame | undefined {
  let frame: {result?: Record<string, unknown>; error?: RpcErrorObject}
  try {
    frame = JSON.parse(line) as typeof frame
  } catch {
    return undefined
  }
  if (typeof frame !== 'object' || frame === null) return undefined
  if (frame.error && typeof frame.error.code === 'number') return {kind: 'error', error: frame.error}
  const result = frame.result
  if (typeof result !== 'object' || result === null) return undefined
  if (typeof result.event === 'object' && result.event !== null) return {kind: 'event', event: result.event as DaemonEvent}
  if (result.type === 'heartbeat') return {kind: 'heartbeat'}
  if (result.type === 'events_lost') return {kind: 'lost', lost: result as unknown as EventsLostResult}
  if (typeof result.subscription_id === 'string') return {kind: 'confirmation', confirmation: result as unknown as SubscribeConfirmation}
  return undefined
}

/**
 * An event frame around an event already serialised as JSON, so the daemon encodes each
 * event once however many subscribers receive it.
 */
export function eventFrameLine(eventJson: string): string {
  return `{"jsonrpc":"2.0","result":{"event":${eventJson}},"id":null}\n`
}

/** Test hook, registered only when the daemon runs with HUMANLAYER_TEST_EVENTS=1. */
export interface DebugPublishParams {
  type: EventType
  data: Record<string, unknown>
  /** Publish this many copies in one go (each gets `data.seq` = 0..count-1). */
  count?: number
}

export interface DebugPublishResult {
  first_id: number
  last_id: number
}

export const DebugPublish = method<DebugPublishParams, DebugPublishResult>('debugPublish')
