import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {type SessionShowResult, showSession} from '../../cli/sessions.js'

export type {SessionShowResult} from '../../cli/sessions.js'

export default class SessionShow extends BaseCommand<typeof SessionShow> {
  static summary = "Show a session's state and its conversation."
  static description =
    'A continued session shows the conversation it continues first. The id may be a unique prefix. ' +
    'Shows the last 1000 events unless --limit says otherwise (0 shows them all).'

  static examples = ['<%= config.bin %> <%= command.id %> 3f2a', '<%= config.bin %> <%= command.id %> 3f2a --json --limit 0']

  static args = {id: Args.string({description: 'Session id (or a unique prefix).', required: true})}
  static flags = {
    limit: Flags.integer({summary: 'How many of the last conversation events to show; 0 shows them all.', default: 1000, min: 0}),
  }

  async run(): Promise<SessionShowResult> {
    return showSession(this, await this.parseFlags())
  }
}
