/**
 * Exclusive locks that the OS releases when their holder dies, however it dies (SIGKILL and
 * power loss included): one daemon per database, one auto-start at a time.
 *
 * Node has no flock(2). SQLite's unix VFS takes POSIX fcntl() locks, which are exactly that
 * kind of lock, so a lock here is an exclusive transaction on a small SQLite file of its own
 * that nothing else opens. Not on the daemon's database itself: an exclusive lock there would
 * also shut out readers such as the user's `sqlite3`. Nothing is ever written to the file.
 */
import {mkdirSync} from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import Database from 'better-sqlite3'

export interface FileLock {
  readonly file: string
  /** Idempotent. */
  release(): void
}

/** The lock, or undefined at once when another process (or another holder here) has it. */
export function tryLock(file: string): FileLock | undefined {
  mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
  // timeout 0: SQLite's busy handler would otherwise sleep on this thread, blocking the event loop.
  const db = new Database(file, {timeout: 0})
  try {
    db.exec('BEGIN EXCLUSIVE')
  } catch (error) {
    db.close()
    if ((error as {code?: string}).code === 'SQLITE_BUSY') return undefined
    throw error
  }
  return {
    file,
    release() {
      if (db.open) db.close()
    },
  }
}

/** Waits (polling, so the event loop runs meanwhile) until the lock is free, up to `timeoutMs`. */
export async function waitForLock(file: string, timeoutMs: number, pollMs = 25): Promise<FileLock | undefined> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const lock = tryLock(file)
    if (lock || Date.now() >= deadline) return lock
    await sleep(pollMs)
  }
}
