import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {conversationLines, sessionDetails} from '../../cli/sessions.js'
import {type ConversationEvent, GetConversation, GetSessionState, type Session} from '../../protocol/sessions.js'

export interface SessionShowResult {
  session: Session
  events: ConversationEvent[]
}

export default class SessionShow extends BaseCommand<typeof SessionShow> {
  static summary = "Show a session's state and its conversation."
  static description = 'A continued session shows the conversation it continues first. The id may be a unique prefix.'
  static examples = ['<%= config.bin %> <%= command.id %> 3f2a', '<%= config.bin %> <%= command.id %> 3f2a --json']

  static args = {id: Args.string({description: 'Session id (or a unique prefix).', required: true})}

  async run(): Promise<SessionShowResult> {
    const {args} = await this.parseFlags()
    const client = await this.client()
    const {session} = await client.call(GetSessionState, {session_id: args.id})
    const {events} = await client.call(GetConversation, {session_id: session.id})
    for (const line of sessionDetails(session)) this.log(line)
    this.log('')
    this.log(`Conversation (${events.length} events):`)
    for (const line of conversationLines(events)) this.log(line)
    return {session, events}
  }
}
