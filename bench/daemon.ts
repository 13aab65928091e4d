/**
 * Daemon: wall time of `hld daemon start` (fork, open the store, listen, answer health)
 * against `node -e 0`, and the idle daemon's RSS against an idle bare node process.
 */
import {spawn} from 'node:child_process'

import {rssMiB} from '../test/helpers/proc.js'
import {CLI, Sandbox} from '../test/helpers/sandbox.js'
import {BASELINE_ARGV, median, medianWallTimes, round} from './lib/measure.js'

const STARTS = 7
/** Long enough for start-up garbage to be collected and timers to settle into idleness. */
const IDLE_SETTLE_MS = 2000

export async function benchDaemon(): Promise<Record<string, number>> {
  const starts: number[] = []
  const baselines: number[] = []
  for (let i = 0; i < STARTS; i++) {
    // A fresh sandbox each time: a new database is part of a first start's cost.
    const sandbox = new Sandbox()
    try {
      const times = medianWallTimes(
        [
          {name: 'node_e0', argv: BASELINE_ARGV},
          {name: 'start', argv: [CLI, 'daemon', 'start', '--json'], env: sandbox.env()},
        ],
        1,
        0,
      )
      await sandbox.waitHealthy()
      starts.push(times.start)
      baselines.push(times.node_e0)
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
      idle_rss_mib: round(daemonRss, 1),
      idle_baseline_rss_mib: round(idleRss, 1),
      idle_rss_ratio: round(daemonRss / idleRss),
    }
  } finally {
    idle.kill('SIGKILL')
    await sandbox.cleanup()
  }
}
