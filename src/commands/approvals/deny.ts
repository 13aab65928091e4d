import {Args, Flags} from '@oclif/core'

import {type DecisionOutcome, deny} from '../../cli/approvals.js'
import {BaseCommand} from '../../cli/base-command.js'
import type {SendDecisionResult} from '../../protocol/approvals.js'

export default class ApprovalsDeny extends BaseCommand<typeof ApprovalsDeny> {
  static summary = 'Deny a pending approval; the agent receives your comment.'
  static description =
    'Several ids, or --all --session ID, decide each in turn, each on its host (devbox:9c1e; with --hosts, --all asks every host). Exits 4 when no approval has an id and 5 when one was already decided ' +
    '(the others are still decided).'
  static examples = [
    '<%= config.bin %> <%= command.id %> 3f2a9c1b --comment "do not touch that file; write to /tmp instead"',
    '<%= config.bin %> <%= command.id %> --all --session 5c1e --comment "stop: wrong branch"',
  ]
  static args = {id: Args.string({description: 'Approval id, or a unique prefix of it; several may follow.'})}
  static strict = false
  static flags = {
    comment: Flags.string({summary: 'Why: the agent reads it and may try another way.', required: true}),
    all: Flags.boolean({summary: 'Every pending approval of the --session.'}),
    session: Flags.string({summary: 'With --all: the session whose approvals to decide.'}),
  }

  async run(): Promise<SendDecisionResult | {results: DecisionOutcome[]}> {
    return deny(this, await this.parseFlags())
  }
}
