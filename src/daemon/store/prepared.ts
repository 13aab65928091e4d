/**
 * A drizzle statement prepared when it first runs, not when its repository is built. Building a
 * drizzle query the first time runs drizzle's builder cold (~0.3–1 ms a statement), and the
 * repositories hold ~30 statements: prepared in their constructors, they stood between a start
 * and its first `health` answer, though most serve launches, tool calls and decisions that come
 * later. Prepared once either way; SQL errors of a statement would show at its first run.
 */

/** What the repositories call on a prepared statement (drizzle's SQLitePreparedQuery). */
interface Statement {
  run(values?: never): unknown
  all(values?: never): unknown
  get(values?: never): unknown
  values(values?: never): unknown
}

export function preparedOnFirstUse<S extends Statement>(prepare: () => S): S {
  let statement: S | undefined
  const prepared = (): S => (statement ??= prepare())
  const deferred: Statement = {
    run: (values) => prepared().run(values),
    all: (values) => prepared().all(values),
    get: (values) => prepared().get(values),
    values: (values) => prepared().values(values),
  }
  return deferred as S
}
