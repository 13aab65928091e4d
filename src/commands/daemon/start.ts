import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {type DaemonStartResult, type StepRunner, daemonStart, runInOrder, startConfig} from '../../cli/daemon-start.js'

export type {DaemonStartResult} from '../../cli/daemon-start.js'

export default class DaemonStart extends BaseCommand<typeof DaemonStart> {
  static summary = 'Start the hld daemon in the background and wait until it is healthy.'
  static description =
    'Forks the daemon detached, waits (bounded) until it answers `health`, and prints its pid, socket, database and log file. ' +
    'With --foreground it runs in this process instead, logging to stderr, for systemd, containers and CI.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json',
    '<%= config.bin %> <%= command.id %> --if-not-running   # idempotent: exit 0 when one already runs',
    '<%= config.bin %> <%= command.id %> --foreground',
    'HUMANLAYER_DATABASE_PATH=/tmp/hld.db <%= config.bin %> <%= command.id %> --socket /tmp/hld.sock',
  ]

  static flags = {
    foreground: Flags.boolean({summary: 'Run the daemon in this process, logging to stderr, until SIGINT or SIGTERM.'}),
    database: Flags.string({summary: 'Path of the SQLite database (or :memory:).'}),
    'log-file': Flags.string({summary: 'Where the background daemon writes its logs.'}),
    timeout: Flags.integer({summary: 'How long to wait for the daemon to become healthy, in ms.', default: 15_000, min: 1}),
    'if-not-running': Flags.boolean({
      summary: 'Exit 0 when a daemon already runs on the socket, reporting it, instead of exit 5.',
      exclusive: ['foreground'],
    }),
  }

  async run(): Promise<DaemonStartResult> {
    const parsed = await this.parseFlags()
    const config = await startConfig(this, this.flags)

    if (this.flags.foreground) {
      const [{createLogger}, {runDaemon}] = await Promise.all([import('../../shared/logger.js'), import('../../daemon/main.js')])
      const code = await runDaemon(config, createLogger(config.log_level, {kind: 'stderr'}), {logFile: null})
      if (code !== 0) this.exit(code)
      return {
        pid: process.pid,
        version: this.config.version,
        socket_path: config.socket_path,
        database_path: config.database_path,
        log_file: null,
      }
    }
    // Progress only on a terminal; piped or --json, the lean entry runs this same start (lean.ts).
    const runSteps = this.jsonEnabled() || !process.stdout.isTTY ? runInOrder : listrSteps
    return daemonStart(this, {...parsed, args: {}}, runSteps, config)
  }
}

/** The steps as listr2 progress; the failed step keeps its title: oclif prints the error itself, once. */
const listrSteps: StepRunner = async (steps) => {
  const {Listr} = await import('listr2')
  await new Listr(steps, {renderer: 'default', exitOnError: true, rendererOptions: {showErrorMessage: false}}).run()
}
