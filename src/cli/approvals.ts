/**
 * Rendering of approvals for people, and the base of the three decision commands. Light: only
 * protocol types and the base command, so the commands stay fast to start.
 */
import type {Command} from '@oclif/core'

import type {Approval, SendDecisionResult} from '../protocol/approvals.js'
import {BaseCommand} from './base-command.js'

/** What a person types: the id without `local-`, its first 8 characters (any unique prefix works). */
export function shortId(id: string): string {
  return id.startsWith('local-') ? id.slice('local-'.length, 'local-'.length + 8) : id
}

export function sessionLabel(approval: Approval): string {
  if (approval.session) return `${approval.session.title || approval.session.summary || '(untitled)'} [${approval.session.id.slice(0, 8)}]`
  return approval.unassociated ? `(unassociated, run ${approval.run_id})` : `session ${approval.session_id}`
}

/** One line saying what is asked: the command or file for tools that have one, the question for a contact. */
export function describeRequest(approval: Approval, width = 60): string {
  const input = (approval.tool_input ?? {}) as Record<string, unknown>
  const target = typeof input.command === 'string' ? input.command : typeof input.file_path === 'string' ? input.file_path : JSON.stringify(approval.tool_input)
  const text = approval.type === 'human_contact' ? (approval.message ?? '') : `${approval.tool_name ?? ''}: ${target}`
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat
}

export function age(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86_400)}d`
}

const VERB = {approve: 'Approved', deny: 'Denied', respond: 'Answered'} as const

/** approve, deny and respond: one sendDecision call, then a line saying what was decided. */
export abstract class DecisionCommand<T extends typeof Command> extends BaseCommand<T> {
  protected async decide(params: {approval_id: string; decision: keyof typeof VERB; comment?: string; response?: string}): Promise<SendDecisionResult> {
    const {GetApproval, SendDecision} = await import('../protocol/approvals.js')
    // `devbox:9c1e`, or with --hosts the one host that has it.
    const {client, id} = await this.clientForId(params.approval_id, (c, approvalId) => c.call(GetApproval, {approval_id: approvalId}), 'approval')
    const result = await client.call(SendDecision, {...params, approval_id: id})
    const {approval} = result
    this.log(`${VERB[params.decision]} ${approval.id}: ${describeRequest(approval)}`)
    this.log(`  session: ${sessionLabel(approval)}`)
    return result
  }
}
