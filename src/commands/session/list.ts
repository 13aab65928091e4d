import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {type SessionFanInResult, type SessionListResult, listSessions} from '../../cli/sessions.js'
import {SESSION_STATUSES} from '../../protocol/sessions.js'

export type {SessionFanInResult, SessionListResult} from '../../cli/sessions.js'

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
    return listSessions(this, await this.parseFlags())
  }
}
