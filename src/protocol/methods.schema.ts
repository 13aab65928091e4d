/**
 * Every method the daemon serves, with the zod schema of its params: one list per domain
 * (`<domain>.schema.ts` exports `<DOMAIN>_METHODS`), joined here. The protocol fuzz suite
 * sends wrong params to each entry, so a method missing from this list goes untested.
 */
import type {z} from 'zod'

import {APPROVALS_METHODS} from './approvals.schema.js'
import {DAEMON_METHODS} from './daemon.schema.js'
import type {Method} from './method.js'
import {POLICY_METHODS} from './policy.schema.js'
import {SESSIONS_METHODS} from './sessions.schema.js'
import {SUBSCRIBE_METHODS} from './subscribe.schema.js'

export interface MethodSpec {
  method: Method<unknown, unknown>
  params: z.ZodType
  /** The method takes its connection over after the first reply (a stream such as `Subscribe`). */
  stream?: true
}

export const METHODS: MethodSpec[] = [...DAEMON_METHODS, ...SESSIONS_METHODS, ...APPROVALS_METHODS, ...POLICY_METHODS, ...SUBSCRIBE_METHODS]
