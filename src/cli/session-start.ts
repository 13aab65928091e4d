/**
 * What launch and continue share: the flags that shape a session, turning them into params, and
 * following a started session to its end (--wait).
 */
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {type Command, Errors, Flags} from '@oclif/core'

import type {DaemonClient} from '../client/index.js'
import type {Approval} from '../protocol/approvals.js'
import type {Session} from '../protocol/sessions.js'
import {parseDuration} from '../shared/duration.js'
import {describeRequest, shortId} from './approvals.js'
import {BaseCommand} from './base-command.js'
import {ExitCode} from './exit-codes.js'
import {inert, jsonText} from './render/inert.js'
import {outcomeLine} from './sessions.js'

/** Flags of launch and continue: a continued session inherits what these leave unset. */
export const sessionSettingsFlags = {
  'max-turns': Flags.integer({summary: 'Stop after this many agent turns (not inherited by continue).', min: 1}),
  'system-prompt': Flags.string({summary: "Replace claude's system prompt."}),
  'append-system-prompt': Flags.string({summary: "Append to claude's system prompt."}),
  'allowed-tools': Flags.string({
    summary: 'Tools claude may use without asking, comma-separated or repeated.',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'disallowed-tools': Flags.string({
    summary: 'Tools claude may not use, comma-separated or repeated.',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'add-dir': Flags.string({summary: 'Another directory claude may work in (repeatable).', multiple: true, multipleNonGreedy: true}),
  title: Flags.string({summary: 'A title for the session.'}),
  'mcp-config': Flags.string({summary: 'A JSON file with {"mcpServers": {...}} to give claude.'}),
  approvals: Flags.boolean({
    summary: 'Route tool permission prompts to hld approvals; --no-approvals leaves claude to its own rules.',
    allowNo: true,
    default: true,
  }),
  wait: Flags.boolean({
    summary: 'Follow the session until it ends; exit 1 unless it completed.',
    description:
      'Progress and the commands that decide its approvals go to stderr; with --json, stdout carries NDJSON: the launch, then the ended session.',
  }),
  allow: Flags.string({
    summary: 'Policy rule: tool calls it matches run without asking, e.g. "Bash(npm test)" (repeatable).',
    multiple: true,
    multipleNonGreedy: true,
  }),
  ask: Flags.string({
    summary: 'Policy rule: tool calls it matches ask a human, even if allowed (repeatable).',
    multiple: true,
    multipleNonGreedy: true,
  }),
  deny: Flags.string({
    summary: 'Policy rule: tool calls it matches are blocked, e.g. "Bash(git push *)" (repeatable).',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'approval-timeout': Flags.string({summary: 'How long an approval waits for a human, e.g. 10m; then --on-timeout decides.'}),
  'on-timeout': Flags.string({summary: 'The verdict when an approval times out (default deny).', options: ['allow', 'deny']}),
  'dangerously-allow-self-approval': Flags.boolean({
    summary: "Turn off the built-in rules that stop the agent touching hld's socket, database and decision commands.",
  }),
}

interface SettingsFlags {
  'max-turns'?: number
  'system-prompt'?: string
  'append-system-prompt'?: string
  'allowed-tools'?: string[]
  'disallowed-tools'?: string[]
  'add-dir'?: string[]
  title?: string
  'mcp-config'?: string
  approvals: boolean
  allow?: string[]
  ask?: string[]
  deny?: string[]
  'approval-timeout'?: string
  'on-timeout'?: string
  'dangerously-allow-self-approval'?: boolean
}

const splitList = (values: string[] | undefined): string[] | undefined =>
  values
    ?.flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '')

/** The launch/continue params the settings flags ask for (unset flags stay unset). */
export async function sessionSettings(flags: SettingsFlags) {
  return {
    max_turns: flags['max-turns'],
    system_prompt: flags['system-prompt'],
    append_system_prompt: flags['append-system-prompt'],
    allowed_tools: splitList(flags['allowed-tools']),
    disallowed_tools: splitList(flags['disallowed-tools']),
    additional_directories: flags['add-dir']?.map((dir) => path.resolve(dir)),
    title: flags.title,
    mcp_config: flags['mcp-config'] === undefined ? undefined : await readMcpConfig(flags['mcp-config']),
    // Only sent when turned off, so a continued session otherwise keeps its parent's choice.
    disable_approvals: flags.approvals ? undefined : true,
    allow: flags.allow,
    ask: flags.ask,
    deny: flags.deny,
    approval_timeout_ms:
      flags['approval-timeout'] === undefined ? undefined : durationFlag('--approval-timeout', flags['approval-timeout']),
    on_timeout: flags['on-timeout'] as 'allow' | 'deny' | undefined,
    dangerously_allow_self_approval: flags['dangerously-allow-self-approval'] || undefined,
  }
}

function durationFlag(name: string, value: string): number {
  const ms = parseDuration(value)
  if (ms === undefined || ms <= 0)
    throw new Errors.CLIError(`${name} takes a duration such as 30s, 10m or 2h, not "${value}"`, {exit: ExitCode.Usage})
  return ms
}

async function readMcpConfig(file: string): Promise<{mcpServers: Record<string, Record<string, unknown>>}> {
  let parsed: unknown
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    throw new Errors.CLIError(`Cannot read --mcp-config ${file}: ${(error as Error).message}`, {exit: ExitCode.Usage})
  }
  const servers = (parsed as {mcpServers?: unknown} | null)?.mcpServers
  if (typeof servers !== 'object' || servers === null || Array.isArray(servers)) {
    throw new Errors.CLIError(`--mcp-config ${file} must hold {"mcpServers": {"<name>": {...}}}`, {exit: ExitCode.Usage})
  }
  return parsed as {mcpServers: Record<string, Record<string, unknown>>}
}

/** launch and continue: print what was started, and with --wait follow it to its end. */
export abstract class SessionStartCommand<T extends typeof Command> extends BaseCommand<T> {
  protected async announce<R extends {session_id: string}>(started: R, line: string): Promise<R & {session?: Session}> {
    const {wait} = this.flags as {wait?: boolean}
    if (!wait) {
      this.log(line)
      return started
    }
    // The id first, so a script or person has it whatever happens next; stdout then carries only the outcome.
    if (this.jsonEnabled()) this.logJson(started)
    else process.stderr.write(`${line}\n`)
    const session = await waitForSession(await this.client(), started.session_id, this.flags.socket)
    this.log(outcomeLine(session))
    return {...started, session}
  }

  /** With --wait, --json is NDJSON: what was started at once, then the ended session, one line each. */
  logJson(json: unknown): void {
    if ((this.flags as {wait?: boolean} | undefined)?.wait) process.stdout.write(`${jsonText(json)}\n`)
    else super.logJson(json)
  }
}

/**
 * Follows the session to its end, noting each status and each approval with the exact commands
 * that decide it on stderr, and sets exit status 1 unless it completed.
 */
async function waitForSession(client: DaemonClient, sessionId: string, socket: string | undefined): Promise<Session> {
  const {followSession, exitCodeOf} = await import('./follow.js')
  const note = (text: string): boolean => process.stderr.write(`${text}\n`)
  const session = await followSession({
    client,
    sessionId,
    until: 'completed',
    onStatus: (s) => note(`  ${inert(s.status)}`),
    onApproval: (approval) => approvalHint(approval, socket).forEach(note),
  })
  process.exitCode = exitCodeOf('completed', session)
  return session
}

/** What a waiting session asks, and the commands that answer it. */
export function approvalHint(approval: Approval, socket?: string): string[] {
  const id = shortId(approval.id)
  const suffix = socket === undefined ? '' : ` --socket ${shellQuote(socket)}`
  if (approval.type === 'human_contact') {
    return [`  waits on approval ${id}: ${describeRequest(approval)}`, `    hld approvals respond ${id} "<answer>"${suffix}`]
  }
  return [
    `  waits on approval ${id}: ${describeRequest(approval)}`,
    `    hld approvals approve ${id}${suffix}`,
    `    hld approvals deny ${id} --comment "<why>"${suffix}`,
  ]
}

function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`
}
