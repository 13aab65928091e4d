/**
 * The few validators configuration needs, with zod's `safeParse` shape. Config is loaded by
 * every CLI command, and importing zod costs about as much as starting node itself (~80 ms
 * on the 2-core CI machine), so the CLI's cold start budget has no room for it; the daemon's
 * param schemas keep using zod.
 */

export type ParseResult<T> = {success: true; data: T} | {success: false; error: {issues: {message: string}[]}}

export interface Validator<T> {
  safeParse(value: unknown): ParseResult<T>
  optional(): Validator<T | undefined>
}

export type Output<V> = V extends Validator<infer T> ? T : never

function validator<T>(check: (value: unknown) => ParseResult<T>): Validator<T> {
  return {
    safeParse: check,
    optional: () => validator<T | undefined>((value) => (value === undefined ? {success: true, data: undefined} : check(value))),
  }
}

const ok = <T>(data: T): ParseResult<T> => ({success: true, data})
const fail = (message: string): ParseResult<never> => ({success: false, error: {issues: [{message}]}})

/** A non-empty string. */
export const nonEmptyString = validator<string>((value) =>
  typeof value === 'string' && value.length > 0 ? ok(value) : fail('expected a non-empty string'),
)

/** A positive integer, from a number or a numeric string (environment variables are strings). */
export const positiveInt = validator<number>((value) => {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof number === 'number' && Number.isInteger(number) && number > 0 ? ok(number) : fail('expected a positive integer')
})

/** A TCP port: 0 (the OS picks one) to 65535. */
export const port = validator<number>((value) => {
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value
  return typeof number === 'number' && Number.isInteger(number) && number >= 0 && number <= 65_535
    ? ok(number)
    : fail('expected a port number, 0 to 65535')
})

/** A list of strings: a JSON array of them, or one comma-separated string (environment variables). */
export const stringList = validator<string[]>((value) => {
  const items = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(items) || !items.every((item) => typeof item === 'string')) return fail('expected a list of strings (comma-separated)')
  return ok(items.map((item) => item.trim()).filter((item) => item !== ''))
})

export function oneOf<const T extends readonly string[]>(values: T): Validator<T[number]> {
  return validator<T[number]>((value) =>
    typeof value === 'string' && values.includes(value) ? ok(value) : fail(`expected one of ${values.join(', ')}`),
  )
}

/** An absolute URL whose scheme is one of `protocols` (without the colon). */
export function url(protocols: readonly string[]): Validator<string> {
  return validator<string>((value) => {
    if (typeof value !== 'string' || !URL.canParse(value)) return fail('expected an absolute URL')
    const scheme = new URL(value).protocol.slice(0, -1)
    return protocols.includes(scheme) ? ok(value) : fail(`expected a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`)
  })
}
