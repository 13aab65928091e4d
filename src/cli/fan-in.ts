/**
 * One inbox for many machines: ask every host at once, each within its own deadline, and keep
 * what answered. A host that is down or slow becomes an entry in `errors` (and a line on
 * stderr), never a reason to hide the others. Also: host-qualified ids (`devbox:9c1e`).
 */

import type {HostSpec} from '../config/hosts.js'
import {ErrorCode, RpcError} from '../protocol/errors.js'
import {CommandError} from './context.js'
import {exitCodeFor} from './exit-codes.js'

export interface HostFailure {
  host: string
  error: string
}

export interface FanIn<T> {
  answers: {host: HostSpec; value: T}[]
  failures: {host: HostSpec; error: Error}[]
}

export class HostTimeoutError extends Error {
  constructor(host: string, timeoutMs: number) {
    super(`${host} did not answer within ${timeoutMs} ms (host_timeout_ms)`)
    this.name = 'HostTimeoutError'
  }
}

/** Runs `ask` for every host at once; each gets `timeoutMs` from the start, connecting included. */
export async function askHosts<T>(hosts: HostSpec[], ask: (host: HostSpec) => Promise<T>, timeoutMs: number): Promise<FanIn<T>> {
  const settled = await Promise.all(
    hosts.map(async (host) => {
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HostTimeoutError(host.name, timeoutMs)), timeoutMs)
      })
      try {
        return {ok: true as const, host, value: await Promise.race([ask(host), deadline])}
      } catch (error) {
        return {ok: false as const, host, error: error as Error}
      } finally {
        clearTimeout(timer)
      }
    }),
  )
  const fanIn: FanIn<T> = {answers: [], failures: []}
  for (const entry of settled) {
    if (entry.ok) fanIn.answers.push({host: entry.host, value: entry.value})
    else fanIn.failures.push({host: entry.host, error: entry.error})
  }
  return fanIn
}

/**
 * The failures for `errors` in --json, each also a line for stderr (`warn`; written even under
 * --json, which keeps stdout for the result); when every host failed, the error the command fails with.
 */
export function reportFailures(fanIn: FanIn<unknown>, warn: (line: string) => void): HostFailure[] {
  const failures = fanIn.failures.map(({host, error}) => ({host: host.name, error: error.message}))
  if (fanIn.answers.length === 0 && fanIn.failures.length > 0) {
    const exit = exitCodeFor(fanIn.failures[0].error)
    throw new CommandError(`No host answered:\n${failures.map((f) => `${f.host}: ${f.error}`).join('\n')}`, {exit})
  }
  for (const failure of failures) warn(`${failure.host}: ${failure.error.replaceAll('\n', ' ')}`)
  return failures
}

/**
 * For a fan-in about something that lives on some hosts only (a session's approvals): a host
 * that answered NotFound has none of it, an answer of `empty` rather than a failure. When no
 * host has it, the command fails as ownerOf says (NotFound, naming the hosts asked).
 */
export function notFoundAsEmpty<T>(id: string, fanIn: FanIn<T>, what: string, empty: T): FanIn<T> {
  const unknown = fanIn.failures.filter(({error}) => isNotFound(error))
  if (unknown.length === 0) return fanIn
  if (fanIn.answers.length === 0) ownerOf(id, fanIn, what)
  return {
    answers: [...fanIn.answers, ...unknown.map(({host}) => ({host, value: empty}))],
    failures: fanIn.failures.filter(({error}) => !isNotFound(error)),
  }
}

function isNotFound(error: Error): boolean {
  return error instanceof RpcError && error.code === ErrorCode.NotFound
}

/**
 * `devbox:9c1e` → devbox's `9c1e`. The part before the last ':' counts as a host only when
 * `lookup` knows it, so an id that happens to hold a colon is left whole.
 */
export function splitQualifiedId(text: string, lookup: (name: string) => HostSpec | undefined): {host?: HostSpec; id: string} {
  const colon = text.lastIndexOf(':')
  if (colon <= 0 || colon === text.length - 1) return {id: text}
  const host = lookup(text.slice(0, colon))
  return host ? {host, id: text.slice(colon + 1)} : {id: text}
}

/**
 * Which of the hosts has `id`: the one host whose `find` succeeded. Not found anywhere is
 * NotFound (saying which hosts could not be asked); found on several is a usage error that
 * shows the qualified ids to choose from.
 */
export function ownerOf<T>(id: string, fanIn: FanIn<T>, what: string): {host: HostSpec; value: T} {
  const notFound = isNotFound
  if (fanIn.answers.length === 1) return fanIn.answers[0]
  if (fanIn.answers.length > 1) {
    const choices = fanIn.answers.map(({host}) => `${host.name}:${id}`).join(', ')
    throw new CommandError(`The ${what} id ${id} matches on more than one host; qualify it: ${choices}`, {exit: 2})
  }
  // A prefix ambiguous within one host is that host's usage error, as it would be alone.
  const ambiguous = fanIn.failures.find(({error}) => error instanceof RpcError && error.code === ErrorCode.InvalidParams)
  if (ambiguous) throw new CommandError(`${ambiguous.host.name}: ${ambiguous.error.message}`, {exit: 2})
  const unasked = fanIn.failures.filter(({error}) => !notFound(error))
  const asked = fanIn.failures.filter(({error}) => notFound(error)).map(({host}) => host.name)
  if (asked.length === 0) {
    throw new CommandError(
      `No host could be asked about ${what} ${id}:\n${unasked.map((f) => `${f.host.name}: ${f.error.message}`).join('\n')}`,
      {
        exit: exitCodeFor(unasked[0].error),
      },
    )
  }
  throw new RpcError(
    ErrorCode.NotFound,
    `No ${what} ${id} on ${asked.join(', ')}` +
      (unasked.length > 0
        ? `; not asked, as they did not answer: ${unasked.map((f) => `${f.host.name} (${f.error.message})`).join(', ')}`
        : ''),
  )
}
