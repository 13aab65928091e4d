/**
 * CLI cold start: wall time of whole `hld` processes against `node -e 0`, the cost of starting
 * node at all, both run with the sandbox's environment, interleaved, in the same round. The hot
 * commands take the lean entry (src/cli/lean.ts); the same commands forced through oclif
 * (HLD_NO_LEAN=1, in a round of their own with that environment) are timed beside them.
 * Target: at most 1.5x (issue 15).
 */
import {FAKE_CLAUDE} from '../test/helpers/sessions.js'
import {CLI, Sandbox} from '../test/helpers/sandbox.js'
import {BASELINE_ARGV, medianWallTimes, round} from './lib/measure.js'

interface ColdStartCase {
  /** Figure names are `<name>_ms`, `<name>_baseline_ms` and `<name>_ratio`. */
  name: string
  args: (ids: {session: string}) => string[]
  daemon: 'running' | 'stopped'
  /** `daemon status` exits 3 when none runs: that is the path being timed. */
  okExit?: number[]
  /** Also timed through oclif, as `<name>_via_oclif_*`. */
  viaOclif?: boolean
}

/** The commands timed; each new command group adds its hot commands here. */
export const COLD_START_CASES: ColdStartCase[] = [
  {name: 'daemon_status_running', args: () => ['daemon', 'status', '--json'], daemon: 'running', viaOclif: true},
  {name: 'daemon_status_stopped', args: () => ['daemon', 'status', '--json'], daemon: 'stopped', okExit: [3]},
  {name: 'approvals_list_running', args: () => ['approvals', 'list', '--json'], daemon: 'running', viaOclif: true},
  {name: 'session_list_running', args: () => ['session', 'list', '--json'], daemon: 'running', viaOclif: true},
  {name: 'session_list_human', args: () => ['session', 'list'], daemon: 'running'},
  {name: 'session_show_running', args: ({session}) => ['session', 'show', session, '--json'], daemon: 'running'},
  // A decision happens once per approval: an unknown id times the same start-up and round trip.
  {name: 'approvals_approve_unknown', args: () => ['approvals', 'approve', 'ffff0000', '--json'], daemon: 'running', okExit: [4]},
  {
    name: 'approvals_deny_unknown',
    args: () => ['approvals', 'deny', 'ffff0000', '--comment', 'no', '--json'],
    daemon: 'running',
    okExit: [4],
  },
  {name: 'watch_first_event', args: () => ['watch', '--since', '0', '--count', '1', '--json'], daemon: 'running'},
]

const RUNS = 21

export async function benchCli(): Promise<Record<string, number>> {
  const sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
  try {
    const baseline = {name: 'node_e0', argv: BASELINE_ARGV}
    const ids = {session: ''}
    const programs = (daemon: ColdStartCase['daemon'], viaOclif = false) =>
      COLD_START_CASES.filter((c) => c.daemon === daemon && (!viaOclif || c.viaOclif)).map((c) => ({
        name: c.name,
        argv: [CLI, ...c.args(ids)],
        okExit: c.okExit,
      }))

    const figures: Record<string, number> = {}
    const record = (times: Record<string, number>, daemon: ColdStartCase['daemon'], suffix = '') => {
      for (const c of COLD_START_CASES.filter((c) => c.daemon === daemon && times[c.name] !== undefined)) {
        figures[`${c.name}${suffix}_ms`] = round(times[c.name])
        figures[`${c.name}${suffix}_baseline_ms`] = round(times.node_e0)
        figures[`${c.name}${suffix}_ratio`] = round(times[c.name] / times.node_e0)
      }
    }

    record(medianWallTimes(sandbox.env(), [baseline, ...programs('stopped')], RUNS), 'stopped')
    await sandbox.startDaemon()
    // A session that completed: its events are there for watch, its conversation for session show.
    const launched = await sandbox.cli(['session', 'launch', '--wait', '--json', '-w', sandbox.root, 'hello'])
    if (launched.exitCode !== 0) throw new Error(`session launch failed: ${launched.stderr}`)
    ids.session = (JSON.parse(launched.stdout.split('\n')[0]) as {session_id: string}).session_id
    record(medianWallTimes(sandbox.env(), [baseline, ...programs('running')], RUNS), 'running')
    record(medianWallTimes(sandbox.env({HLD_NO_LEAN: '1'}), [baseline, ...programs('running', true)], RUNS), 'running', '_via_oclif')
    await sandbox.cli(['daemon', 'stop'])
    return figures
  } finally {
    await sandbox.cleanup()
  }
}
