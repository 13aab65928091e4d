/**
 * One daemon per database. Two daemons on one database (a command with another --socket
 * auto-starts a second one) would reconcile each other's live sessions as orphans and both
 * append to the event log. The daemon holds an OS lock for its whole life (released by the OS
 * when it dies, SIGKILL included), and records its pid and socket in daemon_meta so that a
 * second daemon can say who holds the database.
 */
import {HOLDER_PID_KEY, HOLDER_SOCKET_KEY, databaseInUseError} from '../shared/database-holder.js'
import {type FileLock, tryLock} from '../shared/file-lock.js'
import {type Store, StoreError} from './store/index.js'
import {daemonMeta} from './store/schema/index.js'

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
    throw new StoreError(
      `Cannot open the database ${databasePath}: ${(error as Error).message}. Check database_path (HUMANLAYER_DATABASE_PATH).`,
    )
  }
  if (lock) return lock
  throw databaseInUseError(databasePath)
}

/** Called once the lock is ours and the store open. */
export function recordHolder(store: Store, socketPath: string): void {
  for (const [key, value] of [
    [HOLDER_PID_KEY, String(process.pid)],
    [HOLDER_SOCKET_KEY, socketPath],
  ]) {
    store.db.insert(daemonMeta).values({key, value}).onConflictDoUpdate({target: daemonMeta.key, set: {value}}).run()
  }
}
