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
  /** Log lines lost because writing them failed (a full disk, say); the daemon carries on regardless. */
  log_write_failures: number
  /** Why the last of them failed. */
  log_write_error?: string
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
/**
 * Where a connection's requests come from when they are not from this machine: `hld daemon
 * dial-stdio` sends it as a notification (no id) before anything else, with $SSH_CONNECTION
 * ("client-address client-port server-address server-port"). Accepted as a connection's first
 * frame only. Recorded with decisions (DecisionProvenance); it grants nothing: the kernel's view
 * of the peer (dial-stdio itself) is what the self-approval check judges.
 */
export const ConnectionOrigin = method<z.input<typeof schema.ConnectionOriginParams>, null>('connectionOrigin')
