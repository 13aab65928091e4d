/**
 * CLI cold start: wall time of whole `hld` processes against `node -e 0`, the cost of
 * starting node at all, both run with the sandbox's environment. Target: at most 2.0x.
 */
import {CLI, Sandbox} from '../test/helpers/sandbox.js'
import {BASELINE_ARGV, medianWallTimes, round} from './lib/measure.js'

interface ColdStartCase {
  /** Figure names are `<name>_ms` and `<name>_ratio`. */
  name: string
  args: string[]
  daemon: 'running' | 'stopped'
  /** `daemon status` exits 3 when none runs: that is the path being timed. */
  okExit?: number[]
}

/** The commands timed; each new command group adds its read-only `--json` command here. */
export const COLD_START_CASES: ColdStartCase[] = [
  {name: 'daemon_status_running', args: ['daemon', 'status', '--json'], daemon: 'running'},
  {name: 'daemon_status_stopped', args: ['daemon', 'status', '--json'], daemon: 'stopped', okExit: [3]},
  {name: 'approvals_list_running', args: ['approvals', 'list', '--json'], daemon: 'running'},
  {name: 'session_list_running', args: ['session', 'list', '--json'], daemon: 'running'},
]

const RUNS = 21

export async function benchCli(): Promise<Record<string, number>> {
  const sandbox = new Sandbox()
  try {
    const baseline = {name: 'node_e0', argv: BASELINE_ARGV}
    const programs = (daemon: ColdStartCase['daemon']) =>
      COLD_START_CASES.filter((c) => c.daemon === daemon).map((c) => ({
        name: c.name,
        argv: [CLI, ...c.args],
        okExit: c.okExit,
      }))

    const stopped = medianWallTimes(sandbox.env(), [baseline, ...programs('stopped')], RUNS)
    await sandbox.startDaemon()
    const running = medianWallTimes(sandbox.env(), [baseline, ...programs('running')], RUNS)
    await sandbox.cli(['daemon', 'stop'])

    // Each ratio uses the baseline measured in its own round; the one shown is their mean.
    const figures: Record<string, number> = {node_e0_ms: round((stopped.node_e0 + running.node_e0) / 2)}
    for (const c of COLD_START_CASES) {
      const times = c.daemon === 'running' ? running : stopped
      figures[`${c.name}_ms`] = round(times[c.name])
      figures[`${c.name}_ratio`] = round(times[c.name] / times.node_e0)
    }
    return figures
  } finally {
    await sandbox.cleanup()
  }
}

