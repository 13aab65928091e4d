/**
 * The one way to open the database, for the daemon and for tests alike: a file path or
 * `:memory:`. Pragmas and migrations are applied on open, so every caller runs the same
 * schema through the same queries.
 */
import {mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'
import {drizzle, type BetterSQLite3Database} from 'drizzle-orm/better-sqlite3'
import {migrate} from 'drizzle-orm/better-sqlite3/migrator'

import {packageRoot} from '../../shared/package-root.js'
import * as schema from './schema/index.js'

export type Db = BetterSQLite3Database<typeof schema>

export interface Store {
  db: Db
  /** The raw handle, for pragmas and the rare statement drizzle cannot express. */
  sqlite: Database.Database
  path: string
  close(): void
}

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

/** Refuses a database that a newer hld migrated: its schema may not be what our queries expect. */
function refuseNewerSchema(sqlite: Database.Database, folder: string, file: string): void {
  const table = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'").get()
  if (!table) return
  const row = sqlite.prepare('SELECT MAX(created_at) AS newest FROM __drizzle_migrations').get() as {newest: number | null}
  const journal = JSON.parse(readFileSync(path.join(folder, 'meta', '_journal.json'), 'utf8')) as Journal
  const known = Math.max(0, ...journal.entries.map((entry) => entry.when))
  if (row.newest !== null && row.newest > known) {
    throw new StoreError(
      `The database ${file} was written by a newer version of hld (its schema is from ${new Date(row.newest).toISOString()}). ` +
        'Upgrade hld, or point database_path (HUMANLAYER_DATABASE_PATH) at another file.',
    )
  }
}

export function openStore(file: string): Store {
  let sqlite: Database.Database
  try {
    if (file !== ':memory:') mkdirSync(path.dirname(file), {recursive: true, mode: 0o700})
    sqlite = new Database(file)
  } catch (error) {
    throw new StoreError(`Cannot open the database ${file}: ${(error as Error).message}. Check database_path (HUMANLAYER_DATABASE_PATH).`)
  }
  try {
    if (file !== ':memory:') sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('busy_timeout = 5000')
    sqlite.pragma('foreign_keys = ON')
    sqlite.pragma('synchronous = NORMAL')
    const folder = migrationsFolder()
    refuseNewerSchema(sqlite, folder, file)
    const db = drizzle(sqlite, {schema})
    migrate(db, {migrationsFolder: folder})
    return {db, sqlite, path: file, close: () => sqlite.close()}
  } catch (error) {
    sqlite.close()
    if (error instanceof StoreError) throw error
    throw new StoreError(`Cannot prepare the database ${file}: ${(error as Error).message}`)
  }
}
