import {Args} from '@oclif/core'

import {decide} from '../../cli/approvals.js'
import {BaseCommand} from '../../cli/base-command.js'
import type {SendDecisionResult} from '../../protocol/approvals.js'

export default class ApprovalsRespond extends BaseCommand<typeof ApprovalsRespond> {
  static summary = 'Answer a human contact (a question an agent asked through HumanLayer).'
  static description = 'Exits 4 when no approval has that id and 5 when it was already answered.'
  static examples = ['<%= config.bin %> <%= command.id %> human_call-1a2b3c4d "Use the staging database."']
  static args = {
    id: Args.string({description: 'Approval id, or a unique prefix of it.', required: true}),
    text: Args.string({description: 'The answer.', required: true}),
  }

  async run(): Promise<SendDecisionResult> {
    const {args} = await this.parseFlags()
    return decide(this, {approval_id: args.id, decision: 'respond', response: args.text})
  }
}
