/** Shared by the bench modules: timing child processes, percentiles, and formatting. */
import {spawnSync} from 'node:child_process'

/** The value below which `p` percent of the samples fall (nearest rank). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples')
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]
}

export const median = (samples: number[]): number => percentile(samples, 50)

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

export interface Timed {
  name: string
  /** What runs: node (the default) or another program, e.g. `ssh` for a baseline. */
  command?: string
  argv: string[]
  /** Exit statuses that count as a normal run (a failing command would time the wrong thing). */
  okExit?: number[]
  /** What it reads on stdin (none when absent); give the baseline the same. */
  input?: string
}

/**
 * Wall time of each program, run `runs` times after `warmups`, interleaved so that load
 * from elsewhere on the machine hits every program alike. Returns each program's median ms.
 *
 * Every program runs with the same `env`, the baseline too: a variable such as
 * NODE_EXTRA_CA_CERTS costs ~40 ms at every node start, so a baseline run with the bench's
 * own environment and a subject run with a sandbox's would compare different things.
 */
export function medianWallTimes(env: NodeJS.ProcessEnv, programs: Timed[], runs: number, warmups = 2): Record<string, number> {
  const samples: Record<string, number[]> = Object.fromEntries(programs.map((p) => [p.name, []]))
  for (let i = 0; i < warmups + runs; i++) {
    for (const program of programs) {
      const start = process.hrtime.bigint()
      const stdin = program.input === undefined ? 'ignore' : 'pipe'
      const result = spawnSync(program.command ?? process.execPath, program.argv, {
        env,
        input: program.input,
        stdio: [stdin, 'pipe', 'pipe'],
      })
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      const ok = program.okExit ?? [0]
      if (!ok.includes(result.status ?? -1)) {
        throw new Error(`${program.name} exited ${result.status}: ${String(result.stderr)}${String(result.stdout)}`)
      }
      if (i >= warmups) samples[program.name].push(ms)
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]))
}

export const BASELINE_ARGV = ['-e', '0']
