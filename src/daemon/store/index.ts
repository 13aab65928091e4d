/**
 * The one way to open the database, for the daemon and for tests alike: a file path or
 * `:memory:`. Pragmas and migrations are applied on open, so every caller runs the same
 * schema through the same queries.
 */
import {mkdirSync, readFileSync} from 'node:fs'
import {type FileHandle, open} from 'node:fs/promises'
import path from 'node:path'

import Database from 'better-sqlite3'
import {drizzle, type BetterSQLite3Database} from 'drizzle-orm/better-sqlite3'
import {migrate} from 'drizzle-orm/better-sqlite3/migrator'

import {ErrorCode, RpcError} from '../../protocol/errors.js'
import {packageRoot} from '../../shared/package-root.js'
import * as schema from './schema/index.js'

export type Db = BetterSQLite3Database<typeof schema>

export interface Store {
  db: Db
  /** The raw handle, for pragmas and the rare statement drizzle cannot express. */
  sqlite: Database.Database
  path: string
  /**
   * Runs `work` holding the database's write lock, waiting (without blocking the event loop)
   * while another process holds it; see `writeLocked`. What `work` does synchronously is one
   * transaction; if it returns a promise, the rest of it runs after the commit.
   *
   * Durability is chosen per call. A `durable` write is synced to disk before it resolves
   * (synchronous=FULL, or off the event loop with `syncOffLoop`; see WriteOptions): what is
   * acknowledged to a client survives a power loss (decisions, approvals, launches). Others
   * (session output, events, and the audit row of a tool call a rule decided) commit with NORMAL:
   * in WAL mode they survive any crash of a process, and only an OS crash or power loss can drop
   * the last of them (the session dies with it then); they are synced with the next durable write
   * or checkpoint, and the database stays consistent either way.
   */
  write: <T>(work: () => T, options?: WriteOptions) => Promise<T>
  /**
   * Runs `work` in one IMMEDIATE transaction now, synchronously, for writes that cannot wait for
   * the lock (claude's output, stored at once): throws SQLITE_BUSY while another process holds it,
   * and then nothing was stored. Commits with NORMAL, as `write` without `durable`. Inside a
   * transaction already (a nested call) it just runs `work`, which commits with that one.
   */
  transaction: <T>(work: () => T) => T
  /**
   * Makes `participant` part of every transaction `write` and `transaction` commit, from now on;
   * returns the function that takes it out. See CommitParticipant.
   */
  joinCommits(participant: CommitParticipant): () => void
  close(): void
}

/**
 * What takes part in every transaction the store commits, so that what a request's work leaves
 * behind it (the events it published, above all) is stored in that transaction, with one commit
 * and, for a durable write, one sync, and is acted on the moment it is committed. Both calls are
 * made in the same synchronous run as the COMMIT between them: nothing else runs in between.
 */
export interface CommitParticipant {
  /**
   * Inside the transaction, after `work` and before COMMIT: what it writes commits (and is synced)
   * with the work. A throw fails the whole transaction, as a throw of `work` would.
   */
  beforeCommit(): void
  /** Once that COMMIT succeeded (synced inside it, for a durable write without `syncOffLoop`). Must not throw. */
  afterCommit(): void
}

export interface WriteOptions {
  /**
   * Synced before it resolves. By default inside COMMIT (synchronous=FULL), so nobody sees the
   * change before it is on disk; with `syncOffLoop`, after it, off the event loop (see WalSync).
   */
  durable?: boolean
  /**
   * The commit's sync runs on libuv's thread pool, while the event loop (and the rest of `work`)
   * goes on: the change is visible to other requests a few ms before it is on disk, and the
   * write resolves once it is. For launches, whose spawn need not wait on the disk.
   */
  syncOffLoop?: boolean
}

export interface StoreOptions {
  /** How long `write` waits for a lock another process holds before it fails. */
  lockWaitMs?: number
}

/** SQLITE_BUSY and its extended codes: another connection holds the lock we need. */
export function isBusy(error: unknown): boolean {
  const code = (error as {code?: unknown}).code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/** SQLITE_FULL and SQLITE_IOERR and its extended codes: the disk under the database is full or failing. */
export function isDiskError(error: unknown): boolean {
  const code = (error as {code?: unknown}).code
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR'))
}

export const DEFAULT_LOCK_WAIT_MS = 30_000
/** Backoff between attempts at a locked database: short first (most locks are brief), then capped. */
const LOCK_RETRY_FIRST_MS = 5
const LOCK_RETRY_MAX_MS = 200

export class StoreError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StoreError'
  }
}

/** Migrations ship in the package's `drizzle/` folder, beside package.json. */
function migrationsFolder(): string {
  return path.join(packageRoot(), 'drizzle')
}

interface Journal {
  entries: {idx: number; when: number; tag: string}[]
}

/**
 * Refuses a database that a newer hld migrated: its schema may not be what our queries expect.
 * Returns whether it has every migration of ours already (then there is nothing to migrate).
 */
function refuseNewerSchema(sqlite: Database.Database, folder: string, file: string): boolean {
  // Raw SQL: sqlite_master and drizzle's own __drizzle_migrations are not in our schema.
  const table = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get()
  if (!table) return false
  const row = sqlite.prepare('SELECT MAX(created_at) AS newest FROM __drizzle_migrations').get() as {newest: number | null}
  const journal = JSON.parse(readFileSync(path.join(folder, 'meta', '_journal.json'), 'utf8')) as Journal
  const known = Math.max(0, ...journal.entries.map((entry) => entry.when))
  if (row.newest !== null && row.newest > known) {
    throw new StoreError(
      `The database ${file} was written by a newer version of hld (its schema is from ${new Date(row.newest).toISOString()}). ` +
        'Upgrade hld, or point database_path (HUMANLAYER_DATABASE_PATH) at another file.',
    )
  }
  return row.newest === known
}

export function openStore(file: string, options: StoreOptions = {}): Store {
  let sqlite: Database.Database
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
    sqlite = new Database(file)
  } catch (error) {
    throw new StoreError(`Cannot open the database ${file}: ${(error as Error).message}. Check database_path (HUMANLAYER_DATABASE_PATH).`)
  }
  try {
    if (file !== ':memory:') sqlite.pragma('journal_mode = WAL')
    // better-sqlite3 is synchronous: a busy timeout would stall the whole daemon (health too)
    // while another process holds the lock. Writes wait in `write` instead, between event-loop turns.
    sqlite.pragma('busy_timeout = 0')
    sqlite.pragma('foreign_keys = ON')
    // NORMAL: in WAL mode a power loss can lose the last commits but never corrupts. Writes a
    // client is told about (decisions, approvals, launches) are synced before they resolve; see writeLocked.
    sqlite.pragma('synchronous = NORMAL')
    const folder = migrationsFolder()
    const upToDate = refuseNewerSchema(sqlite, folder, file)
    const db = drizzle(sqlite, {schema})
    // drizzle applies the migrations newer than the newest applied; with none, reading and hashing
    // every migration file would only slow each start down.
    if (!upToDate) migrate(db, {migrationsFolder: folder})
    const lockWaitMs = options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS
    const wal = file === ':memory:' ? undefined : new WalSync(`${file}-wal`, file)
    const commits = new Commits(sqlite, file)
    return {
      db,
      sqlite,
      path: file,
      write: async (work, writeOptions = {}) => {
        const offLoop = writeOptions.durable === true && writeOptions.syncOffLoop === true && wal !== undefined
        const {result} = await writeLocked(commits, lockWaitMs, work, writeOptions.durable === true && !offLoop)
        if (!offLoop) return result
        // Synced while the rest of `work` (if it returned a promise) goes on; both before resolving.
        const synced = wal.sync()
        synced.catch(() => {}) // awaited below, unless `result` fails first
        const value = await result
        await synced
        return value
      },
      transaction: (work) => {
        if (sqlite.inTransaction) return work()
        sqlite.exec('BEGIN IMMEDIATE')
        return commits.run(work)
      },
      joinCommits: (participant) => commits.join(participant),
      close: () => {
        sqlite.close()
        wal?.close()
      },
    }
  } catch (error) {
    sqlite.close()
    if (error instanceof StoreError) throw error
    throw new StoreError(`Cannot prepare the database ${file}: ${(error as Error).message}`)
  }
}

/**
 * Takes the write lock with BEGIN IMMEDIATE, retrying with backoff while another process holds
 * it (up to `lockWaitMs`), then runs `work` and commits, synced inside COMMIT when `full`. Once we hold the lock no other writer
 * can come between our statements, so nothing inside fails with SQLITE_BUSY. Inside a
 * transaction already (a nested call) it just runs `work`.
 */
async function writeLocked<T>(commits: Commits, lockWaitMs: number, work: () => T, full: boolean): Promise<{result: T}> {
  const {sqlite, file} = commits
  const deadline = Date.now() + lockWaitMs
  for (let delay = LOCK_RETRY_FIRST_MS; ; delay = Math.min(delay * 2, LOCK_RETRY_MAX_MS)) {
    if (sqlite.inTransaction) return {result: work()}
    // The safety level cannot change inside a transaction: FULL from before BEGIN to after COMMIT
    // (all in one synchronous run), so this commit syncs the WAL, and with it everything before.
    // Not a cached statement: SQLite applies this pragma when it is prepared, not when it is run.
    if (full) sqlite.pragma('synchronous = FULL')
    try {
      sqlite.exec('BEGIN IMMEDIATE')
      break
    } catch (error) {
      if (full) sqlite.pragma('synchronous = NORMAL')
      if (!isBusy(error)) throw error
      if (Date.now() >= deadline) {
        throw new RpcError(
          ErrorCode.Unavailable,
          `The database ${file} has been locked by another process for over ${lockWaitMs} ms (database_lock_wait_ms); nothing was changed. ` +
            'Close whatever holds it (an sqlite3 shell in a transaction?) and retry.',
        )
      }
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
  try {
    // Boxed: a promise `work` returned is the caller's to await, not this one's.
    return {result: commits.run(work)}
  } catch (error) {
    if (!isDiskError(error)) throw error
    throw new RpcError(
      ErrorCode.Unavailable,
      `The database ${file} could not be written: ${(error as Error).message} (is its disk full?). ` +
        'Nothing of this request was stored; free space on that disk and retry.',
    )
  } finally {
    if (full) sqlite.pragma('synchronous = NORMAL')
  }
}

/** The end of every transaction the store runs: its participants' part, COMMIT, or ROLLBACK. */
class Commits {
  private readonly participants = new Set<CommitParticipant>()

  constructor(
    readonly sqlite: Database.Database,
    readonly file: string,
  ) {}

  join(participant: CommitParticipant): () => void {
    this.participants.add(participant)
    return () => this.participants.delete(participant)
  }

  /**
   * Runs `work` in the transaction just begun, then the participants' part, and commits; if any
   * of it throws, rolls back and throws that.
   */
  run<T>(work: () => T): T {
    let result: T
    try {
      result = work()
      for (const participant of this.participants) participant.beforeCommit()
      this.sqlite.exec('COMMIT')
    } catch (error) {
      // SQLite may have rolled back already (it does on a full disk): a second ROLLBACK would
      // throw and hide why.
      if (this.sqlite.inTransaction) this.sqlite.exec('ROLLBACK')
      throw error
    }
    for (const participant of this.participants) participant.afterCommit()
    return result
  }
}

/**
 * Makes a commit durable without stopping the event loop (`syncOffLoop`). With synchronous=FULL,
 * SQLite in WAL mode does exactly one thing more than with NORMAL: it syncs the WAL after each
 * commit, inside COMMIT, on the event loop (a few ms per acknowledged write here; every request
 * waited behind it). Here the commit is NORMAL and the same sync (fdatasync of the WAL, as SQLite
 * does it) runs on libuv's thread pool before the write resolves, so it is not acknowledged before
 * it is on disk, and other requests go on meanwhile. Concurrent durable writes share a sync (group commit): one that
 * starts after a commit covers it, and every commit before it. Checkpoints sync the WAL and the
 * database themselves (NORMAL does that). The WAL stays open here from the first sync on: SQLite
 * keeps the same file (it truncates or rewrites it, never replaces it) while a connection of ours
 * is open, and it locks the -shm and database files, not the WAL, so this descriptor is never the
 * one whose close would drop SQLite's POSIX locks.
 */
class WalSync {
  /** The sync running now, which may have started before the caller's commit. */
  private running: Promise<void> | undefined
  /** The sync queued behind it, shared by every commit made while it waits. */
  private next: Promise<void> | undefined
  private handle: Promise<FileHandle> | undefined

  constructor(
    private readonly walFile: string,
    private readonly databaseFile: string,
  ) {}

  /** Resolves once everything committed before this call is on disk. */
  sync(): Promise<void> {
    if (!this.running) return (this.running = this.run())
    this.next ??= this.running.then(
      () => this.promote(),
      () => this.promote(),
    )
    return this.next
  }

  private promote(): Promise<void> {
    this.next = undefined
    return (this.running = this.run())
  }

  private async run(): Promise<void> {
    try {
      this.handle ??= open(this.walFile, 'r')
      const handle = await this.handle.catch((error: unknown) => {
        this.handle = undefined
        throw error
      })
      await handle.datasync()
    } catch (error) {
      // No WAL yet: nothing was committed since the database was opened.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw new RpcError(
        ErrorCode.Unavailable,
        `The database ${this.databaseFile} could not be synced to disk: ${(error as Error).message}. ` +
          'What this request changed is stored but may not survive a power loss; check that disk.',
      )
    } finally {
      if (this.running && !this.next) this.running = undefined
    }
  }

  /** After the database is closed. */
  close(): void {
    this.handle?.then((handle) => handle.close()).catch(() => {})
    this.handle = undefined
  }
}
