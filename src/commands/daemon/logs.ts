import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {ExitCode} from '../../cli/exit-codes.js'

export default class DaemonLogs extends BaseCommand<typeof DaemonLogs> {
  static summary = "Show the daemon's log as readable lines: local time, level, message and fields."
  static description =
    'Reads the log file (log_file, HUMANLAYER_LOG_FILE) directly, so it works while the daemon is down. With --json the ' +
    'records are printed as they are stored, one JSON object per line. -f keeps printing new lines until Ctrl-C.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> -n 200 | grep error',
    '<%= config.bin %> <%= command.id %> -f',
    '<%= config.bin %> <%= command.id %> --json -n 1000 | jq \'select(.level == "error")\'',
  ]

  static flags = {
    lines: Flags.integer({char: 'n', summary: 'How many of the last lines to show.', default: 50, min: 0}),
    follow: Flags.boolean({char: 'f', summary: 'Keep printing lines as the daemon writes them, until Ctrl-C.'}),
  }

  async run(): Promise<void> {
    await this.parseFlags()
    const config = await this.loadConfig()
    const [{logTail}, {followLog, readableLogLine}, {existsSync}] = await Promise.all([
      import('../../client/lifecycle.js'),
      import('../../cli/logs.js'),
      import('node:fs'),
    ])
    const file = config.log_file
    if (!existsSync(file) && !this.flags.follow) {
      this.error(`No daemon log at ${file} yet: the daemon writes it once started (\`hld daemon start\`).`, {exit: ExitCode.NotFound})
    }
    const print = this.jsonEnabled()
      ? (line: string) => process.stdout.write(`${line}\n`)
      : (line: string) => process.stdout.write(`${readableLogLine(line)}\n`)
    const tail = logTail(file, this.flags.lines)
    if (tail !== '') for (const line of tail.split('\n')) print(line)
    if (!this.flags.follow) return
    const stop = new AbortController()
    process.once('SIGINT', () => stop.abort())
    // A reader that went away (`| head`) ends the follow too.
    process.stdout.once('error', () => stop.abort())
    await followLog(file, print, stop.signal)
  }

  /** Under --json stdout is the log's own NDJSON: an error is one more compact line. */
  logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json)}\n`)
  }
}
