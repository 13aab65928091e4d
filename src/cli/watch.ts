/**
 * What `hld watch` does (shared by its oclif command and the lean entry, see context.ts): follow
 * the event stream (reconnecting and resuming on its own), print each event, and stop on --count,
 * --until, --timeout, SIGINT, or a reader that went away (`hld watch | head`).
 */

import type {Endpoint} from '../client/index.js'
import {type StreamStatus, type SubscribeFilter, streamEvents} from '../client/subscribe.js'
import type {HostSpec} from '../config/hosts.js'
import type {Config} from '../config/index.js'
import {ErrorCode, RpcError} from '../protocol/errors.js'
import type {DaemonEvent, EventType} from '../protocol/events.js'
import {provenanceText, shortId} from './approvals.js'
import {type CommandContext, CommandError, type OutputStream, type Parsed} from './context.js'
import {WatchTimeoutError} from './errors.js'
import {ExitCode} from './exit-codes.js'
import {inert, jsonText} from './render/inert.js'
import {cell, padEnd} from './render/table.js'
import {timestamp} from './render/time.js'
import {resolveSessionId} from './sessions.js'

/** One daemon's event stream; `host` labels its lines when several are merged (`--hosts`). */
export interface WatchSource {
  host?: string
  endpoint: Endpoint
  filter: SubscribeFilter
}

export interface WatchOptions {
  sources: WatchSource[]
  /** Events after this id (of each source); undefined = from now on. */
  since: number | undefined
  json: boolean
  count?: number
  until?: EventType
  timeoutMs?: number
}

export interface WatchSummary {
  events: number
  last_event_id: number | null
  ended: 'count' | 'until' | 'interrupted' | 'output closed' | 'timeout'
}

export interface WatchFlags {
  type?: EventType[]
  session?: string
  run?: string
  since: string
  count?: number
  until?: EventType
  timeout?: number
}

/** `hld watch`: checks the flags, resolves --session on each host, then follows the streams (runWatch). */
export async function watch(ctx: CommandContext, {flags}: Parsed<WatchFlags>): Promise<void> {
  const {since, type, until} = flags
  if (since !== 'now' && !/^\d+$/.test(since))
    throw new CommandError(`--since takes an event id or "now", not "${since}"`, {exit: ExitCode.Usage})
  if (until && type && !type.includes(until)) {
    throw new CommandError(`--until ${until} can never match: --type leaves it out. Add --type ${until}.`, {exit: ExitCode.Usage})
  }
  const config = await ctx.loadConfig()
  const hosts = await ctx.hostList(config)
  const filter = {event_types: type, run_id: flags.run}
  // A --session prefix becomes the full id the events carry, on each host; an unknown id exits 4
  // instead of matching nothing forever. The first call also starts the daemon when none runs
  // (auto-start rules; over ssh, dial-stdio does that there).
  const source = (host: HostSpec, label?: string) => watchSource(ctx, flags.session, host, filter, config, label)
  const sources = hosts ? await Promise.all(hosts.map(async (host) => source(host, host.name))) : [await source(await ctx.host(config))]
  await runWatch(
    {
      sources,
      since: since === 'now' ? undefined : Number(since),
      json: ctx.jsonEnabled(),
      count: flags.count,
      until,
      timeoutMs: flags.timeout,
    },
    ctx.streams?.out,
    ctx.streams?.err,
  )
}

/**
 * One host's stream. With --hosts, a host that cannot be asked now is still followed (its
 * stream keeps trying), with --session as given, and a line on stderr says so.
 */
async function watchSource(
  ctx: CommandContext,
  sessionFlag: string | undefined,
  host: HostSpec,
  filter: SubscribeFilter,
  config: Config,
  label?: string,
): Promise<WatchSource> {
  try {
    const client = await ctx.clientOf(host, {config})
    const session = sessionFlag === undefined ? undefined : await resolveSessionId(client, sessionFlag)
    return {host: label, endpoint: client.endpoint, filter: {...filter, session_id: session}}
  } catch (error) {
    if (label === undefined || (error instanceof RpcError && error.code !== ErrorCode.Unavailable)) throw error
    ctx.logToStderr(`hld watch: ${label}: ${(error as Error).message}; following it once it answers`)
    return {host: label, endpoint: await ctx.endpointOf(host, {config}), filter: {...filter, session_id: sessionFlag}}
  }
}

export async function runWatch(
  options: WatchOptions,
  out: OutputStream = process.stdout,
  err: Pick<OutputStream, 'write'> = process.stderr,
): Promise<WatchSummary> {
  const abort = new AbortController()
  const summary: WatchSummary = {events: 0, last_event_id: null, ended: 'interrupted'}
  const stop = (why: WatchSummary['ended']) => () => {
    if (!abort.signal.aborted) summary.ended = why
    abort.abort()
  }
  const onSigint = stop('interrupted')
  process.on('SIGINT', onSigint)
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(stop('timeout'), options.timeoutMs)
  let outputError: Error | undefined
  // Left attached on purpose: a broken pipe may report more than once.
  out.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') outputError ??= error
    stop('output closed')()
  })

  const render = options.json
    ? (event: DaemonEvent, host?: string) => `${jsonText(host === undefined ? event : {...event, host})}\n`
    : await humanRenderer()
  try {
    // Each source follows its own daemon, reconnecting and resuming on its own.
    const streams = options.sources.map((source) =>
      labelled(
        source.host,
        streamEvents({
          target: source.endpoint,
          filter: source.filter,
          since: options.since,
          signal: abort.signal,
          onStatus: (status) => {
            const line = statusLine(status)
            if (line) err.write(`hld watch: ${inert(source.host === undefined ? line : `${source.host}: ${line}`)}\n`)
          },
        }),
      ),
    )
    for await (const {host, event} of merge(streams)) {
      summary.events++
      summary.last_event_id = event.id
      if (!out.write(render(event, host))) await drained(out, abort.signal)
      if (abort.signal.aborted) break
      if (options.count !== undefined && summary.events >= options.count) {
        summary.ended = 'count'
        break
      }
      if (options.until === event.type) {
        summary.ended = 'until'
        break
      }
    }
  } finally {
    process.off('SIGINT', onSigint)
    clearTimeout(timer)
    abort.abort() // the other sources' streams, when one ended the watch
  }
  if (outputError) throw outputError
  if (summary.ended === 'timeout') throw new WatchTimeoutError(options.timeoutMs!, summary)
  return summary
}

async function* labelled(
  host: string | undefined,
  events: AsyncGenerator<DaemonEvent>,
): AsyncGenerator<{host?: string; event: DaemonEvent}> {
  for await (const event of events) yield {host, event}
}

/** Items from every iterator as each comes; ends when all have, fails when one does. */
async function* merge<T>(iterators: AsyncGenerator<T>[]): AsyncGenerator<T> {
  const next = (index: number) => iterators[index].next().then((result) => ({index, result}))
  const pending = new Map(iterators.map((_, index) => [index, next(index)]))
  try {
    while (pending.size > 0) {
      const {index, result} = await Promise.race(pending.values())
      if (result.done) {
        pending.delete(index)
        continue
      }
      pending.set(index, next(index))
      yield result.value
    }
  } finally {
    // Not awaited: a source still waiting on its daemon ends once the caller's signal aborts it.
    for (const iterator of iterators) void iterator.return(undefined)
  }
}

function drained(out: OutputStream, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    out.once('drain', done)
    signal.addEventListener('abort', done, {once: true})
  })
}

function statusLine(status: StreamStatus): string | undefined {
  switch (status.state) {
    case 'disconnected': {
      return `${status.reason.replace(/\.$/, '')}; reconnecting in ${status.retryInMs} ms`
    }
    case 'gap': {
      return `events up to id ${status.prunedThrough} were removed by retention before they could be replayed`
    }
    case 'lost': {
      return status.message
    }
    case 'subscribed': {
      return status.reconnected ? `subscribed again, resuming after event ${status.resumedAfter}` : undefined
    }
  }
}

/** Longest gist before it is cut with a marker; `hld approvals show`, `session show` or --json have it whole. */
const MAX_GIST = 120

/** One line per event: time, type, session, gist; coloured when stdout is a terminal (chalk decides). */
async function humanRenderer(): Promise<(event: DaemonEvent, host?: string) => string> {
  const {default: chalk} = await import('chalk')
  const colour = (event: DaemonEvent): ((text: string) => string) => {
    switch (event.type) {
      case 'new_approval': {
        return chalk.yellow
      }
      case 'approval_resolved': {
        return event.data.approved ? chalk.green : chalk.red
      }
      case 'session_status_changed': {
        return chalk.cyan
      }
      case 'conversation_updated': {
        return chalk.white
      }
      case 'session_settings_changed': {
        return chalk.magenta
      }
    }
  }
  return (event, host) => {
    const time = chalk.dim(timestamp(event.timestamp, {ms: true}))
    const where = host === undefined ? '' : `${chalk.magenta(inert(host))} `
    const type = colour(event)(padEnd(cell(event.type), 22))
    const session = chalk.bold(padEnd(cell(event.data.session_id ? event.data.session_id.slice(0, 8) : '-'), 8))
    return `${time} ${where}${type} ${session} ${cell(gist(event), MAX_GIST).text}\n`
  }
}

export function gist(event: DaemonEvent): string {
  switch (event.type) {
    case 'new_approval': {
      return `${event.data.tool_name} is waiting for approval ${shortId(event.data.approval_id)}`
    }
    case 'approval_resolved': {
      const {approved, approval_id: id, response_text: text} = event.data
      // Who decided, once the daemon records it (decided_by); rendered inert by the caller.
      const by = event.data.decided_by
      return `${outcomeWord(event.data.status, approved)} ${shortId(id)}${by ? ` ${provenanceText(by, String)}` : ''}${text ? `: ${text}` : ''}`
    }
    case 'session_status_changed': {
      const data = event.data
      if (data.title !== undefined) return `title: ${data.title}`
      return `${data.old_status} → ${data.new_status}${data.error ? ` (${data.error})` : ''}`
    }
    case 'conversation_updated': {
      const data = event.data
      switch (data.event_type) {
        case 'tool_call': {
          return `tool ${data.tool_name ?? '?'} ${JSON.stringify(data.tool_input ?? {})}`
        }
        case 'tool_result': {
          return `result of ${data.tool_result_for_id ?? '?'}: ${data.tool_result_content ?? ''}`
        }
        case 'system': {
          return `system${data.subtype ? ` ${data.subtype}` : ''}${data.content ? `: ${data.content}` : ''}`
        }
        default: {
          return `${data.event_type === 'thinking' ? 'thinking' : (data.role ?? 'message')}: ${data.content ?? ''}`
        }
      }
    }
    case 'session_settings_changed': {
      const {auto_accept_edits: edits, dangerously_skip_permissions: skip, reason} = event.data
      const parts = [
        edits === undefined ? '' : `auto_accept_edits=${edits}`,
        skip === undefined ? '' : `dangerously_skip_permissions=${skip}`,
        reason ? `(${reason})` : '',
      ]
      return `settings: ${parts.filter(Boolean).join(' ')}`
    }
  }
}

/** The approval's own status word (expired, responded, resolved_externally) when the event has it, as the lists show it. */
function outcomeWord(status: string | undefined, approved: boolean): string {
  return status && status !== 'pending' ? status : approved ? 'approved' : 'denied'
}
