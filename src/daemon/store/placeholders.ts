import {type Column, type SQL, sql} from 'drizzle-orm'

/**
 * `set()` or `values()` of a prepared drizzle statement: one placeholder per key, bound by that
 * name when it runs. Bound as is (a `sql` fragment, not a column value): drizzle would map a bound
 * value through its column even when it is null (a null Date throws, a null list becomes 'null'),
 * so callers bind driver values, `driverValues` when they hold column values.
 */
export function placeholdersFor<K extends string>(keys: readonly K[]): Record<K, SQL> {
  const set = {} as Record<K, SQL>
  for (const key of keys) set[key] = sql`${sql.placeholder(key)}`
  return set
}

/**
 * `values()` of a prepared multi-row insert: `rows` rows of placeholders named `<key><row>`, bound
 * by `bindRows`.
 */
export function rowPlaceholdersFor<K extends string>(keys: readonly K[], rows: number): Record<K, SQL>[] {
  return Array.from({length: rows}, (_, row) => {
    const set = {} as Record<K, SQL>
    for (const key of keys) set[key] = sql`${sql.placeholder(`${key}${row}`)}`
    return set
  })
}

/** The values of rows `from` to `from + count` for a statement built with rowPlaceholdersFor. */
export function bindRows<K extends string>(keys: readonly K[], rows: readonly Record<K, unknown>[], from: number, count: number) {
  const values: Record<string, unknown> = {}
  for (let row = 0; row < count; row++) for (const key of keys) values[`${key}${row}`] = rows[from + row][key]
  return values
}

/** The keys of a table's columns, typed (Object.keys gives strings). */
export function columnKeys<T extends Record<string, Column>>(columns: T): (keyof T & string)[] {
  return Object.keys(columns)
}

/** Column values (a Date, a list, a boolean) as the driver binds them, null as null. */
export function driverValues(columns: Record<string, Column>, values: Record<string, unknown>): Record<string, unknown> {
  const bound: Record<string, unknown> = {}
  for (const key in values) {
    const value = values[key]
    bound[key] = value === null || value === undefined ? null : columns[key] ? columns[key].mapToDriverValue(value) : value
  }
  return bound
}
