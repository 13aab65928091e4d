/**
 * Sessions: 50 concurrent fake claude sessions, each streaming 2,000 assistant events, against
 * a real (built) daemon. Every stdout line must be stored: the figures report what was stored
 * against what was expected, the throughput from the first launch until the last session
 * completed, and the daemon's peak RSS (VmHWM). Needs `npm run build` first; runnable alone
 * with `node --import tsx bench/sessions.ts`.
 */
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {LaunchSession, ListSessions} from '../src/protocol/sessions.js'
import {Sandbox, waitFor} from '../test/helpers/sandbox.js'
import {FAKE_CLAUDE, queryDb} from '../test/helpers/sessions.js'

const SESSIONS = 50
const EVENTS = 2000
/** Per session: the injected query, the events and the reply. */
const CONVERSATION_PER_SESSION = EVENTS + 2
/** Per session: init, the events, the reply and the result. */
const RAW_PER_SESSION = EVENTS + 3

function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1])
  return kib / 1024
}

/** User + system CPU time of a process so far, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

const round = (value: number, digits = 0): number => Number(value.toFixed(digits))

export async function benchSessions(): Promise<Record<string, number>> {
  const sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
  try {
    const {pid} = await sandbox.startDaemon()
    const client = await sandbox.client()
    try {
      const cpuBefore = cpuMs(pid)
      const started = performance.now()
      await Promise.all(
        Array.from({length: SESSIONS}, (_, i) =>
          client.call(LaunchSession, {query: `bench ${i} [fake:events=${EVENTS}]`, working_dir: sandbox.root, disable_approvals: true}),
        ),
      )
      let ended = 0
      await waitFor(
        async () => {
          const {sessions} = await client.call(ListSessions, {})
          ended = sessions.filter((s) => s.status === 'completed' || s.status === 'failed').length
          return ended === SESSIONS
        },
        300_000,
        `all ${SESSIONS} sessions to end (${ended} so far)`,
      )
      const elapsedMs = performance.now() - started
      const peak = peakRssMiB(pid)
      const daemonCpu = cpuMs(pid) - cpuBefore

      const count = (table: string): number => queryDb<{n: number}>(sandbox.databasePath, `SELECT COUNT(*) AS n FROM ${table}`)[0].n
      const raw = count('raw_events')
      const conversation = count('conversation_events')
      const completed = (await client.call(ListSessions, {status: 'completed'})).sessions.length
      return {
        sessions: SESSIONS,
        sessions_completed: completed,
        raw_events_expected: SESSIONS * RAW_PER_SESSION,
        raw_events_stored: raw,
        conversation_events_expected: SESSIONS * CONVERSATION_PER_SESSION,
        conversation_events_stored: conversation,
        events_lost: SESSIONS * RAW_PER_SESSION - raw,
        elapsed_ms: round(elapsedMs),
        events_per_second: round(raw / (elapsedMs / 1000)),
        daemon_cpu_ms: daemonCpu,
        daemon_cpu_us_per_event: round((daemonCpu * 1000) / raw, 1),
        daemon_peak_rss_mib: round(peak, 1),
      }
    } finally {
      client.close()
      await sandbox.cli(['daemon', 'stop'])
    }
  } finally {
    await sandbox.cleanup()
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await benchSessions()
  for (const [name, value] of Object.entries(figures)) process.stdout.write(`${name.padEnd(30)} ${value}\n`)
}
