import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {inert} from '../../cli/render/inert.js'
import {GetSessionState, InterruptSession, type InterruptSessionResult} from '../../protocol/sessions.js'

export type SessionInterruptResult = InterruptSessionResult

export default class SessionInterrupt extends BaseCommand<typeof SessionInterrupt> {
  static summary = 'Interrupt a running session (SIGINT to its claude process group).'
  static description =
    'The session becomes interrupting, then interrupted once claude exits; claude is killed if it ignores the interrupt. ' +
    'Exits 5 when the session is not running. The id may be a unique prefix.'

  static examples = ['<%= config.bin %> <%= command.id %> 3f2a']

  static args = {id: Args.string({description: 'Session id (or a unique prefix).', required: true})}

  async run(): Promise<SessionInterruptResult> {
    const {args} = await this.parseFlags()
    const {client, id} = await this.clientForId(args.id, (c, sessionId) => c.call(GetSessionState, {session_id: sessionId}), 'session')
    const result = await client.call(InterruptSession, {session_id: id})
    this.log(`Session ${inert(result.session_id)} is interrupting`)
    return result
  }
}
