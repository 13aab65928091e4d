import {Flags} from '@oclif/core'

import {requestCell, sessionCell, shortId} from '../../cli/approvals.js'
import {anyCut, cutNote, plain, table} from '../../cli/render/table.js'
import {inert} from '../../cli/render/inert.js'
import {age} from '../../cli/render/time.js'
import {resolveSessionId} from '../../cli/sessions.js'
import {BaseCommand} from '../../cli/base-command.js'
import type {HostFailure} from '../../cli/fan-in.js'
import type {DaemonClient} from '../../client/index.js'
import type {Approval, FetchApprovalsResult} from '../../protocol/approvals.js'

/** With --hosts, each approval says its host and `errors` lists the hosts that did not answer. */
export type ApprovalsListResult = FetchApprovalsResult | {approvals: (Approval & {host: string})[]; errors: HostFailure[]}

export default class ApprovalsList extends BaseCommand<typeof ApprovalsList> {
  static summary = 'List the approvals sessions are waiting on, with their session.'
  static description =
    'Pending approvals of every session (and unassociated cloud ones) by default. Ids may be shortened to any unique prefix ' +
    'in approve, deny and respond.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --session 41e7',
    '<%= config.bin %> <%= command.id %> --all --limit 20',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --hosts devbox,ci,local',
  ]

  static flags = {
    session: Flags.string({summary: 'Only the approvals of this session (its id or a unique prefix).'}),
    all: Flags.boolean({summary: 'Also list decided approvals, newest first.'}),
    limit: Flags.integer({summary: 'With --all: how many decided approvals to list.', default: 100, min: 1, max: 10_000}),
  }

  async run(): Promise<ApprovalsListResult> {
    await this.parseFlags()
    const {FetchApprovals} = await import('../../protocol/approvals.js')
    const {all, limit} = this.flags
    const config = await this.loadConfig()
    // Each machine resolves a --session prefix against its own sessions.
    const ask = async (client: DaemonClient) => {
      const session = this.flags.session === undefined ? undefined : await resolveSessionId(client, this.flags.session, {unknownAsGiven: true})
      return client.call(FetchApprovals, {...(session ? {session_id: session} : {}), ...(all ? {include_decided: true, limit} : {})})
    }
    const hosts = await this.hostList(config)
    if (!hosts) {
      const result = await ask(await this.client({config}))
      this.print(result.approvals)
      return result
    }
    const {askHosts, reportFailures} = await import('../../cli/fan-in.js')
    const fanIn = await askHosts(hosts, async (host) => ask(await this.clientOf(host, {config})), config.host_timeout_ms)
    const errors = reportFailures(fanIn, (line) => process.stderr.write(`hld: ${inert(line)}\n`))
    const approvals = fanIn.answers.flatMap(({host, value}) => value.approvals.map((a) => ({...a, host: host.name})))
    // Pending: oldest first, as one host lists them; with --all, newest first.
    approvals.sort((a, b) => (all ? b.created_at.localeCompare(a.created_at) : a.created_at.localeCompare(b.created_at)))
    this.print(approvals)
    return {approvals, errors}
  }

  private print(approvals: (Approval & {host?: string})[]): void {
    const {all} = this.flags
    if (approvals.length === 0) {
      this.log(all ? 'No approvals.' : 'No pending approvals.')
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
    this.log(table([...(hosts ? ['HOST'] : []), 'ID', ...(all ? ['STATUS'] : []), 'SESSION', 'AGE', 'REQUEST'], rows))
    if (anyCut(rows)) this.log(cutNote('`hld approvals show <id>` shows the whole request'))
  }
}
