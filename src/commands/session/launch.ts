import path from 'node:path'

import {Args, Flags} from '@oclif/core'

import {inert} from '../../cli/render/inert.js'
import {SessionStartCommand, sessionSettings, sessionSettingsFlags} from '../../cli/session-start.js'
import {LaunchSession, type Session} from '../../protocol/sessions.js'

export interface SessionLaunchResult {
  session_id: string
  run_id: string
  /** The session as it ended, with --wait. */
  session?: Session
}

export default class SessionLaunch extends SessionStartCommand<typeof SessionLaunch> {
  static summary = 'Launch a Claude Code session and print its session id and run id.'
  static description =
    'claude runs in the given working directory (default: this one) under the daemon. With --wait the command follows ' +
    'the session to its end and exits 1 unless it completed, for scripts and CI.'

  static examples = [
    '<%= config.bin %> <%= command.id %> "Summarise README.md"',
    '<%= config.bin %> <%= command.id %> -w ~/src/app --model sonnet --wait "Run the tests and fix what fails"',
    '<%= config.bin %> <%= command.id %> --no-approvals --allowed-tools Read,Grep --json "List the TODOs"',
    '<%= config.bin %> <%= command.id %> --host devbox -w /srv/app "Run the tests"',
  ]

  static args = {query: Args.string({description: 'What to ask claude.', required: true})}

  static flags = {
    model: Flags.string({summary: 'Model: opus, sonnet, haiku or a full model id.'}),
    'working-dir': Flags.string({
      char: 'w',
      summary: 'Directory claude works in (default: the current one; with --host, a path on that machine).',
    }),
    ...sessionSettingsFlags,
  }

  async run(): Promise<SessionLaunchResult> {
    const {args} = await this.parseFlags()
    const client = await this.client()
    // On another machine a path means that machine's: sent as given, and without -w the daemon's own directory there.
    const remote = (await this.host()).kind === 'ssh'
    const launched = await client.call(LaunchSession, {
      query: args.query,
      model: this.flags.model,
      working_dir: remote ? this.flags['working-dir'] : path.resolve(this.flags['working-dir'] ?? '.'),
      ...(await sessionSettings(this.flags)),
    })
    return this.announce(launched, `Session ${inert(launched.session_id)} launched (run ${inert(launched.run_id)})`)
  }
}
