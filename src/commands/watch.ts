import {Flags} from '@oclif/core'

import {BaseCommand} from '../cli/base-command.js'
import {ExitCode} from '../cli/exit-codes.js'
import {jsonText} from '../cli/render/inert.js'
import {resolveSessionId} from '../cli/sessions.js'
import type {WatchSource} from '../cli/watch.js'
import type {SubscribeFilter} from '../client/subscribe.js'
import type {HostSpec} from '../config/hosts.js'
import type {Config} from '../config/index.js'
import {ErrorCode, RpcError} from '../protocol/errors.js'
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
    type: Flags.option({summary: 'Only events of these types, comma-separated or repeated.', options: EVENT_TYPES, multiple: true, delimiter: ','})(),
    session: Flags.string({summary: 'Only events of this session (id or unique prefix); events without a session_id are left out.'}),
    run: Flags.string({summary: 'Only events of this run_id (events without a run_id are left out).'}),
    since: Flags.string({summary: 'Start after this event id (replayed from the log), or "now".', default: 'now'}),
    count: Flags.integer({summary: 'Exit 0 after this many events.', min: 1}),
    until: Flags.option({summary: 'Exit 0 after the first event of this type.', options: EVENT_TYPES})(),
    timeout: Flags.integer({summary: 'Give up after this many ms, exiting 8.', min: 1}),
  }

  async run(): Promise<void> {
    await this.parseFlags()
    const {since} = this.flags
    if (since !== 'now' && !/^\d+$/.test(since)) this.error(`--since takes an event id or "now", not "${since}"`, {exit: ExitCode.Usage})
    const {type, until} = this.flags
    if (until && type && !type.includes(until)) this.error(`--until ${until} can never match: --type leaves it out. Add --type ${until}.`, {exit: ExitCode.Usage})
    const config = await this.loadConfig()
    const hosts = await this.hostList(config)
    const {runWatch} = await import('../cli/watch.js')
    const filter = {event_types: type, run_id: this.flags.run}
    // A --session prefix becomes the full id the events carry, on each host; an unknown id exits 4
    // instead of matching nothing forever. The first call also starts the daemon when none runs
    // (auto-start rules; over ssh, dial-stdio does that there).
    const sources = hosts
      ? await Promise.all(hosts.map(async (host) => this.watchSource(host, filter, config, host.name)))
      : [await this.watchSource(await this.host(config), filter, config)]
    await runWatch({
      sources,
      since: since === 'now' ? undefined : Number(since),
      json: this.jsonEnabled(),
      count: this.flags.count,
      until,
      timeoutMs: this.flags.timeout,
    })
  }

  /**
   * One host's stream. With --hosts, a host that cannot be asked now is still followed (its
   * stream keeps trying), with --session as given, and a line on stderr says so.
   */
  private async watchSource(host: HostSpec, filter: SubscribeFilter, config: Config, label?: string): Promise<WatchSource> {
    try {
      const client = await this.clientOf(host, {config})
      const session = this.flags.session === undefined ? undefined : await resolveSessionId(client, this.flags.session)
      return {host: label, endpoint: client.endpoint, filter: {...filter, session_id: session}}
    } catch (error) {
      if (label === undefined || (error instanceof RpcError && error.code !== ErrorCode.Unavailable)) throw error
      this.logToStderr(`hld watch: ${label}: ${(error as Error).message}; following it once it answers`)
      return {host: label, endpoint: await this.endpointOf(host, {config}), filter: {...filter, session_id: this.flags.session}}
    }
  }

  /** Under --json stdout is NDJSON: an error object is one more line of it, as every command's errors go to stdout. */
  logJson(json: unknown): void {
    process.stdout.write(`${jsonText(json)}\n`)
  }
}
