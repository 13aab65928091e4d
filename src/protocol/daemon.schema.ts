import {z} from 'zod'

import {Health, Shutdown} from './daemon.js'
import type {MethodSpec} from './methods.schema.js'

export const HealthParams = z.object({}).strict()
export const ShutdownParams = z.object({}).strict()

export const DAEMON_METHODS: MethodSpec[] = [
  {method: Health, params: HealthParams},
  {method: Shutdown, params: ShutdownParams},
]
