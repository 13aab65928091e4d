import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {jsonText} from '../cli/render/inert.js'
import {EVENT_TYPES} from '../protocol/events.js'

/**
 * `--json` here means NDJSON: one compact event per line, flushed as it arrives, so `jq`,
 * `head` and scripts can consume the stream. run() therefore returns nothing (oclif would
 * print a pretty JSON blob after the stream), and an error under --json is one last line.
 */
export default class Watch extends BaseCommand<typeof Watch> {
  static summary = 'Print daemon events as they happen: approvals, decisions, session status and conversation updates.'
  static description =
    'One coloured line per event (time, type, session, gist), or NDJSON with --json. Reconnects and resumes from the last event ' +
    'if the daemon restarts, so nothing is lost or repeated. Exits 0 on SIGINT, after --count events or the first --until ' +
    'event; --timeout exits 8 when neither came in time. A reader that went away (`| head -3`) is noticed at the next event ' +
    'written, which may be much later: use --count 3 to stop right after three.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json --type new_approval | jq .data.tool_name',
    '<%= config.bin %> <%= command.id %> --session 41e7 --until session_status_changed --timeout 60000',
    '<%= config.bin %> <%= command.id %> --since 0 --count 100 --json',
  ]

  static flags = {
    type: Flags.option({
      summary: 'Only events of these types, comma-separated or repeated.',
      options: EVENT_TYPES,
      multiple: true,
      delimiter: ',',
    })(),
    session: Flags.string({summary: 'Only events of this session (id or unique prefix); events without a session_id are left out.'}),
    run: Flags.string({summary: 'Only events of this run_id (events without a run_id are left out).'}),
    since: Flags.string({summary: 'Start after this event id (replayed from the log), or "now".', default: 'now'}),
    count: Flags.integer({summary: 'Exit 0 after this many events.', min: 1}),
    until: Flags.option({summary: 'Exit 0 after the first event of this type.', options: EVENT_TYPES})(),
    timeout: Flags.integer({summary: 'Give up after this many ms, exiting 8.', min: 1}),
  }

  async run(): Promise<void> {
    const {watch} = await import('../cli/watch.js')
    await watch(this, await this.parseFlags())
  }

  /** Under --json stdout is NDJSON: an error object is one more line of it, as every command's errors go to stdout. */
  logJson(json: unknown): void {
    process.stdout.write(`${jsonText(json)}\n`)
  }
}
