/** The daemon's own methods: `health`, `shutdown`, and `connectionOrigin` (see src/protocol/daemon.ts). */
import type {ComponentHealth, HealthResult} from '../protocol/daemon.js'
import {ConnectionOrigin, Health, Shutdown} from '../protocol/daemon.js'
import {ErrorCode, RpcError} from '../protocol/errors.js'
import {type Router, schemasFrom} from './rpc/router.js'

/** Loaded (with zod) by the first call that validates with one of them. */
const schema = schemasFrom(() => import('../protocol/daemon.schema.js'))

export interface SystemDeps {
  version: string
  startedAt: Date
  socketPath: string
  databasePath: string
  logFile: string | null
  /** The daemon's log writes that failed so far. */
  logFailures: () => {count: number; last?: string}
  /** Optional capabilities reported by services, e.g. whether `claude` was found. */
  components: () => Record<string, ComponentHealth>
  requestShutdown: (reason: string) => void
}

export function registerSystemHandlers(router: Router, deps: SystemDeps): void {
  // No params: a health check (the CLI's after every start, a monitor's) runs without loading zod.
  router.register(
    Health,
    schema('HealthParams'),
    (): HealthResult => ({
      status: 'ok',
      version: deps.version,
      pid: process.pid,
      started_at: deps.startedAt.toISOString(),
      uptime_ms: Date.now() - deps.startedAt.getTime(),
      socket_path: deps.socketPath,
      database_path: deps.databasePath,
      log_file: deps.logFile,
      log_write_failures: deps.logFailures().count,
      ...(deps.logFailures().last === undefined ? {} : {log_write_error: deps.logFailures().last}),
      components: deps.components(),
    }),
    {noParams: true},
  )

  router.register(ConnectionOrigin, schema('ConnectionOriginParams'), (params, ctx) => {
    // Only before any request: otherwise a client behind dial-stdio could say where it is from itself.
    if (ctx.connection.frames !== 1 || ctx.connection.origin) {
      throw new RpcError(
        ErrorCode.InvalidRequest,
        `${ConnectionOrigin.name} is accepted only as a connection's first frame (hld daemon dial-stdio sends it)`,
      )
    }
    ctx.connection.origin = params
    return null
  })

  router.register(
    Shutdown,
    schema('ShutdownParams'),
    () => {
      // Answer first; the shutdown starts once this reply is on its way.
      setImmediate(() => deps.requestShutdown('shutdown requested over RPC'))
      return {shutting_down: true as const}
    },
    {noParams: true},
  )
}
