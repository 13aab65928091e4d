/**
 * Rendering of approvals for people, and what `approvals list`, `approve`, `deny` and `respond`
 * do (shared by their oclif commands and the lean entry, see context.ts). Light: no oclif, only
 * protocol types and the render module, so the commands stay fast to start. Everything an
 * approval carries is untrusted (a model wrote it) and printed through `render`.
 */
import os from 'node:os'

import type {DaemonClient} from '../client/index.js'
import type {HostSpec} from '../config/hosts.js'
import type {Approval, DecisionProvenance, FetchApprovalsResult, SendDecisionResult, TruncatedToolInput} from '../protocol/approvals.js'
import {ErrorCode, RpcError} from '../protocol/errors.js'
import type {Session} from '../protocol/sessions.js'
import {splitCommand} from '../shared/shell.js'
import {codePoints} from '../shared/text.js'
import {type CommandContext, CommandError, type Parsed} from './context.js'
import type {HostFailure} from './fan-in.js'
import {ExitCode, exitCodeFor} from './exit-codes.js'
import {inert} from './render/inert.js'
import {type Cell, anyCut, cell, cellOfEnds, cutNote, plain, table} from './render/table.js'
import {age, timestamp} from './render/time.js'
import {resolveSessionId} from './sessions.js'

/** What a person types: the id without `local-`, its first 8 characters (any unique prefix works). */
export function shortId(id: string): string {
  return inert(id.startsWith('local-') ? id.slice('local-'.length, 'local-'.length + 8) : id)
}

/** The session an approval belongs to, as a table cell at most `width` columns wide. */
export function sessionCell(approval: Approval, width = 40): Cell {
  if (!approval.session)
    return cell(approval.unassociated ? `(unassociated, run ${approval.run_id})` : `session ${approval.session_id}`, width)
  const {title, summary, id} = approval.session
  const suffix = cell(` [${id.slice(0, 8)}]`)
  const label = cell(title || summary || '(untitled)', Math.max(10, width - suffix.width))
  return {text: label.text + suffix.text, width: label.width + suffix.width, cut: label.cut}
}

/** The session an approval belongs to, on one line, inert. */
export function sessionLabel(approval: Approval, width = 40): string {
  return sessionCell(approval, width).text
}

/** What is asked, as a table cell: the command or file for tools that have one, the question for a contact. */
export function requestCell(approval: Approval, width = 60): Cell {
  if (approval.type === 'human_contact') return cell(approval.message ?? '', width)
  const input = (approval.tool_input ?? {}) as Record<string, unknown>
  if (approval.tool_input_truncated && isTruncatedInput(input)) {
    // Too large to list: the daemon sent the two ends of its JSON, and its length.
    const prefix = `${approval.tool_name ?? ''}: `
    return cellOfEnds(prefix + input.preview, input.tail, codePoints(prefix) + input.characters, width)
  }
  const target =
    typeof input.command === 'string'
      ? input.command
      : typeof input.file_path === 'string'
        ? input.file_path
        : JSON.stringify(approval.tool_input)
  return cell(`${approval.tool_name ?? ''}: ${target}`, width)
}

function isTruncatedInput(input: Record<string, unknown>): input is Record<string, unknown> & TruncatedToolInput {
  return (
    input.hld_truncated === true &&
    typeof input.preview === 'string' &&
    typeof input.tail === 'string' &&
    typeof input.characters === 'number'
  )
}

/** What is asked, on one line at most `width` columns, inert (a cut shows the marker). */
export function describeRequest(approval: Approval, width = 60): string {
  return requestCell(approval, width).text
}

/**
 * Who decided: `via cli (uid 1000, pid 4242: hld approvals approve 3f2a)`, each value through `show`
 * (inert by default; a caller that renders the whole line inert itself passes String).
 */
export function provenanceText(by: DecisionProvenance, show: (value: unknown) => string = inert): string {
  const who = [
    by.uid === undefined ? '' : `uid ${show(by.uid)}`,
    by.pid === undefined ? '' : `pid ${show(by.pid)}`,
    by.user === undefined ? '' : `user ${show(by.user)}`,
    by.host === undefined ? '' : `host ${show(by.host)}`,
    by.ssh_connection === undefined ? '' : `ssh ${show(by.ssh_connection)}`,
    by.rule === undefined ? '' : `rule ${show(by.rule)}`,
    by.verdict === undefined ? '' : `verdict ${show(by.verdict)}`,
  ].filter(Boolean)
  const command = by.command === undefined ? '' : `${who.length > 0 ? ': ' : ''}${show(by.command)}`
  return `via ${show(by.channel)}${who.length > 0 || command ? ` (${who.join(', ')}${command})` : ''}`
}

/** The status, and for a decided approval when, how and by whom. */
function statusLine(approval: Approval): string {
  const at = approval.decided_at ? ` at ${timestamp(approval.decided_at)}` : ''
  const by = approval.decided_by
  return `${inert(approval.status)}${at}${by ? ` ${provenanceText(by)}` : ''}`
}

/** A value of any length on its own lines, each behind a gutter so no text of it can pass for ours. */
function block(value: string, indent: string): string[] {
  return value.split('\n').map((line) => `${indent}│ ${inert(line, {lines: true})}`)
}

/** A field: short one-line strings inline, anything else as a block (strings) or indented JSON below. */
function field(name: string, value: unknown, indent: string): string[] {
  const label = `${indent}${inert(name)}:`
  if (typeof value === 'string' && !value.includes('\n') && value.length <= 100) return [`${label} ${inert(value)}`]
  if (typeof value === 'string') return [label, ...block(value, `${indent}  `)]
  if (typeof value !== 'object' || value === null) return [`${label} ${inert(value)}`]
  return [label, ...block(JSON.stringify(value, undefined, 2), `${indent}  `)]
}

/**
 * Everything about an approval, untruncated: status with provenance, the session, the run, the age,
 * every field of the tool input; for Bash each command of a compound line, for file edits the diff
 * against the file on disk.
 */
export async function approvalDetails(approval: Approval, session?: Session, heading = 'Approval'): Promise<string[]> {
  const lines = [`${heading} ${inert(approval.id)}`, `  status:      ${statusLine(approval)}`]
  if (approval.comment !== undefined) lines.push(...field('comment', approval.comment, '  '))
  if (approval.response !== undefined) lines.push(...field('response', approval.response, '  '))
  if (approval.session) {
    const title = approval.session.title || approval.session.summary || '(untitled)'
    lines.push(`  session:     ${inert(title)} [${inert(approval.session.id)}] (${inert(approval.session.status)})`)
  } else {
    lines.push(
      `  session:     ${approval.unassociated ? '(unassociated: no session has this run)' : inert(approval.session_id ?? '(none)')}`,
    )
  }
  if (session) lines.push(`  working dir: ${inert(session.working_dir)}`)
  lines.push(
    `  run id:      ${inert(approval.run_id)}`,
    `  created:     ${timestamp(approval.created_at)} (${age(approval.created_at)} ago)`,
    `  source:      ${inert(approval.source)}`,
    '',
  )

  if (approval.type === 'human_contact') {
    lines.push('Question:', ...block(approval.message ?? '', '  '))
    return lines
  }

  const input = approval.tool_input
  lines.push(`Tool: ${inert(approval.tool_name ?? '(none)')}`)
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    for (const [name, value] of Object.entries(input)) lines.push(...field(name, value, '  '))
  } else {
    lines.push(...field('input', input, '  '))
  }

  const command = (input as {command?: unknown} | null)?.command
  if (approval.tool_name === 'Bash' && typeof command === 'string') {
    const parts = splitCommand(command)
    if (parts.length > 1) {
      lines.push('', `It runs ${parts.length} commands:`)
      for (const [index, part] of parts.entries()) lines.push(`  ${String(index + 1).padStart(2)}. ${inert(part)}`)
    }
  }

  const {fileChange} = await import('./render/diff.js')
  const change = await fileChange(approval.tool_name, input, session?.working_dir)
  if (change) {
    lines.push('', `Change to ${inert(change.file)}:`)
    for (const note of change.notes) lines.push(`  ${note}`)
    lines.push(...change.diff)
  }
  return lines
}

/** The approval's session, for its working directory; undefined when it has none or it is gone. */
export async function sessionOf(client: DaemonClient, approval: Approval): Promise<Session | undefined> {
  if (!approval.session_id) return undefined
  const {GetSessionState} = await import('../protocol/sessions.js')
  try {
    return (await client.call(GetSessionState, {session_id: approval.session_id})).session
  } catch (error) {
    if (error instanceof RpcError && error.code === ErrorCode.NotFound) return undefined
    throw error
  }
}

/** With --hosts, each approval says its host and `errors` lists the hosts that did not answer. */
export type ApprovalsListResult = FetchApprovalsResult | {approvals: (Approval & {host: string})[]; errors: HostFailure[]}

/** `hld approvals list`: pending approvals (or, with --all, decided ones too), of one machine or several. */
export async function listApprovals(
  ctx: CommandContext,
  {flags}: Parsed<{session?: string; all?: boolean; limit: number}>,
): Promise<ApprovalsListResult> {
  const {fetchAllApprovals} = await import('../client/approvals.js')
  const {all, limit} = flags
  const config = await ctx.loadConfig()
  // Each machine resolves a --session prefix against its own sessions.
  const ask = async (client: DaemonClient) => {
    const session = flags.session === undefined ? undefined : await resolveSessionId(client, flags.session, {unknownAsGiven: true})
    return fetchAllApprovals(client, {...(session ? {session_id: session} : {}), ...(all ? {include_decided: true, limit} : {})})
  }
  const hosts = await ctx.hostList(config)
  if (!hosts) {
    const result = await ask(await ctx.client({config}))
    printApprovals(ctx, result.approvals, all)
    return result
  }
  const {askHosts, notFoundAsEmpty, reportFailures} = await import('./fan-in.js')
  let fanIn = await askHosts(hosts, async (host) => ask(await ctx.clientOf(host, {config})), config.host_timeout_ms)
  // A --session lives on one host: the others have no approvals of it, which is no failure of theirs.
  if (flags.session !== undefined) fanIn = notFoundAsEmpty(flags.session, fanIn, 'session', {approvals: []})
  const errors = reportFailures(fanIn, (line) => process.stderr.write(`hld: ${inert(line)}\n`))
  const approvals = fanIn.answers.flatMap(({host, value}) => value.approvals.map((a) => ({...a, host: host.name})))
  // Pending: oldest first, as one host lists them; with --all, newest first.
  approvals.sort((a, b) => (all ? b.created_at.localeCompare(a.created_at) : a.created_at.localeCompare(b.created_at)))
  printApprovals(ctx, approvals, all)
  return {approvals, errors}
}

function printApprovals(ctx: CommandContext, approvals: (Approval & {host?: string})[], all: boolean | undefined): void {
  if (ctx.jsonEnabled()) return // --json prints the result instead
  if (approvals.length === 0) {
    ctx.log(all ? 'No approvals.' : 'No pending approvals.')
    return
  }
  const hosts = approvals.some((a) => a.host !== undefined)
  const rows = approvals.map((a) => [
    ...(hosts ? [plain(inert(a.host ?? ''))] : []),
    plain(shortId(a.id)),
    ...(all ? [a.status] : []),
    sessionCell(a),
    plain(age(a.created_at)),
    requestCell(a),
  ])
  ctx.log(table([...(hosts ? ['HOST'] : []), 'ID', ...(all ? ['STATUS'] : []), 'SESSION', 'AGE', 'REQUEST'], rows))
  if (anyCut(rows)) ctx.log(cutNote('`hld approvals show <id>` shows the whole request'))
}

const VERB = {approve: 'Approved', deny: 'Denied', respond: 'Answered'} as const

/** approve, deny and respond of one approval: one sendDecision call, then what was decided, in full. */
export async function decide(
  ctx: CommandContext,
  params: {approval_id: string; decision: keyof typeof VERB; comment?: string; response?: string},
): Promise<SendDecisionResult> {
  const {GetApproval, SendDecision} = await import('../protocol/approvals.js')
  // `devbox:9c1e`, or with --hosts the one host that has it.
  const {client, id} = await ctx.clientForId(
    params.approval_id,
    (c, approvalId) => c.call(GetApproval, {approval_id: approvalId}),
    'approval',
  )
  const result = await client.call(SendDecision, {...params, approval_id: id, ...decisionLabels()})
  if (ctx.jsonEnabled()) return result
  const {approval} = result
  for (const line of await approvalDetails(approval, await sessionOf(client, approval), VERB[params.decision])) ctx.log(line)
  return result
}

type DecisionFlags = {comment?: string; all?: boolean; session?: string}

/** `hld approvals approve ID…` and `hld approvals approve --all --session ID`. */
export function approve(
  ctx: CommandContext,
  {argv, flags}: Parsed<DecisionFlags>,
): Promise<SendDecisionResult | {results: DecisionOutcome[]; errors?: HostFailure[]}> {
  return decideMany(ctx, argv, {decision: 'approve', comment: flags.comment, all: flags.all, session: flags.session})
}

/** `hld approvals deny ID… --comment WHY` and `--all --session ID`. */
export function deny(
  ctx: CommandContext,
  {argv, flags}: Parsed<DecisionFlags>,
): Promise<SendDecisionResult | {results: DecisionOutcome[]; errors?: HostFailure[]}> {
  return decideMany(ctx, argv, {decision: 'deny', comment: flags.comment, all: flags.all, session: flags.session})
}

/** One approval to decide: where (its host's client) and how that host knows it, or why it cannot be. */
type Target = {given: string; host?: HostSpec} & ({client: DaemonClient; id: string} | {error: Error})

/**
 * approve and deny of several ids, or of every pending approval of one session (`--all
 * --session`). Each id goes to the host that owns it (`devbox:9c1e`, or with --hosts the one
 * host that has it), and `--all` with --hosts asks every host. Each is decided on its own: one
 * that fails (unknown, already decided, its host unreachable) is reported and the rest still go;
 * the exit status is then the first failure's. A host that cannot be asked for --all's list is
 * reported as the list commands do (stderr, `errors`), failing the command only when none answered.
 */
async function decideMany(
  ctx: CommandContext,
  ids: string[],
  options: {decision: 'approve' | 'deny'; comment?: string; all?: boolean; session?: string},
): Promise<SendDecisionResult | {results: DecisionOutcome[]; errors?: HostFailure[]}> {
  if (options.all && !options.session) {
    throw new CommandError("--all needs --session ID, so one slip cannot decide every session's approvals", {exit: ExitCode.Usage})
  }
  if (options.all && ids.length > 0) throw new CommandError('give approval ids or --all --session, not both', {exit: ExitCode.Usage})
  if (!options.all && ids.length === 0)
    throw new CommandError('give an approval id (or several), or --all --session ID', {exit: ExitCode.Usage})
  const comment = options.comment ? {comment: options.comment} : {}
  if (!options.all && ids.length === 1) return decide(ctx, {approval_id: ids[0], decision: options.decision, ...comment})
  const {GetApproval, SendDecision} = await import('../protocol/approvals.js')
  let targets: Target[]
  let errors: HostFailure[] | undefined
  // Outcomes say their host whenever hosts were named (--hosts or a qualified id).
  let labelled: boolean
  if (options.all) {
    ;({targets, errors, labelled} = await pendingOfSession(ctx, options.session!))
  } else {
    targets = await ctx.clientsForIds(ids, (client, id) => client.call(GetApproval, {approval_id: id}), 'approval')
    labelled = (await ctx.hostList()) !== undefined || targets.some((target) => 'qualified' in target && target.qualified)
  }
  const label = (target: Target, id: string) => (labelled && target.host ? `${target.host.name}:${id}` : id)
  // All at once (each host's connection carries its own in order); reported in the order given.
  const settled = await Promise.allSettled(
    targets.map(async (target) => {
      if ('error' in target) throw target.error
      const params = {approval_id: target.id, decision: options.decision, ...comment, ...decisionLabels()}
      return (await target.client.call(SendDecision, params)).approval
    }),
  )
  const results: DecisionOutcome[] = []
  let failure: Error | undefined
  for (const [index, target] of targets.entries()) {
    const host = labelled && target.host ? {host: target.host.name} : {}
    const outcome = settled[index]
    if (outcome.status === 'fulfilled') {
      const approval = outcome.value
      ctx.log(`${VERB[options.decision]} ${label(target, approval.id)}: ${describeRequest(approval)}`)
      results.push({approval_id: approval.id, ...host, success: true, approval})
    } else {
      const error = outcome.reason as Error
      failure ??= error
      const id = 'id' in target ? target.id : target.given
      ctx.logToStderr(`Not ${options.decision === 'approve' ? 'approved' : 'denied'}: ${label(target, id)}: ${error.message}`)
      results.push({approval_id: id, ...host, success: false, error: error.message})
    }
  }
  if (failure) {
    const decided = results.filter((r) => r.success).length
    // --json keeps every outcome: which were decided matters as much as what failed.
    throw new CommandError(`${decided} of ${results.length} decided; the first failure: ${failure.message}`, {
      exit: exitCodeFor(failure),
      data: errors ? {results, errors} : {results},
    })
  }
  return errors ? {results, errors} : {results}
}

/**
 * `--all --session ID`: the session's pending tool calls, on the one machine (--host, or a
 * qualified `devbox:5c1e`) or on every host of --hosts, each resolving the prefix among its own
 * sessions. Hosts that cannot be asked become `errors` (and a line on stderr).
 */
async function pendingOfSession(
  ctx: CommandContext,
  session: string,
): Promise<{targets: Target[]; errors?: HostFailure[]; labelled: boolean}> {
  const {fetchAllApprovals} = await import('../client/approvals.js')
  const config = await ctx.loadConfig()
  const {hosts, id} = await ctx.hostsOf(session, config)
  const pending = async (client: DaemonClient) => {
    const sessionId = await resolveSessionId(client, id, {unknownAsGiven: true})
    const {approvals} = await fetchAllApprovals(client, {session_id: sessionId})
    return approvals.filter((a) => a.type === 'function_call')
  }
  if (!hosts) {
    const client = await ctx.client({config})
    const targets = (await pending(client)).map((a) => ({given: a.id, client, id: a.id}))
    if (targets.length === 0) ctx.log(`Session ${inert(session)} has no pending approvals.`)
    return {targets, labelled: false}
  }
  const {askHosts, notFoundAsEmpty, reportFailures} = await import('./fan-in.js')
  const asked = await askHosts(
    hosts,
    async (host): Promise<Target[]> => {
      const client = await ctx.clientOf(host, {config})
      return (await pending(client)).map((a) => ({given: a.id, host, client, id: a.id}))
    },
    config.host_timeout_ms,
  )
  // The session lives on one host (whichever knows the prefix): the others have nothing to decide.
  const fanIn = notFoundAsEmpty(id, asked, 'session', [])
  const errors = reportFailures(fanIn, (line) => process.stderr.write(`hld: ${inert(line)}\n`))
  const targets = fanIn.answers.flatMap(({value}) => value)
  if (targets.length === 0) {
    ctx.log(`Session ${inert(session)} has no pending approvals on ${fanIn.answers.map(({host}) => inert(host.name)).join(', ')}.`)
  }
  return {targets, errors, labelled: true}
}

/**
 * What the CLI says about its decisions: that it is the CLI, and who runs it on which machine. The
 * daemon records user and host only for a decision that came over ssh, where it cannot see them.
 */
function decisionLabels(): {channel: 'cli'; decider: {user?: string; host: string}} {
  let user: string | undefined
  try {
    user = os.userInfo().username
  } catch {
    // No passwd entry for this uid (some containers).
    user = process.env.USER || process.env.LOGNAME || undefined
  }
  return {channel: 'cli', decider: {...(user ? {user} : {}), host: os.hostname()}}
}

/** One decision of several; `host` when hosts were named (--hosts, a qualified id). */
export type DecisionOutcome = {approval_id: string; host?: string} & ({success: true; approval: Approval} | {success: false; error: string})
