import {Flags} from '@oclif/core'

import {requestCell, sessionCell, shortId} from '../../cli/approvals.js'
import {anyCut, cutNote, plain, table} from '../../cli/render/table.js'
import {age} from '../../cli/render/time.js'
import {resolveSessionId} from '../../cli/sessions.js'
import {BaseCommand} from '../../cli/base-command.js'
import type {FetchApprovalsResult} from '../../protocol/approvals.js'

export type ApprovalsListResult = FetchApprovalsResult

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
  ]

  static flags = {
    session: Flags.string({summary: 'Only the approvals of this session (its id or a unique prefix).'}),
    all: Flags.boolean({summary: 'Also list decided approvals, newest first.'}),
    limit: Flags.integer({summary: 'With --all: how many decided approvals to list.', default: 100, min: 1, max: 10_000}),
  }

  async run(): Promise<ApprovalsListResult> {
    await this.parseFlags()
    const client = await this.client()
    const {FetchApprovals} = await import('../../protocol/approvals.js')
    const {all, limit} = this.flags
    const session = this.flags.session === undefined ? undefined : await resolveSessionId(client, this.flags.session, {unknownAsGiven: true})
    const result = await client.call(FetchApprovals, {
      ...(session ? {session_id: session} : {}),
      ...(all ? {include_decided: true, limit} : {}),
    })
    if (result.approvals.length === 0) {
      this.log(all ? 'No approvals.' : 'No pending approvals.')
      return result
    }
    const rows = result.approvals.map((a) => [
      plain(shortId(a.id)),
      ...(all ? [a.status] : []),
      sessionCell(a),
      plain(age(a.created_at)),
      requestCell(a),
    ])
    this.log(table(['ID', ...(all ? ['STATUS'] : []), 'SESSION', 'AGE', 'REQUEST'], rows))
    if (anyCut(rows)) this.log(cutNote('`hld approvals show <id>` shows the whole request'))
    return result
  }
}
