/**
 * What the session commands share: resolving a session id, rendering sessions and conversations
 * as text, and what `session list` and `session show` do (shared by their oclif commands and the
 * lean entry, see context.ts). No oclif here: launch and continue's flags are in session-start.ts.
 */
import type {DaemonClient} from '../client/index.js'
import {ErrorCode, RpcError} from '../protocol/errors.js'
import type {ConversationEvent, Session} from '../protocol/sessions.js'
import {GetConversation, GetSessionState, ListSessions} from '../protocol/sessions.js'
import type {CommandContext, Parsed} from './context.js'
import type {HostFailure} from './fan-in.js'
import {inert} from './render/inert.js'
import {anyCut, cell, cutNote, plain, table} from './render/table.js'
import {timestamp} from './render/time.js'

/**
 * The full id of the session a flag names by id or unique prefix; the daemon resolves it, so
 * an unknown id fails with NotFound (exit 4) and an ambiguous one with the candidates. With
 * `unknownAsGiven`, an id no session has is returned as given, for the next call to judge
 * (approvals outlive a session they were stored for).
 */
export async function resolveSessionId(
  client: DaemonClient,
  idOrPrefix: string,
  options: {unknownAsGiven?: boolean} = {},
): Promise<string> {
  try {
    return (await client.call(GetSessionState, {session_id: idOrPrefix})).session.id
  } catch (error) {
    if (options.unknownAsGiven && error instanceof RpcError && error.code === ErrorCode.NotFound) return idOrPrefix
    throw error
  }
}

export interface SessionListResult {
  sessions: Session[]
  /** How many sessions match in all (absent with `--limit 0`, which lists them all). */
  total?: number
}

/** With --hosts: each session says its host, and `errors` lists the hosts that did not answer. */
export interface SessionFanInResult {
  sessions: (Session & {host: string})[]
  errors: HostFailure[]
}

/** `hld session list`: the newest sessions as a table, of one machine or several. */
export async function listSessions(
  ctx: CommandContext,
  {flags}: Parsed<{status?: string; limit: number; archived?: boolean}>,
): Promise<SessionListResult | SessionFanInResult> {
  const {status, limit, archived} = flags
  const params = {status: status as Session['status'] | undefined, archived, ...(limit > 0 ? {limit} : {})}
  const config = await ctx.loadConfig()
  const hosts = await ctx.hostList(config)
  if (hosts) {
    const {askHosts, reportFailures} = await import('./fan-in.js')
    const fanIn = await askHosts(
      hosts,
      async (host) => (await ctx.clientOf(host, {config})).call(ListSessions, params),
      config.host_timeout_ms,
    )
    const errors = reportFailures(fanIn, (line) => process.stderr.write(`hld: ${inert(line)}\n`))
    const sessions = fanIn.answers.flatMap(({host, value}) => value.sessions.map((s) => ({...s, host: host.name})))
    sessions.sort((a, b) => a.created_at.localeCompare(b.created_at))
    if (ctx.jsonEnabled()) return {sessions, errors}
    if (sessions.length === 0) ctx.log(params.status ? `No ${params.status} sessions.` : 'No sessions yet.')
    else ctx.log(sessionTable(sessions))
    return {sessions, errors}
  }
  const result = await (await ctx.client({config})).call(ListSessions, params)
  // The table is for people: under --json the result is the output, and rendering it costs.
  if (ctx.jsonEnabled()) return result
  const {sessions, total} = result
  if (sessions.length === 0) {
    const kind = [archived ? 'archived' : undefined, status].filter(Boolean).join(' ')
    ctx.log(kind ? `No ${kind} sessions.` : 'No sessions yet.')
  } else ctx.log(sessionTable(sessions))
  if (total !== undefined && total > sessions.length) ctx.log(`(the newest ${sessions.length} of ${total}; --limit 0 lists them all)`)
  return result
}

export interface SessionShowResult {
  session: Session
  events: ConversationEvent[]
  /** How many events the conversation has in all (absent with `--limit 0`, which shows them all). */
  total?: number
}

/** `hld session show ID`: the session's state, then its conversation. */
export async function showSession(ctx: CommandContext, {args, flags}: Parsed<{limit: number}, {id: string}>): Promise<SessionShowResult> {
  const {client, id} = await ctx.clientForId(args.id, (c, sessionId) => c.call(GetSessionState, {session_id: sessionId}), 'session')
  const {limit} = flags
  const {session} = await client.call(GetSessionState, {session_id: id})
  const {events, total} = await client.call(GetConversation, {session_id: session.id, ...(limit > 0 ? {limit} : {})})
  const result = {session, events, ...(total === undefined ? {} : {total})}
  // Rendering every event is for people; --json prints the result.
  if (ctx.jsonEnabled()) return result
  for (const line of sessionDetails(session)) ctx.log(line)
  ctx.log('')
  const count =
    total !== undefined && total > events.length
      ? `the last ${events.length} of ${total} events; --limit 0 shows them all`
      : `${events.length} events`
  ctx.log(`Conversation (${count}):`)
  const conversation = conversationLines(events)
  for (const line of conversation.lines) ctx.log(line)
  if (conversation.cut) ctx.log(cutNote('--json shows every event whole'))
  return result
}

/** One line saying how a followed session stands. */
export function outcomeLine(s: Session): string {
  return `Session ${inert(s.id)} ${inert(s.status)}${s.error_message ? `: ${inert(s.error_message)}` : ''}`
}

function formatCost(cost: number | undefined): string {
  return cost === undefined ? '-' : `$${cost.toFixed(4)}`
}

/** The sessions as a table, then a footer when a title was cut; from several machines (--hosts), with a HOST column. */
export function sessionTable(sessions: (Session & {host?: string})[]): string {
  const hosts = sessions.some((s) => s.host !== undefined)
  const rows = sessions.map((s) => [
    ...(hosts ? [plain(inert(s.host ?? ''))] : []),
    plain(inert(s.id.slice(0, 8))),
    cell(s.status),
    plain(timestamp(s.created_at)),
    plain(formatCost(s.cost_usd)),
    cell(s.title || s.summary, 80),
  ])
  const footer = anyCut(rows) ? `\n${cutNote('`hld session show <id>` shows the whole title')}` : ''
  return table([...(hosts ? ['HOST'] : []), 'ID', 'STATUS', 'CREATED', 'COST', 'TITLE'], rows) + footer
}

export function sessionDetails(s: Session): string[] {
  const lines = [
    `Session ${inert(s.id)}${s.title ? ` (${inert(s.title)})` : ''}`,
    `  status:      ${inert(s.status)}${s.error_message ? ` (${inert(s.error_message)})` : ''}`,
    `  run id:      ${inert(s.run_id)}`,
    `  working dir: ${inert(s.working_dir)}`,
    `  created:     ${timestamp(s.created_at)}${s.completed_at ? `, ended ${timestamp(s.completed_at)}` : ''}`,
  ]
  if (s.parent_session_id) lines.push(`  continues:   ${inert(s.parent_session_id)}`)
  if (s.claude_session_id) lines.push(`  claude id:   ${inert(s.claude_session_id)}`)
  if (s.model || s.model_id) lines.push(`  model:       ${inert(s.model_id ?? s.model)}`)
  if (s.cost_usd !== undefined)
    lines.push(`  cost:        ${formatCost(s.cost_usd)} over ${inert(s.num_turns ?? '?')} turns in ${inert(s.duration_ms ?? '?')} ms`)
  return lines
}

/** Longest conversation line before it is cut (the marker says so; --json has it whole). */
const CONVERSATION_WIDTH = 200

/** One line per event, content on one line and cut so a conversation stays readable. */
export function conversationLines(events: ConversationEvent[]): {lines: string[]; cut: boolean} {
  let cut = false
  const text = (value: string): string => {
    const c = cell(value, CONVERSATION_WIDTH)
    cut ||= c.cut
    return c.text
  }
  const lines = events.map((e) => {
    const approval = e.approval_status ? ` [approval ${inert(e.approval_status)}]` : ''
    switch (e.event_type) {
      case 'tool_call': {
        return `  ${inert(e.role ?? 'assistant')} → ${inert(e.tool_name)}(${text(e.tool_input_json ?? '')})${approval}`
      }
      case 'tool_result': {
        return `  tool result ← ${text(e.tool_result_content ?? '')}`
      }
      default: {
        return `  ${e.event_type === 'thinking' ? 'thinking' : inert(e.role ?? 'system')}: ${text(e.content ?? '')}`
      }
    }
  })
  return {lines, cut}
}
