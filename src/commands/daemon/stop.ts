import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {inert} from '../../cli/render/inert.js'

export interface DaemonStopResult {
  /** False only with --if-running, when no daemon was running. */
  stopped: boolean
  pid?: number
  forced: boolean
}

export default class DaemonStop extends BaseCommand<typeof DaemonStop> {
  static summary = 'Ask the daemon to shut down and wait until it is gone.'
  static description =
    'Sessions are interrupted, in-flight requests finish, the database is closed and the socket removed. ' +
    'Exits 3 when no daemon is running, or 0 with --if-running.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --force --timeout 5000',
    '<%= config.bin %> <%= command.id %> --if-running   # idempotent: exit 0 when none runs',
  ]

  static flags = {
    force: Flags.boolean({summary: 'Kill the daemon (SIGKILL) if it is still running after the timeout.'}),
    timeout: Flags.integer({summary: 'How long to wait for the daemon to exit, in ms.', default: 10_000, min: 1}),
    'if-running': Flags.boolean({summary: 'Exit 0 when no daemon is running, instead of exit 3.'}),
  }

  async run(): Promise<DaemonStopResult> {
    await this.parseFlags()
    await this.requireLocal('hld daemon stop')
    const config = await this.loadConfig()
    const [{stopDaemon}, {DaemonNotRunningError}] = await Promise.all([
      import('../../client/lifecycle.js'),
      import('../../shared/errors.js'),
    ])
    let stopped
    try {
      stopped = await stopDaemon(config.socket_path, {timeoutMs: this.flags.timeout, force: this.flags.force})
    } catch (error) {
      if (!(error instanceof DaemonNotRunningError && this.flags['if-running'])) throw error
      this.log(`No hld daemon is running at ${config.socket_path}; nothing to stop.`)
      return {stopped: false, forced: false}
    }
    const {pid, forced} = stopped
    this.log(forced ? `hld daemon (pid ${inert(pid)}) did not stop in time and was killed` : `hld daemon (pid ${inert(pid)}) stopped`)
    return {stopped: true, pid, forced}
  }
}
