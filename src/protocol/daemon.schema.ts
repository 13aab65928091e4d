import {z} from 'zod'

import {ConnectionOrigin, Health, Shutdown} from './daemon.js'
import type {MethodSpec} from './methods.schema.js'

export const HealthParams = z.object({}).strict()
export const ShutdownParams = z.object({}).strict()
export const ConnectionOriginParams = z
  .object({
    // Four words as sshd sets it; bounded, as it is stored with every decision made over the connection.
    ssh_connection: z.string().max(300).optional(),
  })
  .strict()

export const DAEMON_METHODS: MethodSpec[] = [
  {method: Health, params: HealthParams},
  {method: Shutdown, params: ShutdownParams},
  {method: ConnectionOrigin, params: ConnectionOriginParams},
]
