/**
 * Ids by unique prefix, for sessions and approvals alike: one range query on the primary key
 * (an index seek, no LIKE and so no escaping), and one rule for "not found" and "ambiguous".
 */
import {and, asc, gte, lt} from 'drizzle-orm'
import type {SQLiteColumn, SQLiteTable} from 'drizzle-orm/sqlite-core'

import {ErrorCode, RpcError} from '../../protocol/errors.js'
import type {Db} from './index.js'

/** Sorts after every character an id can hold, so `[p, p + END)` is "starts with p". */
const PREFIX_END = '\uFFFF'
/** How many matches an ambiguity error names. */
const SHOWN_MATCHES = 5

/** Up to `limit` ids of `table` that start with `prefix`, in id order. */
export function idsWithPrefix(db: Db, table: SQLiteTable, id: SQLiteColumn, prefix: string, limit: number): string[] {
  return db
    .select({id})
    .from(table)
    .where(and(gte(id, prefix), lt(id, prefix + PREFIX_END)))
    .orderBy(asc(id))
    .limit(limit)
    .all()
    .map((row) => row.id as string)
}

/**
 * The one id that `idOrPrefix` names: itself when it exists, else the only id among
 * `candidates(limit)` (the ids starting with it). NotFound when none does, InvalidParams when
 * more than one does, each with a message saying what to do.
 */
export function resolvePrefix(
  idOrPrefix: string,
  lookup: {noun: string; listCommand: string; exists: (id: string) => boolean; candidates: (limit: number) => string[]},
): string {
  if (lookup.exists(idOrPrefix)) return idOrPrefix
  const matches = lookup.candidates(SHOWN_MATCHES)
  if (matches.length === 1) return matches[0]
  if (matches.length === 0) {
    throw new RpcError(ErrorCode.NotFound, `No ${lookup.noun} has the id ${idOrPrefix}; \`${lookup.listCommand}\` lists them.`)
  }
  const many = matches.length === SHOWN_MATCHES ? `at least ${SHOWN_MATCHES}` : String(matches.length)
  throw new RpcError(
    ErrorCode.InvalidParams,
    `The id ${idOrPrefix} is ambiguous: it starts ${many} ${lookup.noun} ids (${matches.join(', ')}). Give more characters.`,
    {candidates: matches},
  )
}
