/**
 * One daemon per database. Two daemons on one database (a command with another --socket
 * auto-starts a second one) would reconcile each other's live sessions as orphans and both
 * append to the event log. The daemon holds an OS lock for its whole life (released by the OS
 * when it dies, SIGKILL included), and records its pid and socket in daemon_meta so that a
 * second daemon can say who holds the database.
 */
import Database from 'better-sqlite3'

import {DatabaseInUseError} from '../shared/errors.js'
import {type FileLock, tryLock} from '../shared/file-lock.js'
import {type Store, StoreError} from './store/index.js'
import {daemonMeta} from './store/schema/index.js'

const PID_KEY = 'daemon_pid'
const SOCKET_KEY = 'daemon_socket'

/** Beside the database; the start lock of auto-start (src/client/lifecycle.ts) is its sibling. */
export function databaseLockFile(databasePath: string): string {
  return `${databasePath}.lock`
}

/** The lock, or DatabaseInUseError naming the daemon that holds it; nothing to lock for `:memory:`. */
export function lockDatabase(databasePath: string): FileLock | undefined {
  if (databasePath === ':memory:') return undefined
  let lock: FileLock | undefined
  try {
    lock = tryLock(databaseLockFile(databasePath))
  } catch (error) {
    // Where the lock cannot be, the database cannot be either: say so in the store's words.
    throw new StoreError(`Cannot open the database ${databasePath}: ${(error as Error).message}. Check database_path (HUMANLAYER_DATABASE_PATH).`)
  }
  if (lock) return lock
  throw databaseInUseError(databasePath)
}

/** The error a second daemon on `databasePath` fails with, naming the holder when it can. */
export function databaseInUseError(databasePath: string): DatabaseInUseError {
  return new DatabaseInUseError(databasePath, readHolder(databasePath))
}

/** Called once the lock is ours and the store open. */
export function recordHolder(store: Store, socketPath: string): void {
  for (const [key, value] of [
    [PID_KEY, String(process.pid)],
    [SOCKET_KEY, socketPath],
  ]) {
    store.db.insert(daemonMeta).values({key, value}).onConflictDoUpdate({target: daemonMeta.key, set: {value}}).run()
  }
}

/** Who recorded themselves as the holder, if that process still runs; read-only, best effort. */
function readHolder(databasePath: string): {pid: number; socketPath: string} | undefined {
  let db: Database.Database | undefined
  try {
    db = new Database(databasePath, {readonly: true, fileMustExist: true, timeout: 1000})
    const rows = db.prepare('SELECT key, value FROM daemon_meta WHERE key IN (?, ?)').all(PID_KEY, SOCKET_KEY) as {key: string; value: string}[]
    const meta = Object.fromEntries(rows.map((row) => [row.key, row.value]))
    const pid = Number(meta[PID_KEY])
    if (!Number.isInteger(pid) || pid <= 0 || meta[SOCKET_KEY] === undefined) return undefined
    // A holder that has not recorded itself yet leaves the previous daemon's entry behind.
    process.kill(pid, 0)
    return {pid, socketPath: meta[SOCKET_KEY]}
  } catch {
    return undefined
  } finally {
    db?.close()
  }
}
