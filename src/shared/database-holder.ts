/**
 * Who holds a database (src/daemon/database-lock.ts): the error a second daemon on it fails with,
 * naming the holder when it can. Apart from the lock, so that auto-start (lifecycle.ts) reports
 * it without loading the store, and loads better-sqlite3 only when it happens.
 */
import {createRequire} from 'node:module'

import type BetterSqlite3 from 'better-sqlite3'

import {DatabaseInUseError} from './errors.js'

/** The daemon_meta keys the holder records itself under (recordHolder). */
export const HOLDER_PID_KEY = 'daemon_pid'
export const HOLDER_SOCKET_KEY = 'daemon_socket'

/** The error a second daemon on `databasePath` fails with, naming the holder when it can. */
export function databaseInUseError(databasePath: string): DatabaseInUseError {
  return new DatabaseInUseError(databasePath, readHolder(databasePath))
}

/** Who recorded themselves as the holder, if that process still runs; read-only, best effort. */
function readHolder(databasePath: string): {pid: number; socketPath: string} | undefined {
  let db: BetterSqlite3.Database | undefined
  try {
    const Database = createRequire(import.meta.filename)('better-sqlite3') as typeof BetterSqlite3
    db = new Database(databasePath, {readonly: true, fileMustExist: true, timeout: 1000})
    const rows = db.prepare('SELECT key, value FROM daemon_meta WHERE key IN (?, ?)').all(HOLDER_PID_KEY, HOLDER_SOCKET_KEY) as {
      key: string
      value: string
    }[]
    const meta = Object.fromEntries(rows.map((row) => [row.key, row.value]))
    const pid = Number(meta[HOLDER_PID_KEY])
    if (!Number.isInteger(pid) || pid <= 0 || meta[HOLDER_SOCKET_KEY] === undefined) return undefined
    // A holder that has not recorded itself yet leaves the previous daemon's entry behind.
    process.kill(pid, 0)
    return {pid, socketPath: meta[HOLDER_SOCKET_KEY]}
  } catch {
    return undefined
  } finally {
    db?.close()
  }
}
