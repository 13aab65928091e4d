import type {z} from 'zod'

import type * as schema from './daemon.schema.js'
import {method} from './method.js'

export interface HealthResult {
  status: 'ok'
  version: string
  pid: number
  started_at: string
  uptime_ms: number
  socket_path: string
  database_path: string
  log_file: string | null
  /** Capabilities that can be missing without stopping the daemon (e.g. `claude`). */
  components: Record<string, ComponentHealth>
}

export interface ComponentHealth {
  available: boolean
  detail?: string
}

export interface ShutdownResult {
  shutting_down: true
}

export const Health = method<z.input<typeof schema.HealthParams>, HealthResult>('health')
export const Shutdown = method<z.input<typeof schema.ShutdownParams>, ShutdownResult>('shutdown')
