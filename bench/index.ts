/**
 * `npm run bench`: runs every bench module in this folder (each `bench/<name>.ts` exporting
 * an async `bench<Name>()` that returns named figures), prints one table, and writes
 * bench/results.json. `npm run bench -- rpc cli` runs only those modules.
 *
 * Every figure that a target applies to is a ratio to a baseline measured in the same run,
 * so results compare across machines; absolute figures are printed beside them.
 */
import {readdirSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

type Bench = () => Promise<Record<string, number>>

/** Targets from the issue, by `<module>.<figure>`. */
const TARGETS: Record<string, {max?: number; min?: number}> = {
  // Issue 15: the hot commands within 1.5x node's own start-up.
  'cli.daemon_status_running_ratio': {max: 1.5},
  'cli.daemon_status_stopped_ratio': {max: 1.5},
  'cli.approvals_list_running_ratio': {max: 1.5},
  'cli.session_list_running_ratio': {max: 1.5},
  'cli.session_list_human_ratio': {max: 1.5},
  'cli.session_show_running_ratio': {max: 1.5},
  'cli.approvals_approve_unknown_ratio': {max: 1.5},
  'cli.approvals_deny_unknown_ratio': {max: 1.5},
  'cli.watch_first_event_ratio': {max: 1.5},
  'ssh.host_approvals_list_ratio': {max: 1.5},
  'ssh.hosts3_vs_one_host_ratio': {max: 1.5},
  // The same fan-in against three `ssh host true` at once (ssh's own cost of three connections here).
  'ssh.hosts3_vs_ssh3_true_ratio': {max: 1.5},
  'daemon.start_to_healthy_ratio': {max: 5},
  'daemon.daemon_process_to_healthy_ratio': {max: 5},
  'rpc.sequential_throughput_ratio': {min: 0.5},
  'rpc.pipelined_throughput_ratio': {min: 0.5},
  // Absolute, as the issues state them (no baseline makes them portable); each has an x_health beside it.
  'events.events_latency_1_sub_p99_ms': {max: 5},
  'events.events_latency_1000_subs_p99_ms': {max: 50},
  'events.events_fanout_1000x1000_lost': {max: 0},
  'sessions.events_lost': {max: 0},
  // Issue 15: a per-session process answers within 1.5x node's own start-up.
  'mcp.mcp_initialize_ratio': {max: 1.5},
  'store.fetch_approvals_1000_of_1000_ms': {max: 100},
  'store.fetch_approvals_1000_of_100000_ms': {max: 5},
  'policy.hook_allowed_ratio': {max: 1.5},
  'policy.evaluate_1000_rules_us_per_call': {max: 50},
  // Issue 15: the daemon's ingest path against a bare better-sqlite3 writer of the same rows.
  'ingest.ingest_ratio': {min: 0.6},
  'launch.launch_ratio': {min: 0.7},
  // Issue 15: approval created → listed and decision → waiter, p50, against a bare store server.
  'approvals-latency.approval_created_to_visible_ratio': {max: 2},
  'approvals-latency.decision_to_waiter_ratio': {max: 2},
  // Issue 10: health stays prompt; p99 over idle health p99 on the same daemon.
  'storage.health_external_lock_6s_max_ms': {max: 100},
}

const here = path.dirname(fileURLToPath(import.meta.url))

async function discover(only: string[]): Promise<{module: string; name: string; run: Bench}[]> {
  const files = readdirSync(here)
    .filter((file) => file.endsWith('.ts') && file !== 'index.ts')
    .sort()
  const found = []
  for (const file of files) {
    const module = file.slice(0, -'.ts'.length)
    if (only.length > 0 && !only.includes(module)) continue
    const exports = (await import(pathToFileURL(path.join(here, file)).href)) as Record<string, unknown>
    for (const [name, value] of Object.entries(exports)) {
      if (name.startsWith('bench') && typeof value === 'function') found.push({module, name, run: value as Bench})
    }
  }
  return found
}

function verdict(key: string, value: number): string {
  const target = TARGETS[key]
  if (!target) return ''
  if (target.max !== undefined) return value <= target.max ? `ok (<= ${target.max})` : `MISSED (<= ${target.max})`
  return value >= target.min! ? `ok (>= ${target.min})` : `MISSED (>= ${target.min})`
}

const only = process.argv.slice(2)
const benches = await discover(only)
if (benches.length === 0) throw new Error(`No bench module matches ${only.join(', ')} in ${here}`)

const results: Record<string, Record<string, number>> = {}
const failures: string[] = []
for (const bench of benches) {
  process.stderr.write(`bench ${bench.module} (${bench.name})…\n`)
  const started = Date.now()
  try {
    results[bench.module] = {...results[bench.module], ...(await bench.run())}
  } catch (error) {
    failures.push(`${bench.module}: ${(error as Error).stack ?? String(error)}`)
  }
  process.stderr.write(`  ${((Date.now() - started) / 1000).toFixed(1)} s\n`)
}

const rows = Object.entries(results).flatMap(([module, figures]) =>
  Object.entries(figures).map(([figure, value]) => [`${module}.${figure}`, String(value), verdict(`${module}.${figure}`, value)]),
)
const width = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column].length), 6))
const line = (cells: string[]) =>
  cells
    .map((cell, i) => (i === 1 ? cell.padStart(width[i]) : cell.padEnd(width[i])))
    .join('  ')
    .trimEnd()
console.log(line(['figure', 'value', 'target']))
console.log(line(width.map((w) => '-'.repeat(w))))
for (const row of rows) console.log(line(row))

const file = path.join(here, 'results.json')
writeFileSync(
  file,
  `${JSON.stringify({date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, results, failures}, null, 2)}\n`,
)
console.log(`\nwrote ${path.relative(process.cwd(), file)}`)
if (failures.length > 0) {
  console.error(`\n${failures.length} bench module(s) failed:\n${failures.join('\n\n')}`)
  process.exitCode = 1
}
