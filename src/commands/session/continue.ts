import {Args} from '@oclif/core'

import {inert} from '../../cli/render/inert.js'
import {SessionStartCommand, sessionSettings, sessionSettingsFlags} from '../../cli/session-start.js'
import {ContinueSession, type ContinueSessionResult, type Session} from '../../protocol/sessions.js'

export type SessionContinueResult = ContinueSessionResult & {session?: Session}

export default class SessionContinue extends SessionStartCommand<typeof SessionContinue> {
  static summary = 'Continue a session with a new query, as a child session that resumes its conversation.'
  static description =
    "The child gets new ids, runs in the parent's working directory and inherits its settings (except --max-turns) " +
    'unless flags override them. A running parent is interrupted first. The id may be a unique prefix.'

  static examples = [
    '<%= config.bin %> <%= command.id %> 3f2a "Now add tests for it"',
    '<%= config.bin %> <%= command.id %> 3f2a --wait --json "Explain the change"',
  ]

  static args = {
    id: Args.string({description: 'Session id (or a unique prefix) to continue.', required: true}),
    query: Args.string({description: 'What to ask next.', required: true}),
  }

  static flags = sessionSettingsFlags

  async run(): Promise<SessionContinueResult> {
    const {args} = await this.parseFlags()
    const client = await this.client()
    const child = await client.call(ContinueSession, {session_id: args.id, query: args.query, ...(await sessionSettings(this.flags))})
    const line = `Session ${inert(child.session_id)} continues ${inert(child.parent_session_id)} (run ${inert(child.run_id)})`
    return this.announce(child, line)
  }
}
