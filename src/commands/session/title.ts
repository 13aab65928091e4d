import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {GetSessionState, UpdateSessionTitle} from '../../protocol/sessions.js'

export interface SessionTitleResult {
  session_id: string
  title: string
}

export default class SessionTitle extends BaseCommand<typeof SessionTitle> {
  static summary = 'Set a session\'s title (one line, up to 500 characters; "" clears it).'
  static examples = ['<%= config.bin %> <%= command.id %> 3f2a "Fix the flaky login test"']

  static args = {
    id: Args.string({description: 'Session id (or a unique prefix).', required: true}),
    title: Args.string({description: 'The new title.', required: true}),
  }

  async run(): Promise<SessionTitleResult> {
    const {args} = await this.parseFlags()
    const client = await this.client()
    const {session} = await client.call(GetSessionState, {session_id: args.id})
    await client.call(UpdateSessionTitle, {session_id: session.id, title: args.title})
    this.log(`Session ${session.id} is titled: ${JSON.stringify(args.title)}`)
    return {session_id: session.id, title: args.title}
  }
}
