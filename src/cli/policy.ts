/** Rendering of policies, judgements and audit entries for people. */
import type {AuditEntry, CheckPolicyResult, GetPolicyResult} from '../protocol/policy.js'
import {formatDuration} from '../shared/duration.js'
import {table} from './table.js'

export function policyLines(policy: GetPolicyResult): string[] {
  const lines = [
    `Policy${policy.session_id ? ` of session ${policy.session_id}` : ''} (precedence: built-in, deny, ask, allow, default)`,
    `  policy file: ${policy.file}${policy.file_exists ? '' : ' (none)'}`,
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
  const lines = [`${result.decision}: ${result.reason}`]
  if (result.rule) lines.push(`  rule: ${result.rule} (${result.source})`)
  else lines.push(`  by: ${result.source}`)
  if (result.timeout_ms !== undefined) lines.push(`  timeout: ${formatDuration(result.timeout_ms)}, then ${result.on_timeout ?? 'deny'}`)
  for (const part of result.parts ?? []) lines.push(`  part ${JSON.stringify(part.command)}: ${part.decision}${part.rule ? ` by ${part.rule}` : ''}`)
  return lines
}

export function describeInput(toolName: string, input: unknown, width = 60): string {
  const fields = (input ?? {}) as Record<string, unknown>
  const target = typeof fields.command === 'string' ? fields.command : typeof fields.file_path === 'string' ? fields.file_path : JSON.stringify(input)
  const flat = `${toolName}: ${target}`.replace(/\s+/g, ' ').trim()
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat
}

export function auditTable(entries: AuditEntry[]): string {
  return table(
    ['TIME', 'SESSION', 'DECISION', 'BY', 'RULE / SOURCE', 'MS', 'CALL'],
    entries.map((e) => [
      e.decided_at.replace('T', ' ').slice(0, 19),
      (e.session_id ?? '-').slice(0, 8),
      e.decision,
      e.decided_by,
      e.rule ?? e.source ?? '',
      String(e.latency_ms),
      describeInput(e.tool_name, e.tool_input),
    ]),
  )
}
