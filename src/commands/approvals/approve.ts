import {Args, Flags} from '@oclif/core'

import {DecisionCommand} from '../../cli/approvals.js'
import type {SendDecisionResult} from '../../protocol/approvals.js'

export default class ApprovalsApprove extends DecisionCommand<typeof ApprovalsApprove> {
  static summary = 'Approve a pending approval: the session runs the tool.'
  static description = 'Exits 4 when no approval has that id and 5 when it was already decided.'
  static examples = ['<%= config.bin %> <%= command.id %> 3f2a9c1b', '<%= config.bin %> <%= command.id %> 3f2a9c1b --comment "looks fine"']
  static args = {id: Args.string({description: 'Approval id, or a unique prefix of it.', required: true})}
  static flags = {comment: Flags.string({summary: 'A note kept with the decision.'})}

  async run(): Promise<SendDecisionResult> {
    const {args} = await this.parseFlags()
    return this.decide({approval_id: args.id, decision: 'approve', ...(this.flags.comment ? {comment: this.flags.comment} : {})})
  }
}
