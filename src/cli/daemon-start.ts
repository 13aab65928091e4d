/**
 * What `hld daemon start` does in the background case (shared by its oclif command and the lean
 * entry, see context.ts): check the socket, fork the daemon, wait until it answers health. The
 * oclif command shows the steps as listr2 progress on a terminal; everywhere else (scripts, --json,
 * a pipe) they run one after another with nothing printed, which is what the lean entry does.
 */
import type {Config} from '../config/index.js'
import type {HealthResult} from '../protocol/daemon.js'
import {type CommandContext, type Parsed, requireLocal} from './context.js'
import {inert} from './render/inert.js'

export interface DaemonStartResult {
  pid: number
  version: string
  socket_path: string
  database_path: string
  log_file: string | null
  /** With --if-not-running: true when a daemon was already running and nothing was started. */
  already_running?: boolean
}

export interface DaemonStartFlags {
  database?: string
  'log-file'?: string
  timeout: number
  'if-not-running'?: boolean
}

export interface StartStep {
  title: string
  task: () => void | Promise<void>
}

/** Runs the steps of a start: listr2 on a terminal (the oclif command), else in order. */
export type StepRunner = (steps: StartStep[]) => Promise<void>

export const runInOrder: StepRunner = async (steps) => {
  for (const step of steps) await step.task()
}

/** The configuration `daemon start` runs with: its own flags over the usual sources. */
export async function startConfig(ctx: CommandContext, flags: DaemonStartFlags): Promise<Config> {
  await requireLocal(ctx, 'hld daemon start')
  return ctx.loadConfig({database_path: flags.database, log_file: flags['log-file']})
}

/** Forks the daemon and waits until it is healthy; with --if-not-running, reports one already running instead. */
export async function daemonStart(
  ctx: CommandContext,
  {flags}: Parsed<DaemonStartFlags, Record<string, never>>,
  runSteps: StepRunner = runInOrder,
  config?: Config,
): Promise<DaemonStartResult> {
  config ??= await startConfig(ctx, flags)
  const [lifecycle, {probeDaemon}] = await Promise.all([import('../client/lifecycle.js'), import('../shared/probe.js')])
  if (flags['if-not-running']) {
    const running = await probeDaemon(config.socket_path)
    // Something that answers but not as hld falls through to the usual refusal.
    if (running?.pid !== undefined) {
      ctx.log(`hld daemon ${inert(running.version)} already running (pid ${inert(running.pid)})`)
      return {...report(ctx, running as HealthResult), already_running: true}
    }
  }

  const socketPath = config.socket_path
  let spawned: ReturnType<typeof lifecycle.spawnDaemon> | undefined
  let health: HealthResult | undefined
  await runSteps([
    {title: `Check ${socketPath}`, task: () => lifecycle.checkNotRunning(socketPath)},
    {title: 'Fork the daemon', task: () => void (spawned = lifecycle.spawnDaemon(config))},
    {
      title: 'Wait until it answers health',
      task: async () => void (health = await lifecycle.waitForHealth(config, spawned!, flags.timeout)),
    },
  ])

  ctx.log(`hld daemon ${inert(health!.version)} running (pid ${inert(health!.pid)})`)
  const claude = health!.components.claude
  if (claude && !claude.available) ctx.warn(`Sessions cannot start: ${claude.detail ?? 'claude was not found'}`)
  return report(ctx, health!)
}

function report(ctx: CommandContext, health: HealthResult): DaemonStartResult {
  ctx.log(`  socket:   ${inert(health.socket_path)}`)
  ctx.log(`  database: ${inert(health.database_path)}`)
  ctx.log(`  log:      ${inert(health.log_file ?? 'stderr (foreground)')}`)
  return {
    pid: health.pid,
    version: health.version,
    socket_path: health.socket_path,
    database_path: health.database_path,
    log_file: health.log_file,
  }
}
