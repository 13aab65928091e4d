import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {inert} from '../../cli/render/inert.js'

export interface DaemonStopResult {
  stopped: true
  pid: number
  forced: boolean
}

export default class DaemonStop extends BaseCommand<typeof DaemonStop> {
  static summary = 'Ask the daemon to shut down and wait until it is gone.'
  static description =
    'Sessions are interrupted, in-flight requests finish, the database is closed and the socket removed. ' +
    'Exits 3 when no daemon is running.'

  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --force --timeout 5000']

  static flags = {
    force: Flags.boolean({summary: 'Kill the daemon (SIGKILL) if it is still running after the timeout.'}),
    timeout: Flags.integer({summary: 'How long to wait for the daemon to exit, in ms.', default: 10_000, min: 1}),
  }

  async run(): Promise<DaemonStopResult> {
    await this.parseFlags()
    const config = await this.loadConfig()
    const {stopDaemon} = await import('../../client/lifecycle.js')
    const {pid, forced} = await stopDaemon(config.socket_path, {timeoutMs: this.flags.timeout, force: this.flags.force})
    this.log(forced ? `hld daemon (pid ${inert(pid)}) did not stop in time and was killed` : `hld daemon (pid ${inert(pid)}) stopped`)
    return {stopped: true, pid, forced}
  }
}
