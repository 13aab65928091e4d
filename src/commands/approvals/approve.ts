import {Args, Flags} from '@oclif/core'

import {type DecisionOutcome, approve} from '../../cli/approvals.js'
import {BaseCommand} from '../../cli/base-command.js'
import type {SendDecisionResult} from '../../protocol/approvals.js'

export default class ApprovalsApprove extends BaseCommand<typeof ApprovalsApprove> {
  static summary = 'Approve a pending approval: the session runs the tool.'
  static description =
    'Several ids, or --all --session ID, decide each in turn, each on its host (devbox:9c1e; with --hosts, --all asks every host). Exits 4 when no approval has an id and 5 when one was already decided ' +
    '(the others are still decided).'
  static examples = [
    '<%= config.bin %> <%= command.id %> 3f2a9c1b',
    '<%= config.bin %> <%= command.id %> 3f2a9c1b --comment "looks fine"',
    '<%= config.bin %> <%= command.id %> 3f2a9c1b 77d01e4a',
    '<%= config.bin %> <%= command.id %> --all --session 5c1e',
    '<%= config.bin %> <%= command.id %> devbox:3f2a9c1b ci:77d01e4a',
  ]
  static args = {id: Args.string({description: 'Approval id, or a unique prefix of it; several may follow.'})}
  static strict = false
  static flags = {
    comment: Flags.string({summary: 'A note kept with the decision.'}),
    all: Flags.boolean({summary: 'Every pending approval of the --session.'}),
    session: Flags.string({summary: 'With --all: the session whose approvals to decide.'}),
  }

  async run(): Promise<SendDecisionResult | {results: DecisionOutcome[]}> {
    return approve(this, await this.parseFlags())
  }
}
