/**
 * One claude process: spawned through execa in its own process group (so a signal reaches the
 * tools it started too), stdout read as newline-framed lines of any realistic size, and the
 * end of stderr kept for the error message when it dies without a result.
 */
import {execa} from 'execa'

import {LineDecoder} from '../../protocol/framing.js'

/** Lines of many MiB happen (big Read results); 10 MiB was too small upstream (#304). */
const MAX_STREAM_LINE_BYTES = 256 * 1024 * 1024
const STDERR_TAIL_BYTES = 4096
/** After claude exits, how long a grandchild may keep its stdout open before we stop reading. */
const STDOUT_DRAIN_MS = 2000

export interface RunOutcome {
  exitCode: number | null
  signal: NodeJS.Signals | null
  /** The last few KiB of stderr, trimmed. */
  stderrTail: string
}

export interface ClaudeProcessOptions {
  command: string
  args: string[]
  cwd: string
  /** The umask claude starts with; the daemon's when unset. */
  umask?: number
  /** Changes to the daemon's environment, which claude inherits; undefined removes a variable. */
  env?: Record<string, string | undefined>
  /**
   * Every complete stdout line of one read, in order. Synchronous, so reading waits for it. A
   * line over the size limit arrives as `{"type":"hld_line_too_long","bytes":N}` in its place.
   */
  onLines: (lines: string[]) => void
  onOversize: (bytes: number) => void
  maxLineBytes?: number
}

export interface ClaudeProcess {
  /** The process-group leader's pid. */
  readonly pid: number
  /** Signals the whole process group; does nothing once claude has exited. */
  signal(signal: NodeJS.Signals): void
  readonly exited: Promise<RunOutcome>
}

export class SpawnError extends Error {
  constructor(command: string, reason: string) {
    super(`Could not start ${command}: ${reason}`)
    this.name = 'SpawnError'
  }
}

export async function startClaude(options: ClaudeProcessOptions): Promise<ClaudeProcess> {
  // Node cannot give a child its own umask, and changing the daemon's around the spawn would race
  // its own file creation on other threads; sh sets it and execs claude, keeping the pid.
  const [command, args] =
    options.umask === undefined
      ? [options.command, options.args]
      : ['/bin/sh', ['-c', 'umask "$0" && exec "$@"', options.umask.toString(8).padStart(4, '0'), options.command, ...options.args]]
  const child = execa(command, args, {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    cleanup: false,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    encoding: 'buffer',
  })
  if (child.pid === undefined) {
    const result = await child
    throw new SpawnError(options.command, result.shortMessage ?? result.message ?? 'unknown error')
  }
  const pid = child.pid

  let batch: string[] = []
  const decoder = new LineDecoder({
    maxFrameBytes: options.maxLineBytes ?? MAX_STREAM_LINE_BYTES,
    onLine: (line) => batch.push(line),
    onOversize: (bytes) => {
      batch.push(JSON.stringify({type: 'hld_line_too_long', bytes}))
      options.onOversize(bytes)
    },
  })
  const flush = (): void => {
    if (batch.length === 0) return
    const lines = batch
    batch = []
    options.onLines(lines)
  }
  child.stdout.on('data', (chunk: Buffer) => {
    decoder.push(chunk)
    flush()
  })
  const stdoutDone = new Promise<void>((resolve) => {
    child.stdout.once('close', () => {
      decoder.end()
      flush()
      resolve()
    })
  })

  let stderrTail = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES)
  })

  let hasExited = false
  const exited = (async (): Promise<RunOutcome> => {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.once('exit', (code, sig) => {
        // What claude left running in its group (tools, MCP servers) ends with it (upstream
        // #1097). Afterwards its pid may be reused, so from then on signals go nowhere.
        killGroup(pid, 'SIGKILL')
        hasExited = true
        resolve([code, sig])
      }),
    )
    if (!(await settlesWithin(stdoutDone, STDOUT_DRAIN_MS))) {
      child.stdout.destroy()
      await stdoutDone
    }
    child.stderr.destroy()
    // execa's own promise settles too; nothing to learn from it with reject: false.
    await child
    return {exitCode, signal, stderrTail: stderrTail.trim()}
  })()

  return {
    pid,
    exited,
    signal(sig) {
      if (!hasExited) killGroup(pid, sig)
    },
  }
}

/** Whether `promise` (one that never rejects) settles within `ms`; the timer does not outlive the answer. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const settled = await Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))])
  clearTimeout(timer)
  return settled
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch (error) {
    // ESRCH: the group is already gone.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}
