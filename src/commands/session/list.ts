import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {sessionTable} from '../../cli/sessions.js'
import {ListSessions, SESSION_STATUSES, type Session} from '../../protocol/sessions.js'

export interface SessionListResult {
  sessions: Session[]
}

export default class SessionList extends BaseCommand<typeof SessionList> {
  static summary = 'List sessions, oldest first.'
  static description = 'The ID column shows the first 8 characters; any unique prefix works wherever a session id is asked for.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --status running --json']

  static flags = {
    status: Flags.string({summary: 'Only sessions with this status.', options: [...SESSION_STATUSES]}),
  }

  async run(): Promise<SessionListResult> {
    await this.parseFlags()
    const client = await this.client()
    const {sessions} = await client.call(ListSessions, {status: this.flags.status as Session['status'] | undefined})
    if (sessions.length === 0) this.log(this.flags.status ? `No ${this.flags.status} sessions.` : 'No sessions yet.')
    else for (const line of sessionTable(sessions)) this.log(line)
    return {sessions}
  }
}
