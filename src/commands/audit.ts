import {Errors, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {ExitCode} from '../cli/exit-codes.js'
import type {ListAuditResult} from '../protocol/policy.js'
import {parseSince} from '../shared/duration.js'

export default class Audit extends BaseCommand<typeof Audit> {
  static summary = 'Print the audit log: every decision on every tool call, and who or what made it.'
  static description =
    'decided_by is policy (with the rule), human (with the approval and, when known, the channel, uid, pid and command), ' +
    'timeout, or error. Oldest first; the newest --limit entries.'

  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --session 3f2a --since 1h', '<%= config.bin %> <%= command.id %> --since 2026-12-01 --json']
  static flags = {
    session: Flags.string({summary: 'Only this session\'s decisions.'}),
    since: Flags.string({summary: 'Only decisions since then: a duration ago (30m, 24h, 7d) or a date.'}),
    limit: Flags.integer({summary: 'How many of the newest entries.', default: 1000, min: 1, max: 100_000}),
  }

  async run(): Promise<ListAuditResult> {
    await this.parseFlags()
    const {since, session, limit} = this.flags
    const sinceMs = since === undefined ? undefined : parseSince(since)
    if (since !== undefined && sinceMs === undefined) {
      throw new Errors.CLIError(`--since takes a duration ago (30m, 24h, 7d) or a date (2026-12-01), not "${since}"`, {exit: ExitCode.Usage})
    }
    const client = await this.client()
    const {ListAudit} = await import('../protocol/policy.js')
    const {auditTable} = await import('../cli/policy.js')
    const result = await client.call(ListAudit, {limit, ...(sinceMs === undefined ? {} : {since_ms: sinceMs}), ...(session ? {session_id: session} : {})})
    this.log(result.entries.length === 0 ? 'No decisions recorded.' : auditTable(result.entries))
    return result
  }
}
