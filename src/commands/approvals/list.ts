import {Flags} from '@oclif/core'

import {type ApprovalsListResult, listApprovals} from '../../cli/approvals.js'
import {BaseCommand} from '../../cli/base-command.js'

export type {ApprovalsListResult} from '../../cli/approvals.js'

export default class ApprovalsList extends BaseCommand<typeof ApprovalsList> {
  static summary = 'List the approvals sessions are waiting on, with their session.'
  static description =
    'Pending approvals of every session (and unassociated cloud ones) by default. Ids may be shortened to any unique prefix ' +
    'in approve, deny and respond.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --session 41e7',
    '<%= config.bin %> <%= command.id %> --all --limit 20',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --hosts devbox,ci,local',
  ]

  static flags = {
    session: Flags.string({summary: 'Only the approvals of this session (its id or a unique prefix).'}),
    all: Flags.boolean({summary: 'Also list decided approvals, newest first.'}),
    limit: Flags.integer({summary: 'With --all: how many decided approvals to list.', default: 100, min: 1, max: 10_000}),
  }

  async run(): Promise<ApprovalsListResult> {
    return listApprovals(this, await this.parseFlags())
  }
}
