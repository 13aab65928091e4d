/**
 * The daemon's files are the user's alone: the database with its -wal and -shm, the log, and the
 * pid file are 0600, and hld's own directories 0700. New ones are created so (the daemon runs
 * under umask 077); ones left looser by an older version or another tool are tightened at start,
 * with a warning. A database or log path that is a symbolic link is refused rather than followed:
 * it would have hld add its tables to, or write its log into, some other program's file.
 */
import {chmodSync, lstatSync, type Stats, statSync} from 'node:fs'
import path from 'node:path'

import {UnsafePathError} from './errors.js'
import {type Config, defaultPath} from '../config/index.js'
import type {Logger} from './logger.js'

/** What other users may do with a file or directory: any group or other permission bit. */
const OTHERS = 0o077

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file)
  } catch {
    return undefined
  }
}

/** Throws when `file` is a symbolic link; `what` and `key` name it in the message. */
export function refuseSymlink(file: string, what: string, key: string): void {
  if (lstatOrUndefined(file)?.isSymbolicLink()) {
    throw new UnsafePathError(
      `The ${what} ${file} is a symbolic link; refusing to follow it (it would write into whatever file it points to). ` +
        `Remove the link, or set ${key} to a regular path.`,
    )
  }
}

/** The database's and log's paths may not be symbolic links; see the header. */
export function refuseSymlinkedFiles(config: Pick<Config, 'database_path' | 'log_file'>, logFile: string | null): void {
  if (config.database_path !== ':memory:') {
    for (const suffix of ['', '-wal', '-shm'])
      refuseSymlink(`${config.database_path}${suffix}`, 'database file', 'database_path (HUMANLAYER_DATABASE_PATH)')
  }
  if (logFile !== null) refuseSymlink(logFile, 'log file', 'log_file (HUMANLAYER_LOG_FILE, --log-file)')
}

/** chmods an existing file or directory of ours to `mode` when others have any access; warns when it does. */
function tighten(file: string, mode: number, log: Logger): void {
  const stats = lstatOrUndefined(file)
  if (!stats || stats.isSymbolicLink() || (stats.mode & OTHERS) === 0 || stats.uid !== process.getuid?.()) return
  chmodSync(file, mode)
  const was = (stats.mode & 0o777).toString(8).padStart(4, '0')
  log.warn('tightened the mode of a private file that others could use', {path: file, was, now: mode.toString(8).padStart(4, '0')})
}

/**
 * Tightens the database (+ -wal, -shm), the log and, where they are hld's own defaults, their
 * directories. A directory the user chose may be shared on purpose: it is only reported.
 */
export function tightenPrivateFiles(config: Pick<Config, 'database_path'>, logFile: string | null, log: Logger): void {
  const files: string[] = []
  const dirs: {dir: string; own: boolean}[] = []
  if (config.database_path !== ':memory:') {
    files.push(config.database_path, `${config.database_path}-wal`, `${config.database_path}-shm`)
    const dir = path.dirname(config.database_path)
    dirs.push({dir, own: dir === path.dirname(defaultPath('database_path'))})
  }
  if (logFile !== null) {
    files.push(logFile)
    const dir = path.dirname(logFile)
    dirs.push({dir, own: dir === path.dirname(defaultPath('log_file'))})
  }
  for (const file of files) tighten(file, 0o600, log)
  for (const {dir, own} of dirs) {
    if (own) {
      tighten(dir, 0o700, log)
      continue
    }
    const stats = statOrUndefined(dir)
    if (stats && (stats.mode & 0o022) !== 0 && (stats.mode & 0o1000) === 0) {
      log.warn('a directory of the database or log is writable by other users; they could replace its files', {path: dir})
    }
  }
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file)
  } catch {
    return undefined
  }
}
