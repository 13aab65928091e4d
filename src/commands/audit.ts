import {Errors, Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {ExitCode} from '../cli/exit-codes.js'
import type {HostFailure} from '../cli/fan-in.js'
import {inert} from '../cli/render/inert.js'
import type {AuditEntry, ListAuditResult} from '../protocol/policy.js'
import {parseSince} from '../shared/duration.js'

/** With --hosts, each entry says its host and `errors` lists the hosts that did not answer. */
export type AuditFanInResult = {entries: (AuditEntry & {host: string})[]; errors: HostFailure[]}

export default class Audit extends BaseCommand<typeof Audit> {
  static summary = 'Print the audit log: every decision on every tool call, and who or what made it.'
  static description =
    'decided_by is policy (with the rule), human (with the approval and, when known, the channel, uid, pid and command), ' +
    'timeout, or error. Oldest first; the newest --limit entries. With --hosts, of every machine, with a HOST column.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --session 3f2a --since 1h',
    '<%= config.bin %> <%= command.id %> --since 2026-12-01 --json',
    '<%= config.bin %> <%= command.id %> --hosts devbox,ci,local --since 24h',
  ]
  static flags = {
    session: Flags.string({summary: "Only this session's decisions."}),
    since: Flags.string({summary: 'Only decisions since then: a duration ago (30m, 24h, 7d) or a date.'}),
    limit: Flags.integer({summary: 'How many of the newest entries.', default: 1000, min: 1, max: 100_000}),
  }

  async run(): Promise<ListAuditResult | AuditFanInResult> {
    await this.parseFlags()
    const {since, session, limit} = this.flags
    const sinceMs = since === undefined ? undefined : parseSince(since)
    if (since !== undefined && sinceMs === undefined) {
      throw new Errors.CLIError(`--since takes a duration ago (30m, 24h, 7d) or a date (2026-12-01), not "${since}"`, {
        exit: ExitCode.Usage,
      })
    }
    const {ListAudit} = await import('../protocol/policy.js')
    const {auditTable} = await import('../cli/policy.js')
    const params = {limit, ...(sinceMs === undefined ? {} : {since_ms: sinceMs}), ...(session ? {session_id: session} : {})}
    const config = await this.loadConfig()
    const hosts = await this.hostList(config)
    if (!hosts) {
      const result = await (await this.client({config})).call(ListAudit, params)
      this.log(result.entries.length === 0 ? 'No decisions recorded.' : auditTable(result.entries))
      return result
    }
    const {askHosts, reportFailures} = await import('../cli/fan-in.js')
    const fanIn = await askHosts(
      hosts,
      async (host) => (await this.clientOf(host, {config})).call(ListAudit, params),
      config.host_timeout_ms,
    )
    const errors = reportFailures(fanIn, (line) => process.stderr.write(`hld: ${inert(line)}\n`))
    // Oldest first, as one machine lists them; the newest --limit of them all.
    const entries = fanIn.answers
      .flatMap(({host, value}) => value.entries.map((e) => ({...e, host: host.name})))
      .sort((a, b) => a.decided_at.localeCompare(b.decided_at))
      .slice(-limit)
    this.log(entries.length === 0 ? 'No decisions recorded.' : auditTable(entries))
    return {entries, errors}
  }
}
