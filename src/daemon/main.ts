/**
 * The composition root: config → store → bus → services → RPC server, each given what it
 * needs through its constructor. Shutdown runs the same list in reverse under a deadline.
 */
import type {Config} from '../config/index.js'
import type {ComponentHealth} from '../protocol/daemon.js'
import {Subscribe} from '../protocol/subscribe.js'
import {EventLog} from './bus/log.js'
import {createSubscribeStream} from './bus/subscription.js'
import {registerTestEventHooks} from './bus/test-hooks.js'
import {startApprovals} from './approvals/index.js'
import type {SessionLink} from './approvals/session-link.js'
import type {Logger} from './logger.js'
import {packageVersion} from './package-root.js'
import {Router} from './rpc/router.js'
import {RpcServer} from './rpc/server.js'
import {prepareSocketPath} from './rpc/socket.js'
import {locateClaude} from './sessions/claude-locator.js'
import {registerSessionHandlers} from './sessions/handlers.js'
import {reconcileSessions} from './sessions/reconcile.js'
import {SessionService} from './sessions/service.js'
import {openStore} from './store/index.js'
import {daemonMeta} from './store/schema/index.js'
import {registerSystemHandlers} from './system.js'

export interface Daemon {
  readonly socketPath: string
  /** Idempotent; resolves once everything is closed and the socket removed. */
  shutdown(reason: string): Promise<void>
  /** Resolves when the daemon has shut down, for whatever reason. */
  readonly done: Promise<void>
}

export interface DaemonOptions {
  /** Where logs go, for `health` (null in the foreground, where they go to stderr). */
  logFile: string | null
  shutdownTimeoutMs?: number
  /** Replaces the sessions service as approvals see it (in-process tests and the bench). */
  sessionLink?: SessionLink
}

export async function startDaemon(config: Config, log: Logger, options: DaemonOptions): Promise<Daemon> {
  const version = packageVersion()
  const startedAt = new Date()
  await prepareSocketPath(config.socket_path)

  const store = openStore(config.database_path)
  store.db
    .insert(daemonMeta)
    .values({key: 'last_opened_by', value: version})
    .onConflictDoUpdate({target: daemonMeta.key, set: {value: version}})
    .run()

  const bus = new EventLog(store, log.child({component: 'events'}), {
    maxCount: config.event_retention_count,
    maxAgeMs: config.event_retention_ms,
  }).start()

  const router = new Router(log)
  const components: Record<string, () => ComponentHealth> = {}

  const sessions = new SessionService({
    store,
    bus,
    log: log.child({component: 'sessions'}),
    socketPath: config.socket_path,
    apiKey: config.api_key,
    stopTimeoutMs: config.session_stop_timeout_ms,
    locateClaude: () => locateClaude(config.claude_path),
  })
  registerSessionHandlers(router, sessions)
  components.claude = () => sessions.claudeHealth()

  // Subscribed to the bus before the orphan sweep below, so it expires the approvals of
  // sessions a previous daemon left behind.
  const approvals = startApprovals({config, db: store.db, bus, sessions: options.sessionLink ?? sessions, router, log})
  components.cloud = () => approvals.health()

  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => (resolveDone = resolve))
  let stopping: Promise<void> | undefined

  registerSystemHandlers(router, {
    version,
    startedAt,
    socketPath: config.socket_path,
    databasePath: config.database_path,
    logFile: options.logFile,
    components: () => Object.fromEntries(Object.entries(components).map(([name, probe]) => [name, probe()])),
    requestShutdown: (reason) => void shutdown(reason),
  })

  if (process.env.HUMANLAYER_TEST_EVENTS === '1') {
    registerTestEventHooks(router, bus)
    log.warn('test hook debugPublish is enabled (HUMANLAYER_TEST_EVENTS=1)')
  }

  const streams = {
    [Subscribe.name]: createSubscribeStream(bus, {
      heartbeatIntervalMs: config.heartbeat_interval_ms,
      bufferBytes: config.subscriber_buffer_bytes,
      log: log.child({component: 'subscribe'}),
    }),
  }
  // Before anyone can connect, and after every bus subscriber is wired, so the final status
  // events of sessions a previous daemon left behind reach them all.
  reconcileSessions(sessions, log)

  // Before the socket answers health, so a daemon reported started serves its HTTP API too.
  let http: {port: number; close(): Promise<void>} | undefined
  if (config.http_port !== undefined) {
    try {
      // Loaded only when asked for: the REST API and its OpenAPI tooling stay out of a lean start.
      const {startHttpApi} = await import('./http/server.js')
      http = await startHttpApi({
        port: config.http_port,
        auth: config.http_auth,
        tokenFile: config.http_token_file,
        allowedOrigins: config.http_allowed_origins,
        sessions,
        approvals: approvals.service,
        version,
        subscribe: streams[Subscribe.name],
        log: log.child({component: 'http'}),
      })
      const url = `http://127.0.0.1:${http.port}/api/v1`
      components.http = () => ({available: true, detail: url})
    } catch (error) {
      await approvals.stop()
      bus.close()
      store.close()
      throw new Error(`Cannot serve the HTTP API on 127.0.0.1:${config.http_port} (http_port): ${(error as Error).message}`, {cause: error})
    }
  }
  const server = new RpcServer({socketPath: config.socket_path, maxFrameBytes: config.max_frame_bytes, router, streams, log})
  try {
    await server.listen()
  } catch (error) {
    await http?.close()
    await approvals.stop()
    bus.close()
    store.close()
    throw error
  }
  log.info('daemon started', {pid: process.pid, version, socket: config.socket_path, database: config.database_path})

  async function shutdown(reason: string): Promise<void> {
    stopping ??= (async () => {
      log.info('daemon shutting down', {reason})
      approvals.releaseWaiters() // answer the long-polls so the server can drain
      // In parallel, as hld does: requests waiting on a session (continue) end as it is interrupted.
      await Promise.all([server.close(options.shutdownTimeoutMs ?? 5000), http?.close(), sessions.stop()])
      await approvals.stop()
      // After the services: stopping them publishes their final events.
      bus.close()
      store.close()
      log.info('daemon stopped')
      resolveDone()
    })()
    return stopping
  }

  return {socketPath: config.socket_path, shutdown, done}
}

/**
 * Runs the daemon until SIGINT, SIGTERM or the `shutdown` method; returns the exit code.
 * Used by the forked entry point and by `hld daemon start --foreground`.
 */
export async function runDaemon(config: Config, log: Logger, options: DaemonOptions): Promise<number> {
  // Everything the daemon creates (database, logs, temp MCP configs) is for this user only.
  process.umask(0o077)
  // Listening before the daemon is up: the socket answers health while start-up still awaits
  // (chmod, the HTTP API), and a signal then must stop the daemon, not kill it unannounced.
  let daemon: Daemon | undefined
  let pending: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals): void => {
    log.info('signal received', {signal})
    if (daemon) void daemon.shutdown(signal)
    else pending ??= signal
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    try {
      daemon = await startDaemon(config, log, options)
    } catch (error) {
      log.error('daemon failed to start', {error})
      process.stderr.write(`hld daemon failed to start: ${(error as Error).message}\n`)
      return 1
    }
    if (pending) void daemon.shutdown(pending)
    await daemon.done
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return 0
}
