/**
 * Daemon: wall time of `hld daemon start` (CLI start, fork, open a new store, listen, answer
 * health) against `node -e 0`, the daemon process's own share of it (a restart: the store
 * exists) against `node -e 0` run just before it, and the idle daemon's RSS against an idle bare
 * node process. Target: start → healthy within 5x (issue 15).
 */
import {spawn} from 'node:child_process'
import path from 'node:path'

import {DaemonClient} from '../src/client/index.js'
import {Health} from '../src/protocol/daemon.js'
import {rssMiB} from '../test/helpers/proc.js'
import {CLI, REPO_ROOT, Sandbox} from '../test/helpers/sandbox.js'
import {BASELINE_ARGV, median, medianWallTimes, round} from './lib/measure.js'

const STARTS = 7
/** Long enough for start-up garbage to be collected and timers to settle into idleness. */
const IDLE_SETTLE_MS = 2000

/** What `hld daemon start` forks (src/client/lifecycle.ts): the daemon bundle, through the loader that compiles it from its code cache. */
const DAEMON_ARGV = [
  path.join(REPO_ROOT, 'dist', 'shared', 'bundle-loader.cjs'),
  path.join(REPO_ROOT, 'dist', 'daemon', 'entry.bundle.cjs'),
]

/** ms from forking the daemon (on the database the CLI start made) to its first health answer, polled every 2 ms. */
async function entryToHealthy(sandbox: Sandbox): Promise<number> {
  const start = performance.now()
  const child = spawn(process.execPath, DAEMON_ARGV, {env: sandbox.env(), stdio: 'ignore'})
  sandbox.track(child.pid!)
  for (;;) {
    try {
      const client = await DaemonClient.connect(sandbox.socketPath)
      await client.call(Health, {})
      client.close()
      return performance.now() - start
    } catch {
      if (performance.now() - start > 15_000) throw new Error(`the daemon did not answer health within 15 s; see ${sandbox.logFile}`)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  }
}

export async function benchDaemon(): Promise<Record<string, number>> {
  const starts: number[] = []
  const entries: number[] = []
  const baselines: number[] = []
  const entryBaselines: number[] = []
  for (let i = 0; i < STARTS; i++) {
    // A fresh sandbox each time: a new database is part of a first start's cost.
    const sandbox = new Sandbox()
    try {
      const times = medianWallTimes(
        sandbox.env(),
        [
          {name: 'node_e0', argv: BASELINE_ARGV},
          {name: 'start', argv: [CLI, 'daemon', 'start', '--json']},
        ],
        1,
        0,
      )
      await sandbox.waitHealthy()
      starts.push(times.start)
      baselines.push(times.node_e0)
      await sandbox.cli(['daemon', 'stop'])
      entryBaselines.push(medianWallTimes(sandbox.env(), [{name: 'node_e0', argv: BASELINE_ARGV}], 1, 0).node_e0)
      entries.push(await entryToHealthy(sandbox))
      await sandbox.cli(['daemon', 'stop'])
    } finally {
      await sandbox.cleanup()
    }
  }

  const sandbox = new Sandbox()
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'})
  try {
    const {pid} = await sandbox.startDaemon()
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS))
    const daemonRss = rssMiB(pid)
    const idleRss = rssMiB(idle.pid!)
    await sandbox.cli(['daemon', 'stop'])
    return {
      start_to_healthy_ms: round(median(starts)),
      start_baseline_ms: round(median(baselines)),
      start_to_healthy_ratio: round(median(starts) / median(baselines)),
      daemon_process_to_healthy_ms: round(median(entries)),
      daemon_process_baseline_ms: round(median(entryBaselines)),
      daemon_process_to_healthy_ratio: round(median(entries) / median(entryBaselines)),
      idle_rss_mib: round(daemonRss, 1),
      idle_baseline_rss_mib: round(idleRss, 1),
      idle_rss_ratio: round(daemonRss / idleRss),
    }
  } finally {
    idle.kill('SIGKILL')
    await sandbox.cleanup()
  }
}
