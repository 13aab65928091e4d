/**
 * One claude process, spawned in its own process group (so a signal reaches the tools it
 * started too), or adopted from a daemon that died.
 *
 * claude's stdout and stderr go to files of the session (sessions/<id>.out and .err beside the
 * database), not to pipes: a pipe dies with the daemon, taking claude with it (SIGPIPE) or
 * losing what was in it, while a file lets claude run on and a restarted daemon read on from
 * where the last one stopped. The daemon tails the output file as newline-framed lines of any
 * realistic size, and after claude exits reads it to its end: nothing claude wrote is dropped.
 */
import {closeSync, fstatSync, openSync, readlinkSync, readSync, statSync, watch, type FSWatcher} from 'node:fs'
import {createRequire} from 'node:module'
import {constants} from 'node:os'
import path from 'node:path'

import {type ChildProcess, spawn} from 'node:child_process'

import {packageRoot} from '../../shared/package-root.js'
import {isAlive} from '../../shared/procfs.js'
import {LineDecoder} from '../../protocol/framing.js'

/** Lines of many MiB happen (big Read results); 10 MiB was too small upstream (#304). */
const MAX_STREAM_LINE_BYTES = 256 * 1024 * 1024
const STDERR_TAIL_BYTES = 4096
const READ_CHUNK_BYTES = 256 * 1024
/** A file watch can miss a change (or be unavailable); the tail also looks this often. */
const TAIL_POLL_MS = 500
/** How often an adopted claude, which is not our child and sends no exit event, is checked on. */
const ADOPTED_POLL_MS = 200

export interface RunOutcome {
  /** null with `signal` when killed; both null when unknown (an adopted claude is not our child). */
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** The last few KiB of stderr, trimmed. */
  stderrTail: string
  /** Whether this daemon adopted the process from a previous one, so its exit status is unknown. */
  adopted: boolean
}

export interface SessionFiles {
  /** claude's stdout. */
  output: string
  /** claude's stderr. */
  errors: string
}

interface Reading {
  files: SessionFiles
  /**
   * Every complete stdout line of one read, in order, and the output file's offset just past
   * them. Synchronous, so reading waits for it. A line over the size limit arrives as
   * `{"type":"hld_line_too_long","bytes":N}` in its place.
   */
  onLines: (lines: string[], offset: number) => void
  onOversize: (bytes: number) => void
  maxLineBytes?: number
}

export interface ClaudeProcessOptions extends Reading {
  command: string
  args: string[]
  cwd: string
  /** The umask claude starts with; the daemon's when unset. */
  umask?: number
  /** Changes to the daemon's environment, which claude inherits; undefined removes a variable. */
  env?: Record<string, string | undefined>
}

export interface ClaudeProcess {
  /** The process-group leader's pid. */
  readonly pid: number
  /** Signals the whole process group; does nothing once claude has exited. */
  signal(signal: NodeJS.Signals): void
  readonly exited: Promise<RunOutcome>
}

export class SpawnError extends Error {
  constructor(
    command: string,
    readonly reason: string,
  ) {
    super(`Could not start ${command}: ${reason}`)
    this.name = 'SpawnError'
  }
}

/** How a detached child ends: its exit code, or the signal that killed it. */
type Exit = [code: number | null, signal: NodeJS.Signals | null]

interface Detached {
  pid: number
  /** Resolves once it has ended and been reaped (its pid may be reused from then on). */
  exited: Promise<Exit>
}

interface DetachedSpawn {
  command: string
  args: string[]
  cwd: string
  env: NodeJS.ProcessEnv
  /** Descriptors its stdout and stderr go to (it gets copies; the caller closes these). */
  stdout: number
  stderr: number
  /** Its umask; the daemon's when unset. */
  umask?: number
}

interface SpawnAddon {
  supported: boolean
  /** Absent from an addon built before spawnDetached took the umask (updated without npm rebuild). */
  withUmask?: boolean
  spawnDetached(
    file: string,
    args: string[],
    env: string[],
    cwd: string,
    stdoutFd: number,
    stderrFd: number,
    /** -1: the daemon's. */
    umask: number,
    onExit: (code: number | null, signal: number | null) => void,
  ): number
}

let spawnAddon: SpawnAddon | null | undefined

/**
 * The addon if it works on this system and is built from this spawn.c: one built from an older
 * one (hld updated without `npm rebuild`) takes other arguments, so child_process it is, until rebuilt.
 */
export function usableSpawnAddon<T extends {supported: boolean; withUmask?: boolean}>(addon: T): T | null {
  return addon.supported && addon.withUmask === true ? addon : null
}

/** native/spawn.c where it was built and works on this system, else null (then child_process does it). */
function loadSpawnAddon(): SpawnAddon | null {
  if (spawnAddon !== undefined) return spawnAddon
  try {
    const addon = createRequire(import.meta.url)(path.join(packageRoot(), 'build', 'Release', 'spawn.node')) as SpawnAddon
    spawnAddon = usableSpawnAddon(addon)
  } catch {
    spawnAddon = null
  }
  return spawnAddon
}

/** Signal numbers → names; an alias (SIGIOT for SIGABRT, SIGPOLL for SIGIO) comes after its signal and is not taken. */
const SIGNAL_NAMES = new Map<number, NodeJS.Signals>()
for (const [name, number] of Object.entries(constants.signals))
  if (!SIGNAL_NAMES.has(number)) SIGNAL_NAMES.set(number, name as NodeJS.Signals)

/**
 * Starts a program in its own session and process group (as `detached: true` does), stdin from
 * /dev/null, with the given umask. Through native/spawn.c (a vfork-like clone that sets the umask
 * and execs the program itself) where it loads: Node's spawn forks, and fork copies the daemon's
 * page tables on the event loop, a cost that grows with the daemon's memory and was most of a
 * launch. Else through child_process, with the same behaviour: Node cannot give a child its own
 * umask, and changing the daemon's around the spawn would race its own file creation on other
 * threads, so there sh sets it and execs the program, keeping the pid (an exec more per launch).
 */
async function spawnDetached(options: DetachedSpawn): Promise<Detached> {
  const addon = loadSpawnAddon()
  if (addon) {
    const env = Object.entries(options.env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]))
    let resolveExit!: (exit: Exit) => void
    const exited = new Promise<Exit>((resolve) => (resolveExit = resolve))
    let pid: number
    try {
      pid = addon.spawnDetached(
        options.command,
        options.args,
        env,
        options.cwd,
        options.stdout,
        options.stderr,
        options.umask ?? -1,
        (code, signal) => resolveExit([code, signal === null ? null : (SIGNAL_NAMES.get(signal) ?? null)]),
      )
    } catch (error) {
      throw new SpawnError(options.command, (error as Error).message)
    }
    return {pid, exited}
  }
  const [command, args] =
    options.umask === undefined
      ? [options.command, options.args]
      : ['/bin/sh', ['-c', 'umask "$0" && exec "$@"', options.umask.toString(8).padStart(4, '0'), options.command, ...options.args]]
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', options.stdout, options.stderr],
  })
  if (child.pid === undefined) {
    const reason = await new Promise<string>((resolve) => child.once('error', (error) => resolve(error.message)))
    throw new SpawnError(options.command, reason)
  }
  child.on('error', () => {}) // signals to a process that is gone: nothing to report
  return {pid: child.pid, exited: new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])))}
}

export async function startClaude(options: ClaudeProcessOptions): Promise<ClaudeProcess> {
  const out = openSync(options.files.output, 'a', 0o600)
  const err = openSync(options.files.errors, 'a', 0o600)
  let child: Detached
  try {
    child = await spawnDetached({
      command: options.command,
      args: options.args,
      cwd: options.cwd,
      env: childEnv(options.env),
      stdout: out,
      stderr: err,
      umask: options.umask,
    })
  } finally {
    // claude holds its own copies.
    closeSync(out)
    closeSync(err)
  }
  const pid = child.pid
  const tail = new OutputTail(options, 0)

  let hasExited = false
  const exited = (async (): Promise<RunOutcome> => {
    const [exitCode, signal] = await child.exited
    // What claude left running in its group (tools, MCP servers) ends with it (upstream
    // #1097). Afterwards its pid may be reused, so from then on signals go nowhere.
    killGroup(pid, 'SIGKILL')
    hasExited = true
    await tail.finish()
    return {exitCode, signal, stderrTail: stderrTail(options.files.errors), adopted: false}
  })()

  return {
    pid,
    exited,
    signal(sig) {
      if (!hasExited) killGroup(pid, sig)
    },
  }
}

/**
 * Follows a claude that a previous daemon started and that still runs (the caller has verified
 * it): its output from `offset` on, and its end, which is noticed by polling since it is not our
 * child. Its exit status is unknown; the stream's result says how it went.
 */
export function adoptClaude(pid: number, offset: number, reading: Reading): ClaudeProcess {
  const tail = new OutputTail(reading, offset)
  let hasExited = false
  const exited = (async (): Promise<RunOutcome> => {
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (isAlive(pid)) return
        clearInterval(timer)
        resolve()
      }, ADOPTED_POLL_MS)
    })
    // As for our own child: what it left in its group ends with it. The group id cannot have
    // been reused while any member of the group lives.
    killGroup(pid, 'SIGKILL')
    hasExited = true
    await tail.finish()
    return {exitCode: null, signal: null, stderrTail: stderrTail(reading.files.errors), adopted: true}
  })()
  return {
    pid,
    exited,
    signal(sig) {
      if (!hasExited) killGroup(pid, sig)
    },
  }
}

/** Reads what a claude that is gone wrote after `offset`, to the end of its output file. */
export async function readRemainingOutput(offset: number, reading: Reading): Promise<string> {
  await new OutputTail(reading, offset).finish()
  return stderrTail(reading.files.errors)
}

/** Whether `pid` runs with `file` as its stdout: the check that a pid is still that session's claude. */
export function writesTo(pid: number, file: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/fd/1`) === file
  } catch {
    return false
  }
}

/**
 * File watches by directory: one inotify watch per directory of output files, shared by the tails
 * of every file in it and kept (unreferenced) while that directory stays the same one. A watch
 * per file cost an add and a remove per session, on the event loop, and the remove waits on the
 * kernel (~1 ms a session here).
 */
class DirectoryWatches {
  private readonly dirs = new Map<string, {ino: number; watcher: FSWatcher; files: Map<string, () => void>}>()

  /** Calls `onChange` when `file` may have changed; returns the function that stops it. None when the directory cannot be watched. */
  add(file: string, onChange: () => void): () => void {
    const dir = path.dirname(file)
    const name = path.basename(file)
    const entry = this.watchOf(dir)
    if (!entry) return () => {}
    entry.files.set(name, onChange)
    return () => {
      if (entry.files.get(name) === onChange) entry.files.delete(name)
    }
  }

  private watchOf(dir: string) {
    let ino: number
    try {
      ino = statSync(dir).ino
    } catch {
      return undefined
    }
    const known = this.dirs.get(dir)
    // A directory removed and made again is another one, which the old watch does not see.
    if (known?.ino === ino) return known
    known?.watcher.close()
    this.dirs.delete(dir)
    const files = new Map<string, () => void>()
    let watcher: FSWatcher
    try {
      watcher = watch(dir, (_event, changed) => {
        if (changed === null) for (const onChange of files.values()) onChange()
        else files.get(changed.toString())?.()
      })
    } catch {
      return undefined
    }
    watcher.unref()
    watcher.on('error', () => {
      watcher.close()
      if (this.dirs.get(dir)?.watcher === watcher) this.dirs.delete(dir)
    })
    const entry = {ino, watcher, files}
    this.dirs.set(dir, entry)
    return entry
  }
}

const directoryWatches = new DirectoryWatches()

/**
 * One buffer for every read of every tail: reads are synchronous (see OutputTail), so none
 * overlaps another, and what the decoder keeps is copied out of it.
 */
const readBuffer = Buffer.allocUnsafe(READ_CHUNK_BYTES)

/**
 * The output file from `offset` on, as lines: read whenever the file changes (a watch of its
 * directory, plus a poll in case the watch misses), and to its very end by finish().
 *
 * Opened and read on the event loop: a read of a file the kernel holds in its cache takes some
 * microseconds, less than the round trip through the thread pool it replaced (three to four per
 * session: the open, a read per change, the close), and storing what was read takes the loop far
 * longer anyway. A read that fills the buffer is followed by the next only after the loop's
 * other work has had a turn, so a burst of output is read in slices.
 */
class OutputTail {
  private readonly decoder: LineDecoder
  private batch: string[] = []
  private position: number
  /** The open file, or why it could not be opened (finish() reports it). */
  private readonly file: {fd: number} | {error: unknown}
  private closed = false
  private draining: Promise<void> = Promise.resolve()
  private again = false
  private busy = false
  private readonly unwatch: () => void
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly reading: Reading,
    offset: number,
  ) {
    this.position = offset
    this.decoder = new LineDecoder({
      maxFrameBytes: reading.maxLineBytes ?? MAX_STREAM_LINE_BYTES,
      onLine: (line) => this.batch.push(line),
      onOversize: (bytes) => {
        this.batch.push(JSON.stringify({type: 'hld_line_too_long', bytes}))
        reading.onOversize(bytes)
      },
    })
    try {
      this.file = {fd: openSync(reading.files.output, 'r')}
    } catch (error) {
      this.file = {error}
    }
    this.unwatch = directoryWatches.add(reading.files.output, () => this.kick())
    this.timer = setInterval(() => this.kick(), TAIL_POLL_MS)
    this.kick()
  }

  /** Reads to the end of the file as it is now (the writer is gone), then closes it. */
  async finish(): Promise<void> {
    this.unwatch()
    clearInterval(this.timer)
    await this.draining
    try {
      await this.drain()
      this.decoder.end()
      this.flush(this.position)
    } finally {
      if ('fd' in this.file && !this.closed) {
        this.closed = true
        closeSync(this.file.fd)
      }
    }
  }

  private kick(): void {
    if (this.busy) {
      this.again = true
      return
    }
    this.busy = true
    this.draining = (async () => {
      try {
        do {
          this.again = false
          await this.drain()
        } while (this.again)
      } catch {
        // finish() reads again and reports what is wrong.
      } finally {
        this.busy = false
      }
    })()
  }

  private async drain(): Promise<void> {
    if ('error' in this.file) throw this.file.error
    if (this.closed) return
    for (;;) {
      const bytesRead = readSync(this.file.fd, readBuffer, 0, readBuffer.length, this.position)
      if (bytesRead === 0) return
      this.position += bytesRead
      // A copy: the decoder keeps slices of it for an unfinished line.
      this.decoder.push(Buffer.from(readBuffer.subarray(0, bytesRead)))
      this.flush(this.position - this.decoder.buffered)
      if (bytesRead < readBuffer.length) return
      await new Promise((resolve) => setImmediate(resolve))
      if (this.closed) return
    }
  }

  private flush(offset: number): void {
    if (this.batch.length === 0) return
    const lines = this.batch
    this.batch = []
    this.reading.onLines(lines, offset)
  }
}

/** The daemon's environment with `changes` applied; undefined removes a variable. */
function childEnv(changes: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env = {...process.env}
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

function stderrTail(file: string): string {
  let fd: number | undefined
  try {
    fd = openSync(file, 'r')
    const size = fstatSync(fd).size
    const buffer = Buffer.alloc(Math.min(size, STDERR_TAIL_BYTES))
    readSync(fd, buffer, 0, buffer.length, size - buffer.length)
    return buffer.toString('utf8').trim()
  } catch {
    return ''
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch (error) {
    // ESRCH: the group is already gone.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}
