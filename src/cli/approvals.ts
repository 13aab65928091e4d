/**
 * Rendering of approvals for people, and the base of the three decision commands. Light: only
 * protocol types and the base command, so the commands stay fast to start.
 */
import {type Command, Errors} from '@oclif/core'

import type {Approval, SendDecisionResult} from '../protocol/approvals.js'
import {BaseCommand} from './base-command.js'
import {ExitCode, exitCodeFor} from './exit-codes.js'

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
    const client = await this.client()
    const {SendDecision} = await import('../protocol/approvals.js')
    const result = await client.call(SendDecision, params)
    const {approval} = result
    this.log(`${VERB[params.decision]} ${approval.id}: ${describeRequest(approval)}`)
    this.log(`  session: ${sessionLabel(approval)}`)
    return result
  }

  /**
   * approve and deny of several ids, or of every pending approval of one session (`--all
   * --session`). Each is decided on its own: one that fails (unknown, already decided) is
   * reported and the rest still go; the exit status is then the first failure's.
   */
  protected async decideMany(
    ids: string[],
    options: {decision: 'approve' | 'deny'; comment?: string; all?: boolean; session?: string},
  ): Promise<SendDecisionResult | {results: DecisionOutcome[]}> {
    if (options.all && !options.session) {
      throw new Errors.CLIError('--all needs --session ID, so one slip cannot decide every session\'s approvals', {exit: ExitCode.Usage})
    }
    if (options.all && ids.length > 0) throw new Errors.CLIError('give approval ids or --all --session, not both', {exit: ExitCode.Usage})
    if (!options.all && ids.length === 0) throw new Errors.CLIError('give an approval id (or several), or --all --session ID', {exit: ExitCode.Usage})
    const comment = options.comment ? {comment: options.comment} : {}
    if (!options.all && ids.length === 1) return this.decide({approval_id: ids[0], decision: options.decision, ...comment})
    const client = await this.client()
    const {FetchApprovals, SendDecision} = await import('../protocol/approvals.js')
    if (options.all) {
      const {approvals} = await client.call(FetchApprovals, {session_id: options.session!})
      ids = approvals.filter((a) => a.type === 'function_call').map((a) => a.id)
      if (ids.length === 0) this.log(`Session ${options.session} has no pending approvals.`)
    }
    const results: DecisionOutcome[] = []
    let failure: Error | undefined
    for (const id of ids) {
      try {
        const {approval} = await client.call(SendDecision, {approval_id: id, decision: options.decision, ...comment})
        this.log(`${VERB[options.decision]} ${approval.id}: ${describeRequest(approval)}`)
        results.push({approval_id: approval.id, success: true, approval})
      } catch (error) {
        failure ??= error as Error
        this.logToStderr(`Not ${options.decision === 'approve' ? 'approved' : 'denied'}: ${id}: ${(error as Error).message}`)
        results.push({approval_id: id, success: false, error: (error as Error).message})
      }
    }
    if (failure) {
      const decided = results.filter((r) => r.success).length
      throw new Errors.CLIError(`${decided} of ${results.length} decided; the first failure: ${failure.message}`, {exit: exitCodeFor(failure)})
    }
    return {results}
  }
}

export type DecisionOutcome = {approval_id: string; success: true; approval: Approval} | {approval_id: string; success: false; error: string}
