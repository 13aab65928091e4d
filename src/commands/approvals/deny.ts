import {Args, Flags} from '@oclif/core'

import {DecisionCommand} from '../../cli/approvals.js'
import type {SendDecisionResult} from '../../protocol/approvals.js'

export default class ApprovalsDeny extends DecisionCommand<typeof ApprovalsDeny> {
  static summary = 'Deny a pending approval; the agent receives your comment.'
  static description = 'Exits 4 when no approval has that id and 5 when it was already decided.'
  static examples = ['<%= config.bin %> <%= command.id %> 3f2a9c1b --comment "do not touch that file; write to /tmp instead"']
  static args = {id: Args.string({description: 'Approval id, or a unique prefix of it.', required: true})}
  static flags = {comment: Flags.string({summary: 'Why: the agent reads it and may try another way.', required: true})}

  async run(): Promise<SendDecisionResult> {
    const {args} = await this.parseFlags()
    return this.decide({approval_id: args.id, decision: 'deny', comment: this.flags.comment})
  }
}
