import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'

export default class DaemonDialStdio extends BaseCommand<typeof DaemonDialStdio> {
  static summary = "Connect stdin and stdout to this machine's daemon socket (what `hld --host ssh://…` runs over ssh)."
  static description =
    'Starts the daemon first when none runs, unless --no-autostart or HUMANLAYER_NO_AUTOSTART=1. Exits 0 when either side ' +
    'closes, and 3 when no daemon can be reached. Speaks raw JSON-RPC frames: it is for programs, not people.'

  static examples = [
    '<%= config.bin %> <%= command.id %>   # what `hld --host devbox …` runs there, as: ssh devbox -- hld daemon dial-stdio',
    `echo '{"jsonrpc":"2.0","method":"health","id":1}' | <%= config.bin %> <%= command.id %> --no-autostart`,
  ]

  static enableJsonFlag = false

  static flags = {
    autostart: Flags.boolean({summary: 'Start the daemon when none runs (--no-autostart: exit 3 instead).', allowNo: true, default: true}),
  }

  async run(): Promise<void> {
    await this.parseFlags()
    if (this.flags.host !== undefined) this.error("dial-stdio always serves this machine's daemon; it takes no --host.", {exit: 2})
    const {main} = await import('../../cli/dial-stdio.js')
    // stdin may still be open (the daemon closed first); nothing more can come of it.
    process.exit(await main(this.flags.autostart ? [] : ['--no-autostart']))
  }
}
