import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {WAIT_GOALS, exitCodeOf, followSession} from '../../cli/follow.js'
import {inert} from '../../cli/render/inert.js'
import {outcomeLine, resolveSessionId} from '../../cli/sessions.js'
import {GetSessionState, type Session} from '../../protocol/sessions.js'

export type SessionWaitResult = Session

export default class SessionWait extends BaseCommand<typeof SessionWait> {
  static summary = 'Wait until a session completes, ends or waits for input, without polling.'
  static description =
    'Exits 0 when the session completed (--until ended: when it did not fail; --until waiting_input: when it waits on an ' +
    'approval), 1 when it ended otherwise, 8 on --timeout and 3 when the daemon is not running or goes away. The id may ' +
    'be a unique prefix. With --json it prints the session as it stood when the wait ended.'

  static examples = [
    '<%= config.bin %> <%= command.id %> 41e7',
    '<%= config.bin %> <%= command.id %> 41e7 --until waiting_input --timeout 60000 && hld approvals list --session 41e7',
    '<%= config.bin %> <%= command.id %> 41e7 --json | jq -r .result',
  ]

  static args = {id: Args.string({description: 'Session id (or a unique prefix).', required: true})}
  static flags = {
    until: Flags.option({summary: 'What to wait for.', options: WAIT_GOALS, default: 'completed'})(),
    timeout: Flags.integer({summary: 'Give up after this many ms, exiting 8 (the session goes on).', min: 1}),
  }

  async run(): Promise<SessionWaitResult> {
    const {args} = await this.parseFlags()
    // `devbox:41e7`, or with --hosts the one host that has it.
    const {client, id} = await this.clientForId(args.id, (c, prefix) => c.call(GetSessionState, {session_id: prefix}), 'session', {
      autostart: false,
    })
    const until = this.flags.until
    const sessionId = await resolveSessionId(client, id)
    const session = await followSession({
      client,
      sessionId,
      until,
      timeoutMs: this.flags.timeout,
      onStatus: (s) => this.logToStderr(`  ${inert(s.status)}`),
    })
    this.log(outcomeLine(session))
    process.exitCode = exitCodeOf(until, session)
    return session
  }
}
