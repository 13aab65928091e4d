/**
 * Health under load (issue 10): `health` p99 while one JSON-RPC batch of 100 launchSession
 * (fake claude) runs, and while another process holds the database's write lock for 6 s with a
 * session writing output. Each is a ratio to idle `health` p99 measured on the same daemon,
 * same connection kind, just before: the baseline runs with exactly the subject's environment.
 */
import {RawConnection} from '../test/helpers/raw-socket.js'
import {holdWriteLock} from '../test/helpers/lock.js'
import {Sandbox, waitFor} from '../test/helpers/sandbox.js'
import {FAKE_CLAUDE, queryDb} from '../test/helpers/sessions.js'
import {percentile, round} from './lib/measure.js'

const BURST = 100
const LOCK_MS = 6000
const IDLE_SAMPLE_MS = 2000
/** Between health calls: a monitor's pace, not a flood that would measure the queue. */
const HEALTH_INTERVAL_MS = 10

/** Health round trips (ms) on one connection until `until` resolves. */
async function sampleHealth(socketPath: string, until: Promise<unknown>): Promise<number[]> {
  const connection = await RawConnection.open(socketPath)
  let done = false
  void until.finally(() => (done = true))
  const samples: number[] = []
  try {
    for (let id = 0; !done; id++) {
      const start = performance.now()
      await connection.request({jsonrpc: '2.0', method: 'health', id}, 120_000)
      samples.push(performance.now() - start)
      await new Promise((resolve) => setTimeout(resolve, HEALTH_INTERVAL_MS))
    }
  } finally {
    connection.close()
  }
  return samples
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function activeSessions(databasePath: string): number {
  const [row] = queryDb<{n: number}>(
    databasePath,
    "SELECT count(*) AS n FROM sessions WHERE status NOT IN ('completed', 'failed', 'interrupted')",
  )
  return row.n
}

export async function benchStorage(): Promise<Record<string, number>> {
  const sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
  try {
    await sandbox.startDaemon()
    const idle = await sampleHealth(sandbox.socketPath, sleep(IDLE_SAMPLE_MS))
    const idleP99 = percentile(idle, 99)

    // One batch of 100 launches, on a connection of its own; sampled until every session ended.
    const launcher = await RawConnection.open(sandbox.socketPath)
    const batch = Array.from({length: BURST}, (_, i) => ({
      jsonrpc: '2.0',
      method: 'launchSession',
      params: {query: `[fake:slow=500] burst ${i}`, working_dir: sandbox.root},
      id: i,
    }))
    const burstDone = (async () => {
      const replies = await launcher.request<{error?: unknown}[]>(batch, 300_000)
      const failed = replies.filter((reply) => reply.error)
      if (failed.length > 0) throw new Error(`${failed.length} launches failed: ${JSON.stringify(failed[0])}`)
      await waitFor(() => activeSessions(sandbox.databasePath) === 0, 300_000, 'the burst to end')
    })()
    const burst = await sampleHealth(
      sandbox.socketPath,
      burstDone.catch(() => {}),
    )
    await burstDone
    launcher.close()
    const burstP99 = percentile(burst, 99)

    // A session writing output through a 6 s external lock.
    const writer = await RawConnection.open(sandbox.socketPath)
    await writer.request({
      jsonrpc: '2.0',
      method: 'launchSession',
      params: {query: '[fake:events=2000] [fake:slow=1000] writes', working_dir: sandbox.root},
      id: 1,
    })
    writer.close()
    const lock = await holdWriteLock(sandbox.databasePath, LOCK_MS)
    const locked = await sampleHealth(sandbox.socketPath, lock.release())
    const lockP99 = percentile(locked, 99)

    return {
      health_idle_p99_ms: round(idleP99),
      health_burst_100_launches_p99_ms: round(burstP99),
      health_burst_100_launches_p99_ratio: round(burstP99 / idleP99),
      health_external_lock_6s_p99_ms: round(lockP99),
      health_external_lock_6s_p99_ratio: round(lockP99 / idleP99),
      health_external_lock_6s_max_ms: round(Math.max(...locked)),
    }
  } finally {
    await sandbox.cleanup()
  }
}
