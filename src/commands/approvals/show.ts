import {Args} from '@oclif/core'

import {approvalDetails, sessionOf} from '../../cli/approvals.js'
import {BaseCommand} from '../../cli/base-command.js'
import type {GetApprovalResult} from '../../protocol/approvals.js'

export type ApprovalsShowResult = GetApprovalResult

export default class ApprovalsShow extends BaseCommand<typeof ApprovalsShow> {
  static summary = 'Show the whole request of one approval, untruncated, before deciding it.'
  static description =
    'Every field of the tool input, the session (title, working directory), run, age, and status with who decided it. ' +
    'A Bash command is also shown split into the commands it runs; an Edit, MultiEdit or Write as a unified diff ' +
    'against the file on disk. Control and invisible characters are shown as escapes (\\x1b, \\u202e). ' +
    'Exits 4 when no approval has that id.'

  static examples = [
    '<%= config.bin %> <%= command.id %> 3f2a9c1b',
    '<%= config.bin %> <%= command.id %> 3f2a --json',
    '<%= config.bin %> <%= command.id %> devbox:3f2a',
  ]
  static args = {
    id: Args.string({
      description: 'Approval id, or a unique prefix of it; host-qualified (devbox:3f2a) for another machine.',
      required: true,
    }),
  }

  async run(): Promise<ApprovalsShowResult> {
    const {args} = await this.parseFlags()
    const {GetApproval} = await import('../../protocol/approvals.js')
    // `devbox:9c1e`, or with --hosts the one host that has it.
    const {client, id} = await this.clientForId(args.id, (c, approvalId) => c.call(GetApproval, {approval_id: approvalId}), 'approval')
    const result = await client.call(GetApproval, {approval_id: id})
    if (this.jsonEnabled()) return result
    for (const line of await approvalDetails(result.approval, await sessionOf(client, result.approval))) this.log(line)
    return result
  }
}
