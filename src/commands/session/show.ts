import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {cutNote} from '../../cli/render/table.js'
import {conversationLines, sessionDetails} from '../../cli/sessions.js'
import {type ConversationEvent, GetConversation, GetSessionState, type Session} from '../../protocol/sessions.js'

export interface SessionShowResult {
  session: Session
  events: ConversationEvent[]
  /** How many events the conversation has in all (absent with `--limit 0`, which shows them all). */
  total?: number
}

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
    const {args} = await this.parseFlags()
    const {client, id} = await this.clientForId(args.id, (c, sessionId) => c.call(GetSessionState, {session_id: sessionId}), 'session')
    const {limit} = this.flags
    const {session} = await client.call(GetSessionState, {session_id: id})
    const {events, total} = await client.call(GetConversation, {session_id: session.id, ...(limit > 0 ? {limit} : {})})
    for (const line of sessionDetails(session)) this.log(line)
    this.log('')
    const count = total !== undefined && total > events.length ? `the last ${events.length} of ${total} events; --limit 0 shows them all` : `${events.length} events`
    this.log(`Conversation (${count}):`)
    const conversation = conversationLines(events)
    for (const line of conversation.lines) this.log(line)
    if (conversation.cut) this.log(cutNote('--json shows every event whole'))
    return {session, events, ...(total === undefined ? {} : {total})}
  }
}
