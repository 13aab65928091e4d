import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import type {GetPolicyResult} from '../../protocol/policy.js'

export default class PolicyShow extends BaseCommand<typeof PolicyShow> {
  static summary = 'Print the effective policy: every rule in order of precedence, and where it came from.'
  static description =
    'Built-in rules first (they keep the agent from deciding its own approvals), then deny, ask and allow rules from the ' +
    "policy file and, with --session, that session's launch flags; then the default (read-only tools allowed, everything else asks)."

  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --session 3f2a --json']
  static flags = {session: Flags.string({summary: 'Include the rules this session was launched with.'})}

  async run(): Promise<GetPolicyResult> {
    await this.parseFlags()
    const client = await this.client()
    const {GetPolicy} = await import('../../protocol/policy.js')
    const {policyLines} = await import('../../cli/policy.js')
    const result = await client.call(GetPolicy, this.flags.session ? {session_id: this.flags.session} : {})
    for (const line of policyLines(result)) this.log(line)
    return result
  }
}
