import {z} from 'zod'

import {EVENT_TYPES} from './events.js'
import type {MethodSpec} from './methods.schema.js'
import {Subscribe} from './subscribe.js'

/** hld sends "" for an unset filter (Go zero values): treat it as absent. */
const optionalFilter = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value))

/**
 * Unknown event types and unknown keys are accepted, as the Go hld does (its clients send
 * types of newer daemons): such a type simply never matches, and the daemon logs it at debug.
 */
export const SubscribeParams = z.object({
  event_types: z.array(z.string()).optional(),
  session_id: optionalFilter,
  run_id: optionalFilter,
  /** Replay every event with a larger id from the log, then go live. */
  since: z.number().int().nonnegative().optional(),
})

export const DebugPublishParams = z
  .object({
    type: z.enum(EVENT_TYPES),
    data: z.record(z.string(), z.unknown()),
    count: z.number().int().min(1).max(100_000).optional(),
  })
  .strict()

/** `debugPublish` is left out: it exists only when HUMANLAYER_TEST_EVENTS=1. */
export const SUBSCRIBE_METHODS: MethodSpec[] = [{method: Subscribe, params: SubscribeParams, stream: true}]
