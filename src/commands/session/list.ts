import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {sessionTable} from '../../cli/sessions.js'
import {ListSessions, SESSION_STATUSES, type Session} from '../../protocol/sessions.js'

export interface SessionListResult {
  sessions: Session[]
  /** How many sessions match in all (absent with `--limit 0`, which lists them all). */
  total?: number
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
  ]

  static flags = {
    status: Flags.string({summary: 'Only sessions with this status.', options: [...SESSION_STATUSES]}),
    limit: Flags.integer({summary: 'How many of the newest sessions to list; 0 lists them all.', default: 100, min: 0}),
    archived: Flags.boolean({summary: 'List only archived sessions.', default: false}),
  }

  async run(): Promise<SessionListResult> {
    await this.parseFlags()
    const client = await this.client()
    const {status, limit, archived} = this.flags
    const result = await client.call(ListSessions, {status: status as Session['status'] | undefined, archived, ...(limit > 0 ? {limit} : {})})
    const {sessions, total} = result
    if (sessions.length === 0) {
      const kind = [archived ? 'archived' : undefined, status].filter(Boolean).join(' ')
      this.log(kind ? `No ${kind} sessions.` : 'No sessions yet.')
    }
    else this.log(sessionTable(sessions))
    if (total !== undefined && total > sessions.length) this.log(`(the newest ${sessions.length} of ${total}; --limit 0 lists them all)`)
    return result
  }
}
