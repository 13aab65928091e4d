/**
 * Starting and stopping the daemon from the CLI. A start forks the daemon detached, then
 * polls `health` until it answers or a deadline passes (never a fixed sleep); if the child
 * dies first, the error quotes the end of its log. A stop asks over the socket and waits
 * until the socket stops answering.
 */
import type net from 'node:net'
import {closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readSync, watch} from 'node:fs'
import path from 'node:path'

import {type Config, configEnv} from '../config/index.js'
import {refuseSymlinkedFiles} from '../shared/private-files.js'
import {isAlive} from '../shared/procfs.js'
import {Health, type HealthResult, Shutdown} from '../protocol/daemon.js'
import {databaseInUseError} from '../shared/database-holder.js'
import {pidFilePath, unverifiedDaemonPid} from '../shared/daemon-pid.js'
import {DaemonAlreadyRunningError, DaemonNotRunningError} from '../shared/errors.js'
import {type Connection, DaemonClient, type SocketTransport, connectSocket, openSocket} from './index.js'
import {checkSocketPathLength, probeDaemon} from '../shared/probe.js'
import {checkSocketDirectory} from '../shared/socket-trust.js'
import {ExitCode} from '../cli/exit-codes.js'

export class DaemonStartError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DaemonStartError'
  }
}

export class DaemonStopError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DaemonStopError'
  }
}

const POLL_INTERVAL_MS = 25
export const DEFAULT_START_TIMEOUT_MS = 15_000
export const DEFAULT_STOP_TIMEOUT_MS = 10_000

/**
 * What to fork: the daemon bundled in one CommonJS file and compiled from its code cache (see
 * shared/bundle-loader.cts), for a start that resolves, reads and compiles ~200 modules one by one
 * costs several times node's own start-up; the TS source through tsx in development.
 */
function daemonEntry(): string[] {
  const here = import.meta.filename
  const dist = path.join(path.dirname(here), '..')
  if (here.endsWith('.ts')) return ['--import', 'tsx', path.join(dist, 'daemon', 'entry.ts')]
  return [path.join(dist, 'shared', 'bundle-loader.cjs'), path.join(dist, 'daemon', 'entry.bundle.cjs')]
}

/**
 * The last lines of a log file (for error messages and `hld daemon logs`); empty when there is
 * none. Reads backwards from the end, so a long log costs no more than its tail.
 */
export function logTail(file: string, lines = 20): string {
  if (!existsSync(file) || lines <= 0) return ''
  const fd = openSync(file, 'r')
  try {
    let position = fstatSync(fd).size
    let tail = Buffer.alloc(0)
    // Bytes, not text, until the end: a chunk boundary may split a UTF-8 character.
    const newlines = (): number => tail.toString('latin1').trimEnd().split('\n').length - 1
    while (position > 0 && newlines() < lines) {
      const size = Math.min(TAIL_CHUNK_BYTES, position)
      position -= size
      const chunk = Buffer.alloc(size)
      readSync(fd, chunk, 0, size, position)
      tail = Buffer.concat([chunk, tail])
    }
    return tail.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } finally {
    closeSync(fd)
  }
}

const TAIL_CHUNK_BYTES = 64 * 1024

/** Refuses early when the socket is unusable or held by a live daemon. */
export async function checkNotRunning(socketPath: string): Promise<void> {
  checkSocketPathLength(socketPath)
  checkSocketDirectory(socketPath)
  const live = await probeDaemon(socketPath)
  if (live) throw new DaemonAlreadyRunningError(socketPath, live.pid)
}

export interface SpawnedDaemon {
  pid: number
  /** Settles when the child exits; it should not, while the daemon runs. */
  exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>
}

/** Forks the daemon with `env` (the caller's environment) plus the resolved config. */
export function spawnDaemon(config: Config, env: NodeJS.ProcessEnv = process.env): SpawnedDaemon {
  mkdirSync(path.dirname(config.log_file), {recursive: true, mode: 0o700})
  // The daemon's own stdout/stderr go to its log too, so even a crash before its logger
  // exists leaves a trace that `daemon start` can quote.
  // Refused here too, so `daemon start` says so itself rather than quoting the daemon's log.
  refuseSymlinkedFiles(config, config.log_file)
  // O_NOFOLLOW: a link put there after that check fails the open instead of being followed.
  const out = openSync(config.log_file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600)
  const argv = daemonEntry()
  try {
    // Loaded here, not at the top: every command that may start a daemon loads this module, and
    // node:child_process costs ~1 ms of each one's start while a daemon is already running.
    const child = process.getBuiltinModule('node:child_process').spawn(process.execPath, argv, {
      detached: true,
      stdio: ['ignore', out, out],
      env: {...env, ...configEnv(config)},
    })
    const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => {
      child.once('exit', (code, signal) => resolve({code, signal}))
      child.once('error', () => resolve({code: null, signal: null}))
    })
    child.unref()
    if (child.pid === undefined) throw new DaemonStartError(`Could not fork ${process.execPath} ${argv.join(' ')}`)
    return {pid: child.pid, exited}
  } finally {
    closeSync(out)
  }
}

export async function waitForHealth(config: Config, spawned: SpawnedDaemon, timeoutMs = DEFAULT_START_TIMEOUT_MS): Promise<HealthResult> {
  const socketAppears = watchFor(config.socket_path)
  try {
    return await pollHealth(config, spawned, timeoutMs, socketAppears)
  } finally {
    socketAppears.close()
  }
}

async function pollHealth(config: Config, spawned: SpawnedDaemon, timeoutMs: number, socketAppears: Wake): Promise<HealthResult> {
  let exit: {code: number | null; signal: NodeJS.Signals | null} | undefined
  void spawned.exited.then((value) => (exit = value))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (exit) {
      if (exit.code === ExitCode.Conflict) {
        // It found the database held by another daemon (see src/daemon/database-lock.ts).
        throw databaseInUseError(config.database_path)
      }
      const tail = logTail(config.log_file)
      throw new DaemonStartError(
        `The daemon exited during start (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`}).` +
          (tail ? `\nLast lines of ${config.log_file}:\n${tail}` : ` Its log ${config.log_file} is empty.`),
      )
    }
    try {
      const client = await DaemonClient.connect(config.socket_path, {timeoutMs: 1000})
      try {
        const health = await client.call(Health, {}, {timeoutMs: 2000})
        if (health.pid === spawned.pid) return health
      } finally {
        client.close()
      }
    } catch (error) {
      if (!(error instanceof DaemonNotRunningError)) throw error
    }
    await socketAppears.sleep(POLL_INTERVAL_MS)
  }
  const tail = logTail(config.log_file)
  throw new DaemonStartError(
    `The daemon (pid ${spawned.pid}) did not answer health within ${timeoutMs} ms.` +
      (tail ? `\nLast lines of ${config.log_file}:\n${tail}` : ''),
  )
}

interface Wake {
  /** Resolves after `ms`, or as soon as the file appears (at once if it did since the last sleep). */
  sleep(ms: number): Promise<void>
  close(): void
}

/**
 * A wake-up for when `file` appears. The daemon creates its socket last, when it is ready to
 * answer: waiting on the directory (inotify, FSEvents) answers then, not at the next poll. Where
 * the directory cannot be watched (not there yet, say), the polls alone go on.
 */
function watchFor(file: string): Wake {
  let appeared = false
  let wake: (() => void) | undefined
  const onEvent = (_event: string, name: string | null): void => {
    if (name !== null && name !== path.basename(file)) return
    appeared = true
    wake?.()
  }
  let watcher: ReturnType<typeof watch> | undefined
  try {
    watcher = watch(path.dirname(file), onEvent)
    watcher.on('error', () => watcher?.close())
  } catch {
    // Polling only.
  }
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer)
          wake = undefined
          appeared = false
          resolve()
        }
        const timer = setTimeout(done, ms)
        if (appeared) done()
        else wake = done
      }),
    close: () => watcher?.close(),
  }
}

/**
 * Forks the daemon and waits until it is healthy: what auto-start does. Commands started at
 * once on a fresh home would each fork one; all but one would then fail. So starts take turns
 * (a start lock beside the database, released by the OS if its holder dies), and whoever gets
 * the lock after someone else's start uses that daemon instead of forking another: then it
 * resolves undefined, as nothing was started here.
 */
export async function startDaemonInBackground(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<HealthResult | undefined> {
  checkSocketPathLength(config.socket_path)
  // Loaded here: commands that find the daemon running never pay for SQLite.
  const {waitForLock} = await import('../shared/file-lock.js')
  const lock =
    config.database_path === ':memory:' ? undefined : await waitForLock(`${config.database_path}.start.lock`, DEFAULT_START_TIMEOUT_MS)
  if (config.database_path !== ':memory:' && !lock) {
    throw new DaemonStartError(
      `Another hld command has been starting the daemon for ${DEFAULT_START_TIMEOUT_MS} ms without finishing; try again, or run \`hld daemon start\` to see why.`,
    )
  }
  try {
    const client = await DaemonClient.connect(config.socket_path).catch((error: unknown) => {
      if (error instanceof DaemonNotRunningError) return undefined
      throw error
    })
    if (client) {
      // Another command's turn started it.
      client.close()
      return undefined
    }
    return await waitForHealth(config, spawnDaemon(config, env))
  } finally {
    lock?.release()
  }
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
  }
  return check()
}

export interface StopResult {
  pid: number
  forced: boolean
}

/**
 * Asks the daemon to shut down and waits until its socket no longer answers. With `force`,
 * a daemon still there after the timeout is killed and its socket removed.
 */
export async function stopDaemon(socketPath: string, options: {timeoutMs?: number; force?: boolean} = {}): Promise<StopResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS
  const client = await DaemonClient.connect(socketPath)
  let pid: number
  try {
    pid = (await client.call(Health, {}, {timeoutMs: 5000})).pid
    await client.call(Shutdown, {}, {timeoutMs: 5000})
  } finally {
    client.close()
  }

  const gone = async (): Promise<boolean> => !isAlive(pid) && (await probeDaemon(socketPath)) === undefined
  if (await waitUntil(gone, timeoutMs)) return {pid, forced: false}
  if (!options.force) {
    throw new DaemonStopError(
      `The daemon (pid ${pid}) is still running ${timeoutMs} ms after it was asked to stop. ` + 'Run `hld daemon stop --force` to kill it.',
    )
  }
  // The pid came from whoever answers on the socket: signal it only if the daemon's own pid file
  // names it and it is an hld daemon.
  const unverified = unverifiedDaemonPid(socketPath, pid)
  if (unverified) {
    throw new DaemonStopError(
      `Refusing to kill pid ${pid}, which the process at ${socketPath} reported as its own: ${unverified}. Stop it yourself if you know it is the daemon.`,
    )
  }
  process.kill(pid, 'SIGKILL')
  await waitUntil(() => !isAlive(pid), 2000)
  const {unlink} = process.getBuiltinModule('node:fs/promises') // only after a stop: not at every start
  await Promise.all([unlink(socketPath).catch(() => {}), unlink(pidFilePath(socketPath)).catch(() => {})])
  return {pid, forced: true}
}

/**
 * A connected client, starting the daemon first when none runs, unless
 * HUMANLAYER_NO_AUTOSTART=1. Every command outside `hld daemon *` connects through this.
 */
export async function connectOrStart(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  onStarted: (health: HealthResult) => void = () => {},
  transport: SocketTransport = 'net',
): Promise<DaemonClient> {
  const open = (socketPath: string): Promise<Connection> => openSocket(socketPath, transport)
  return DaemonClient.connect({label: config.socket_path, open: () => openOrStart(config, env, onStarted, open)})
}

/**
 * A connection to the daemon's socket (made by `open`: node:net's by default), starting the
 * daemon first when none runs (unless HUMANLAYER_NO_AUTOSTART=1).
 */
export async function openOrStart<C = net.Socket>(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
  onStarted: (health: HealthResult) => void = () => {},
  open: (socketPath: string) => Promise<C> = connectSocket as (socketPath: string) => Promise<C>,
): Promise<C> {
  try {
    return await open(config.socket_path)
  } catch (error) {
    if (!(error instanceof DaemonNotRunningError) || env.HUMANLAYER_NO_AUTOSTART === '1') throw error
  }
  const started = await startDaemonInBackground(config, env)
  if (started) onStarted(started)
  return open(config.socket_path)
}
