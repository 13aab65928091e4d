/**
 * What the session commands share: the flags that shape a session, turning them into params,
 * following a session to its end, and rendering sessions and conversations as text.
 */
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {Errors, Flags} from '@oclif/core'

import type {DaemonClient} from '../client/index.js'
import type {ConversationEvent, Session, SessionStatus} from '../protocol/sessions.js'
import {GetSessionState, TERMINAL_STATUSES} from '../protocol/sessions.js'
import {ExitCode} from './exit-codes.js'
import {table} from './table.js'

/** Flags of launch and continue: a continued session inherits what these leave unset. */
export const sessionSettingsFlags = {
  'max-turns': Flags.integer({summary: 'Stop after this many agent turns (not inherited by continue).', min: 1}),
  'system-prompt': Flags.string({summary: "Replace claude's system prompt."}),
  'append-system-prompt': Flags.string({summary: "Append to claude's system prompt."}),
  'allowed-tools': Flags.string({summary: 'Tools claude may use without asking, comma-separated or repeated.', multiple: true, multipleNonGreedy: true}),
  'disallowed-tools': Flags.string({summary: 'Tools claude may not use, comma-separated or repeated.', multiple: true, multipleNonGreedy: true}),
  'add-dir': Flags.string({summary: 'Another directory claude may work in (repeatable).', multiple: true, multipleNonGreedy: true}),
  title: Flags.string({summary: 'A title for the session.'}),
  'mcp-config': Flags.string({summary: 'A JSON file with {"mcpServers": {...}} to give claude.'}),
  approvals: Flags.boolean({
    summary: 'Route tool permission prompts to hld approvals; --no-approvals leaves claude to its own rules.',
    allowNo: true,
    default: true,
  }),
  wait: Flags.boolean({summary: 'Follow the session until it ends; exit 1 unless it completed.'}),
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
}

const splitList = (values: string[] | undefined): string[] | undefined =>
  values?.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '')

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
  }
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

const POLL_INTERVAL_MS = 250

/**
 * `--wait`: polls the session until it reaches a terminal status, logging each new status,
 * and sets exit status 1 unless it completed.
 */
export async function followSession(client: DaemonClient, sessionId: string, log: (line: string) => void): Promise<Session> {
  let last: SessionStatus | undefined
  for (;;) {
    const {session} = await client.call(GetSessionState, {session_id: sessionId})
    if (session.status !== last) log(`  ${(last = session.status)}`)
    if (TERMINAL_STATUSES.includes(session.status)) {
      if (session.error_message) log(`  ${session.error_message}`)
      if (session.status !== 'completed') process.exitCode = ExitCode.Failure
      return session
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))
  }
}

function formatCost(cost: number | undefined): string {
  return cost === undefined ? '-' : `$${cost.toFixed(4)}`
}

/** Sessions from several machines (--hosts) carry their host, shown in a HOST column. */
export function sessionTable(sessions: (Session & {host?: string})[]): string {
  const hosts = sessions.some((s) => s.host !== undefined)
  const rows = sessions.map((s) => [
    ...(hosts ? [s.host ?? ''] : []),
    s.id.slice(0, 8),
    s.status,
    s.created_at.replace('T', ' ').slice(0, 19),
    formatCost(s.cost_usd),
    s.title || s.summary,
  ])
  return table([...(hosts ? ['HOST'] : []), 'ID', 'STATUS', 'CREATED', 'COST', 'TITLE'], rows)
}

export function sessionDetails(s: Session): string[] {
  const lines = [
    `Session ${s.id}${s.title ? ` (${s.title})` : ''}`,
    `  status:      ${s.status}${s.error_message ? ` (${s.error_message})` : ''}`,
    `  run id:      ${s.run_id}`,
    `  working dir: ${s.working_dir}`,
    `  created:     ${s.created_at}${s.completed_at ? `, ended ${s.completed_at}` : ''}`,
  ]
  if (s.parent_session_id) lines.push(`  continues:   ${s.parent_session_id}`)
  if (s.claude_session_id) lines.push(`  claude id:   ${s.claude_session_id}`)
  if (s.model || s.model_id) lines.push(`  model:       ${s.model_id ?? s.model}`)
  if (s.cost_usd !== undefined) lines.push(`  cost:        ${formatCost(s.cost_usd)} over ${s.num_turns ?? '?'} turns in ${s.duration_ms ?? '?'} ms`)
  return lines
}

/** One line per event, content flattened and cut so a conversation stays readable. */
export function conversationLines(events: ConversationEvent[]): string[] {
  const cut = (text: string): string => {
    const flat = text.replaceAll(/\s+/g, ' ').trim()
    return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat
  }
  return events.map((e) => {
    const approval = e.approval_status ? ` [approval ${e.approval_status}]` : ''
    switch (e.event_type) {
      case 'tool_call': {
        return `  ${e.role ?? 'assistant'} → ${e.tool_name}(${cut(e.tool_input_json ?? '')})${approval}`
      }
      case 'tool_result': {
        return `  tool result ← ${cut(e.tool_result_content ?? '')}`
      }
      default: {
        return `  ${e.event_type === 'thinking' ? 'thinking' : (e.role ?? 'system')}: ${cut(e.content ?? '')}`
      }
    }
  })
}
