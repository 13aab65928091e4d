import {BaseCommand} from '../../cli/base-command.js'
import {daemonStatus} from '../../cli/daemon-status.js'
import type {HealthResult} from '../../protocol/daemon.js'

export type DaemonStatusResult = HealthResult

export default class DaemonStatus extends BaseCommand<typeof DaemonStatus> {
  static summary = 'Show whether the daemon runs, and its version, pid, uptime, socket, database and log file.'
  static description = 'Exits 0 when the daemon answers and 3 when none is running, so a CI smoke check is just `hld daemon status`.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<DaemonStatusResult> {
    await this.parseFlags()
    return daemonStatus(this)
  }
}
