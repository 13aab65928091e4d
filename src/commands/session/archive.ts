import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {ExitCode} from '../../cli/exit-codes.js'
import {BulkArchiveSessions} from '../../protocol/sessions.js'

export interface SessionArchiveResult {
  archived: boolean
  session_ids: string[]
  /** Ids that name no session (nothing else was left undone). */
  failed_sessions?: string[]
}

export default class SessionArchive extends BaseCommand<typeof SessionArchive> {
  static summary = 'Archive sessions (hidden from `session list` unless --archived), or bring them back with --unarchive.'
  static description = 'Ids may be unique prefixes. Exits 4 when an id names no session; the others are still changed.'
  static examples = ['<%= config.bin %> <%= command.id %> 3f2a 9c1e', '<%= config.bin %> <%= command.id %> 3f2a --unarchive']

  static strict = false
  static args = {ids: Args.string({description: 'Session ids (or unique prefixes).', required: true})}
  static flags = {unarchive: Flags.boolean({summary: 'Bring archived sessions back into the list.'})}

  async run(): Promise<SessionArchiveResult> {
    const {argv: ids} = await this.parseFlags()
    const archived = !this.flags.unarchive
    const client = await this.client()
    const result = await client.call(BulkArchiveSessions, {session_ids: ids, archived})
    const failed = result.failed_sessions ?? []
    const done = ids.filter((id) => !failed.includes(id))
    if (done.length > 0) this.log(`${archived ? 'Archived' : 'Unarchived'} ${done.join(', ')}`)
    if (failed.length > 0) {
      this.error(`No session ${failed.join(', ')}; \`hld session list --archived\` and \`hld session list\` show the sessions.`, {
        exit: ExitCode.NotFound,
      })
    }
    return {archived, session_ids: done, ...(failed.length > 0 ? {failed_sessions: failed} : {})}
  }
}
