import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {inert} from '../../cli/render/inert.js'
import type {HostFailure} from '../../cli/fan-in.js'
import {sessionTable} from '../../cli/sessions.js'
import type {HostSpec} from '../../config/hosts.js'
import type {Config} from '../../config/index.js'
import type {ParamsOf} from '../../protocol/method.js'
import {ListSessions, SESSION_STATUSES, type Session} from '../../protocol/sessions.js'

type ListSessionsParams = ParamsOf<typeof ListSessions>

export interface SessionListResult {
  sessions: Session[]
  /** How many sessions match in all (absent with `--limit 0`, which lists them all). */
  total?: number
}

/** With --hosts: each session says its host, and `errors` lists the hosts that did not answer. */
export interface SessionFanInResult {
  sessions: (Session & {host: string})[]
  errors: HostFailure[]
}

export default class SessionList extends BaseCommand<typeof SessionList> {
  static summary = 'List the newest sessions, oldest first.'
  static description =
    'The ID column shows the first 8 characters; any unique prefix works wherever a session id is asked for. ' +
    'Lists the newest 100 unless --limit says otherwise (0 lists every session). Archived sessions ' +
    '(`hld session archive`) are left out; --archived lists only them.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --status running --json',
    '<%= config.bin %> <%= command.id %> --limit 0',
    '<%= config.bin %> <%= command.id %> --archived',
    '<%= config.bin %> <%= command.id %> --hosts devbox,local --status waiting_input',
  ]

  static flags = {
    status: Flags.string({summary: 'Only sessions with this status.', options: [...SESSION_STATUSES]}),
    limit: Flags.integer({summary: 'How many of the newest sessions to list; 0 lists them all.', default: 100, min: 0}),
    archived: Flags.boolean({summary: 'List only archived sessions.', default: false}),
  }

  async run(): Promise<SessionListResult | SessionFanInResult> {
    await this.parseFlags()
    const {status, limit, archived} = this.flags
    const params = {status: status as Session['status'] | undefined, archived, ...(limit > 0 ? {limit} : {})}
    const config = await this.loadConfig()
    const hosts = await this.hostList(config)
    if (hosts) return this.fanIn(hosts, params, config)
    const result = await (await this.client({config})).call(ListSessions, params)
    const {sessions, total} = result
    if (sessions.length === 0) {
      const kind = [archived ? 'archived' : undefined, status].filter(Boolean).join(' ')
      this.log(kind ? `No ${kind} sessions.` : 'No sessions yet.')
    }
    else this.log(sessionTable(sessions))
    if (total !== undefined && total > sessions.length) this.log(`(the newest ${sessions.length} of ${total}; --limit 0 lists them all)`)
    return result
  }

  private async fanIn(hosts: HostSpec[], params: ListSessionsParams, config: Config): Promise<SessionFanInResult> {
    const {askHosts, reportFailures} = await import('../../cli/fan-in.js')
    const fanIn = await askHosts(hosts, async (host) => (await this.clientOf(host, {config})).call(ListSessions, params), config.host_timeout_ms)
    const errors = reportFailures(fanIn, (line) => process.stderr.write(`hld: ${inert(line)}\n`))
    const sessions = fanIn.answers.flatMap(({host, value}) => value.sessions.map((s) => ({...s, host: host.name})))
    sessions.sort((a, b) => a.created_at.localeCompare(b.created_at))
    if (sessions.length === 0) this.log(params.status ? `No ${params.status} sessions.` : 'No sessions yet.')
    else this.log(sessionTable(sessions))
    return {sessions, errors}
  }
}
