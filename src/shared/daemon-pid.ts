/**
 * The daemon's pid file, `<socket>.pid` (0600, beside the socket in its private directory): the
 * one pid `hld daemon stop --force` may signal. A pid reported over the socket is the word of
 * whoever answers there; the pid file is checked to be ours, and the process it names to be an
 * hld daemon by its command line, before any signal is sent.
 */
import {closeSync, constants, lstatSync, openSync, readFileSync, unlinkSync, writeSync} from 'node:fs'

import {readCommandLine} from './procfs.js'

export function pidFilePath(socketPath: string): string {
  return `${socketPath}.pid`
}

/** Written by the daemon once it listens; a symbolic link in its place is refused, not followed. */
export function writePidFile(socketPath: string, pid = process.pid): void {
  const fd = openSync(pidFilePath(socketPath), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o600)
  try {
    writeSync(fd, `${pid}\n`)
  } finally {
    closeSync(fd)
  }
}

/** Removed at shutdown, if it still names this process. */
export function removePidFile(socketPath: string, pid = process.pid): void {
  if (readPidFile(socketPath) === pid) unlinkSync(pidFilePath(socketPath))
}

/** The pid in the file, when the file is a regular file of ours holding one; undefined otherwise. */
export function readPidFile(socketPath: string): number | undefined {
  const file = pidFilePath(socketPath)
  try {
    const stats = lstatSync(file)
    if (!stats.isFile() || stats.uid !== process.getuid?.()) return undefined
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(pid) && pid > 1 ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * Whether argv is an hld daemon: the forked entry (`…/daemon/entry.bundle.cjs` as `hld daemon
 * start` forks it, `…/daemon/entry.js`, or `.ts` under tsx), or `hld daemon start --foreground`.
 */
export function isDaemonCommandLine(argv: string[]): boolean {
  if (argv.some((arg) => /[/\\]daemon[/\\]entry\.(bundle\.cjs|[jt]s)$/.test(arg))) return true
  const start = argv.indexOf('daemon')
  return start > 0 && argv[start + 1] === 'start' && argv.includes('--foreground')
}

/**
 * Why `pid` (as the daemon at `socketPath` reported it) must not be signalled, or undefined when
 * the pid file and /proc agree it is that daemon.
 */
export function unverifiedDaemonPid(socketPath: string, pid: number): string | undefined {
  const recorded = readPidFile(socketPath)
  if (recorded === undefined) return `there is no pid file of yours at ${pidFilePath(socketPath)}`
  if (recorded !== pid) return `its pid file ${pidFilePath(socketPath)} names pid ${recorded}, not ${pid}`
  const argv = readCommandLine(pid)
  if (argv && !isDaemonCommandLine(argv))
    return `pid ${pid} is not an hld daemon (its command line is ${JSON.stringify(argv.join(' ').slice(0, 200))})`
  return undefined
}
