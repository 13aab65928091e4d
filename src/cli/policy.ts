/**
 * Rendering of policies, judgements and audit entries for people. Rules, reasons and tool
 * inputs may carry a model's text, so everything goes through the render module (inert text).
 */
import type {AuditEntry, CheckPolicyResult, GetPolicyResult} from '../protocol/policy.js'
import {formatDuration} from '../shared/duration.js'
import {inert} from './render/inert.js'
import {type Cell, cell, table} from './render/table.js'
import {timestamp} from './render/time.js'

export function policyLines(policy: GetPolicyResult): string[] {
  const lines = [
    `Policy${policy.session_id ? ` of session ${inert(policy.session_id)}` : ''} (precedence: built-in, deny, ask, allow, default)`,
    `  policy file: ${inert(policy.file)}${policy.file_exists ? '' : ' (none)'}`,
  ]
  if (policy.approval_timeout_ms !== undefined) {
    lines.push(`  approval timeout: ${formatDuration(policy.approval_timeout_ms)}, then ${policy.on_timeout ?? 'deny'}`)
  }
  const rows = policy.rules.map((r) => [
    r.effect,
    r.rule,
    r.source + (r.timeout_ms === undefined ? '' : ` (timeout ${formatDuration(r.timeout_ms)}, then ${r.on_timeout ?? 'deny'})`),
  ])
  rows.push(['allow', policy.default_allowed_tools.join(', '), 'default'], ['ask', 'everything else', 'default'])
  lines.push('', table(['EFFECT', 'RULE', 'SOURCE'], rows))
  return lines
}

export function judgementLines(result: CheckPolicyResult): string[] {
  const lines = [`${result.decision}: ${inert(result.reason)}`]
  if (result.rule) lines.push(`  rule: ${inert(result.rule)} (${inert(result.source)})`)
  else lines.push(`  by: ${inert(result.source)}`)
  if (result.timeout_ms !== undefined) lines.push(`  timeout: ${formatDuration(result.timeout_ms)}, then ${result.on_timeout ?? 'deny'}`)
  for (const part of result.parts ?? []) {
    lines.push(`  part ${inert(JSON.stringify(part.command))}: ${part.decision}${part.rule ? ` by ${inert(part.rule)}` : ''}`)
  }
  return lines
}

/** One line saying what a call does: the command or file for tools that have one, else the input. */
export function describeInput(toolName: string, input: unknown, width = 60): Cell {
  const fields = (input ?? {}) as Record<string, unknown>
  const target =
    typeof fields.command === 'string' ? fields.command : typeof fields.file_path === 'string' ? fields.file_path : JSON.stringify(input)
  return cell(`${toolName}: ${target}`, width)
}

/** One row per decision; a HOST column first when the entries come from several machines (`--hosts`). */
export function auditTable(entries: (AuditEntry & {host?: string})[]): string {
  const hosts = entries.some((e) => e.host !== undefined)
  return table(
    [...(hosts ? ['HOST'] : []), 'TIME', 'SESSION', 'DECISION', 'BY', 'RULE / SOURCE', 'MS', 'CALL'],
    entries.map((e) => [
      ...(hosts ? [e.host ?? ''] : []),
      timestamp(e.decided_at),
      (e.session_id ?? '-').slice(0, 8),
      e.decision,
      e.decided_by,
      cell(e.rule ?? e.source ?? '', 50),
      String(e.latency_ms),
      describeInput(e.tool_name, e.tool_input),
    ]),
  )
}
