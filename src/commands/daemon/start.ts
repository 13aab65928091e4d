import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {inert} from '../../cli/render/inert.js'
import type {HealthResult} from '../../protocol/daemon.js'

export interface DaemonStartResult {
  pid: number
  version: string
  socket_path: string
  database_path: string
  log_file: string | null
  /** With --if-not-running: true when a daemon was already running and nothing was started. */
  already_running?: boolean
}

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
    await this.parseFlags()
    await this.requireLocal('hld daemon start')
    const config = await this.loadConfig({database_path: this.flags.database, log_file: this.flags['log-file']})

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

    const [{Listr}, lifecycle, {probeDaemon}] = await Promise.all([
      import('listr2'),
      import('../../client/lifecycle.js'),
      import('../../shared/probe.js'),
    ])
    if (this.flags['if-not-running']) {
      const running = await probeDaemon(config.socket_path)
      // Something that answers but not as hld falls through to the usual refusal.
      if (running?.pid !== undefined) {
        this.log(`hld daemon ${inert(running.version)} already running (pid ${inert(running.pid)})`)
        return {...this.report(running as HealthResult), already_running: true}
      }
    }

    const ctx: {spawned?: ReturnType<typeof lifecycle.spawnDaemon>; health?: Awaited<ReturnType<typeof lifecycle.waitForHealth>>} = {}
    await new Listr(
      [
        {title: `Check ${config.socket_path}`, task: () => lifecycle.checkNotRunning(config.socket_path)},
        {title: 'Fork the daemon', task: () => void (ctx.spawned = lifecycle.spawnDaemon(config))},
        {
          title: 'Wait until it answers health',
          task: async () => void (ctx.health = await lifecycle.waitForHealth(config, ctx.spawned!, this.flags.timeout)),
        },
      ],
      {
        // Progress only on a terminal (piped, the lines came out twice: started, then done), and the
        // failed step keeps its title: oclif prints the error itself, once.
        renderer: 'default',
        silentRendererCondition: this.jsonEnabled() || !process.stdout.isTTY,
        exitOnError: true,
        rendererOptions: {showErrorMessage: false},
      },
    ).run()

    this.log(`hld daemon ${inert(ctx.health!.version)} running (pid ${inert(ctx.health!.pid)})`)
    const claude = ctx.health!.components.claude
    if (claude && !claude.available) this.warn(`Sessions cannot start: ${claude.detail ?? 'claude was not found'}`)
    return this.report(ctx.health!)
  }

  private report(health: HealthResult): DaemonStartResult {
    this.log(`  socket:   ${inert(health.socket_path)}`)
    this.log(`  database: ${inert(health.database_path)}`)
    this.log(`  log:      ${inert(health.log_file ?? 'stderr (foreground)')}`)
    return {
      pid: health.pid,
      version: health.version,
      socket_path: health.socket_path,
      database_path: health.database_path,
      log_file: health.log_file,
    }
  }
}
