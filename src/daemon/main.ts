/**
 * The composition root: config → store → bus → services → RPC server, each given what it
 * needs through its constructor. Shutdown runs the same list in reverse under a deadline.
 */
import {mkdtempSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {removePidFile, writePidFile} from '../shared/daemon-pid.js'
import type {Config} from '../config/index.js'
import type {ComponentHealth} from '../protocol/daemon.js'
import {FetchApprovals, GetApproval, WaitForDecision} from '../protocol/approvals.js'
import {ConnectionOrigin, Health, Shutdown} from '../protocol/daemon.js'
import {DecideToolUse} from '../protocol/policy.js'
import {
  ContinueSession,
  GetConversation,
  GetRecentPaths,
  GetSessionLeaves,
  GetSessionSnapshots,
  GetSessionState,
  LaunchSession,
  ListSessions,
} from '../protocol/sessions.js'
import {DebugPublish, Subscribe} from '../protocol/subscribe.js'
import {EventLog} from './bus/log.js'
import {createSubscribeStream} from './bus/subscription.js'
import {registerTestEventHooks} from './bus/test-hooks.js'
import {startApprovals} from './approvals/index.js'
import type {SessionLink} from './approvals/session-link.js'
import type {Logger} from '../shared/logger.js'
import {packageVersion} from '../shared/package-root.js'
import {policyFilePath} from './policy/file.js'
import {registerPolicyHandlers} from './policy/handlers.js'
import {PolicyService} from './policy/service.js'
import {refuseSymlinkedFiles, tightenPrivateFiles} from '../shared/private-files.js'
import {Router} from './rpc/router.js'
import {RpcServer} from './rpc/server.js'
import {prepareSocketPath} from './rpc/socket.js'
import {DatabaseInUseError} from '../shared/errors.js'
import {ExitCode} from '../cli/exit-codes.js'
import {lockDatabase, recordHolder} from './database-lock.js'
import {locateClaude} from './sessions/claude-locator.js'
import {registerSessionHandlers} from './sessions/handlers.js'
import {mcpConfigDirs, sweepMcpConfigs} from './sessions/mcp-config.js'
import {reconcileSessions} from './sessions/reconcile.js'
import {SessionService} from './sessions/service.js'
import {openStore} from './store/index.js'
import {TableRetention} from './store/retention.js'
import {daemonMeta, rawEvents} from './store/schema/index.js'
import {registerSystemHandlers} from './system.js'

/** Methods that only read: they answer at once, even while another process holds the database's write lock. */
const READ_ONLY_METHODS: ReadonlySet<string> = new Set([
  Health.name,
  Shutdown.name,
  ConnectionOrigin.name,
  ListSessions.name,
  GetSessionState.name,
  GetConversation.name,
  FetchApprovals.name,
  GetApproval.name,
  WaitForDecision.name,
  DebugPublish.name,
  GetSessionLeaves.name,
  GetSessionSnapshots.name,
  GetRecentPaths.name,
])

/**
 * Requests whose commit is synced off the event loop (Store.write's syncOffLoop): a launch's reply
 * still waits until its session's row is on disk, but its spawn does not, and neither does anyone
 * else's request (a FULL commit held the whole daemon for the sync, a few ms each, most of a
 * launch after the spawn). Its row is visible to others for those ms before it is on disk; only a
 * power loss could undo it then, and that ends the claude it started too. Everything else a
 * request writes, approvals and decisions above all, is synced inside its commit: nobody sees it,
 * and no waiter learns of it, before it is on disk.
 */
const SYNC_OFF_LOOP_METHODS: ReadonlySet<string> = new Set([LaunchSession.name, ContinueSession.name])

/**
 * Methods whose handlers take the write lock themselves, with the durability each write needs:
 * a tool call a rule decides is audited with synchronous=NORMAL, an approval and a human's
 * decision with FULL (see PolicyService.decide).
 */
const SELF_WRITING_METHODS: ReadonlySet<string> = new Set([DecideToolUse.name])

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
  /** The umask of whoever started the daemon, for claude: the daemon's own 0077 is not the agent's. */
  userUmask?: number
}

export async function startDaemon(config: Config, log: Logger, options: DaemonOptions): Promise<Daemon> {
  // Before anything else is touched: the socket and the sessions belong to whoever holds this.
  const lock = lockDatabase(config.database_path)
  try {
    return await startLocked(config, log, options, () => lock?.release())
  } catch (error) {
    lock?.release()
    throw error
  }
}

async function startLocked(config: Config, log: Logger, options: DaemonOptions, releaseLock: () => void): Promise<Daemon> {
  const version = packageVersion()
  const startedAt = new Date()
  await prepareSocketPath(config.socket_path)
  refuseSymlinkedFiles(config, options.logFile)
  tightenPrivateFiles(config, options.logFile, log)

  const store = openStore(config.database_path, {lockWaitMs: config.database_lock_wait_ms})
  const outputDir =
    config.database_path === ':memory:'
      ? mkdtempSync(path.join(os.tmpdir(), 'hld-sessions-'))
      : path.join(path.dirname(config.database_path), 'sessions')
  await store.write(() => {
    recordHolder(store, config.socket_path)
    store.db
      .insert(daemonMeta)
      .values({key: 'last_opened_by', value: version})
      .onConflictDoUpdate({target: daemonMeta.key, set: {value: version}})
      .run()
  })

  const bus = new EventLog(store, log.child({component: 'events'}), {
    maxCount: config.event_retention_count,
    maxAgeMs: config.event_retention_ms,
  }).start()
  // claude's stdout lines as it wrote them: kept for debugging, and large, so bounded like events.
  const rawRetention = new TableRetention(
    store,
    {table: rawEvents, id: rawEvents.id, time: rawEvents.createdAt, timeOf: (ms) => ms},
    {maxCount: config.raw_event_retention_count, maxAgeMs: config.raw_event_retention_ms},
    log.child({component: 'retention'}),
  ).start()

  // What a request writes is synced before it is answered.
  const router = new Router(log, {
    writeGate: (work, method) => store.write(work, {durable: true, syncOffLoop: SYNC_OFF_LOOP_METHODS.has(method)}),
    ungated: new Set([...READ_ONLY_METHODS, ...SELF_WRITING_METHODS]),
  })
  const components: Record<string, () => ComponentHealth> = {}

  // Built after sessions and approvals (it needs the approvals service); sessions reach it lazily.
  const built: {policy?: PolicyService} = {}
  const sessions = new SessionService({
    store,
    bus,
    log: log.child({component: 'sessions'}),
    socketPath: config.socket_path,
    outputDir,
    apiKey: config.api_key,
    stopTimeoutMs: config.session_stop_timeout_ms,
    maxConcurrentSessions: config.max_concurrent_sessions,
    claudeUmask: options.userUmask,
    locateClaude: () => locateClaude(config.claude_path),
    policy: {prepareSession: (session, params) => built.policy!.prepareSession(session, params)},
  })
  // approvals is built below; settings are only changed once the daemon serves requests.
  registerSessionHandlers(router, sessions, (by, subject) => approvals.service.admit(by, subject))
  components.claude = () => sessions.claudeHealth()

  // Subscribed to the bus before the orphan sweep below, so it expires the approvals of
  // sessions a previous daemon left behind.
  // Under the write lock: it expires what the previous daemon left pending.
  const approvals = await store.write(() =>
    startApprovals({
      config,
      db: store.db,
      write: store.write,
      bus,
      sessions: options.sessionLink ?? sessions,
      sessionProcesses: () => sessions.runningProcesses(),
      // Built below; approvals are only created once the daemon serves requests.
      settingApproval: (sessionId, toolName, toolInput) => built.policy?.settingApproval(sessionId, toolName, toolInput),
      router,
      log,
    }),
  )
  components.cloud = () => approvals.health()

  const policy = (built.policy = new PolicyService({
    db: store.db,
    approvals: approvals.service,
    log: log.child({component: 'policy'}),
    paths: {
      socketPath: config.socket_path,
      databasePath: config.database_path,
      configDir: path.dirname(config.config_file),
      httpTokenFile: config.http_token_file,
      mcpConfigDirs: mcpConfigDirs(config.socket_path),
    },
    policyFile: policyFilePath(config.config_file),
    socketPath: config.socket_path,
    reconnectMs: config.approval_reconnect_ms,
    cloud: config.api_key !== undefined,
    write: store.write,
    sessionSettings: (sessionId) => sessions.policySettings(sessionId),
  }))
  try {
    policy.checkFile()
  } catch (error) {
    await approvals.stop()
    bus.close()
    store.close()
    throw error
  }
  registerPolicyHandlers(router, policy)

  let resolveDone!: () => void
  const done = new Promise<void>((resolve) => (resolveDone = resolve))
  let stopping: Promise<void> | undefined

  registerSystemHandlers(router, {
    version,
    startedAt,
    socketPath: config.socket_path,
    databasePath: config.database_path,
    logFile: options.logFile,
    logFailures: () => log.failures,
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
  // Each of its writes waits for the database's lock (Store.write) on its own.
  await reconcileSessions(sessions, log)
  // Expiries that passed while no daemon ran are announced now; the next one gets a timer.
  await store.write(() => sessions.expireSkipPermissions())
  const swept = sweepMcpConfigs(config.socket_path, sessions.mcpConfigsInUse())
  if (swept.removed > 0) log.info('removed MCP config files that ended sessions left behind', {count: swept.removed})
  for (const {path, error} of swept.failed) log.warn('could not remove a leftover MCP config', {path, error})

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
        write: (work) => store.write(work, {durable: true}),
        log: log.child({component: 'http'}),
      })
      const url = `http://127.0.0.1:${http.port}/api/v1`
      components.http = () => ({available: true, detail: url})
    } catch (error) {
      await approvals.stop()
      rawRetention.close()
      bus.close()
      store.close()
      throw new Error(`Cannot serve the HTTP API on 127.0.0.1:${config.http_port} (http_port): ${(error as Error).message}`, {cause: error})
    }
  }
  const server = new RpcServer({
    socketPath: config.socket_path,
    maxFrameBytes: config.max_frame_bytes,
    maxConnections: config.max_connections,
    maxPendingFrameBytes: config.max_pending_frame_bytes,
    frameIdleTimeoutMs: config.frame_idle_timeout_ms,
    router,
    streams,
    log,
  })
  try {
    // For `hld daemon stop --force`: the one pid it may kill (see shared/daemon-pid.ts).
    writePidFile(config.socket_path)
    await server.listen()
  } catch (error) {
    removePidFile(config.socket_path)
    await http?.close()
    await approvals.stop()
    rawRetention.close()
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
      rawRetention.close()
      bus.close()
      store.close()
      try {
        removePidFile(config.socket_path)
      } catch (error) {
        log.warn('could not remove the pid file', {error})
      }
      releaseLock()
      log.info('daemon stopped')
      resolveDone()
    })()
    return stopping
  }

  return {socketPath: config.socket_path, shutdown, done}
}

/** How a daemon that cannot start says why on stderr (its log, when forked). */
export const START_FAILURE_PREFIX = 'hld daemon failed to start: '

/**
 * Runs the daemon until SIGINT, SIGTERM or the `shutdown` method; returns the exit code.
 * Used by the forked entry point and by `hld daemon start --foreground`.
 */
export async function runDaemon(config: Config, log: Logger, options: DaemonOptions): Promise<number> {
  // Everything the daemon creates (database, logs, temp MCP configs) is for this user only;
  // what claude creates in the user's project follows the user's own umask.
  const userUmask = process.umask(0o077)
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
      daemon = await startDaemon(config, log, {userUmask, ...options})
    } catch (error) {
      log.error('daemon failed to start', {error})
      process.stderr.write(`${START_FAILURE_PREFIX}${(error as Error).message}\n`)
      return error instanceof DatabaseInUseError ? ExitCode.Conflict : 1
    }
    if (pending) void daemon.shutdown(pending)
    await daemon.done
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
  return 0
}
