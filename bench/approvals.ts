/**
 * Approvals bench: fetchApprovals over the socket, against a daemon in this process.
 *   - 100,000 stored approvals, 1,000 of them pending (target < 5 ms),
 *   - 1,000 approvals, all pending (the seed's bar, < 100 ms), and 1,000 createApproval calls.
 * Figures are medians in ms, with each one's ratio to a bare `health` round trip measured in
 * the same run, so they compare across machines. Run alone: `node --import tsx bench/approvals.ts`.
 */
import {randomUUID} from 'node:crypto'
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {performance} from 'node:perf_hooks'

import {DaemonClient} from '../src/client/index.js'
import {loadConfig} from '../src/config/index.js'
import type {SessionLink, SessionRef} from '../src/daemon/approvals/session-link.js'
import {createLogger} from '../src/daemon/logger.js'
import {startDaemon} from '../src/daemon/main.js'
import {openStore} from '../src/daemon/store/index.js'
import {CreateApproval, FetchApprovals} from '../src/protocol/approvals.js'
import {Health} from '../src/protocol/daemon.js'

const SESSIONS = 50

/** Sessions as approvals see them: a map, like a cached sessions service. */
function sessionLink(): SessionLink {
  const byId = new Map<string, SessionRef>()
  for (let i = 0; i < SESSIONS; i++) byId.set(`s${i}`, {id: `s${i}`, run_id: `run-${i}`, title: `Session ${i}`, summary: `query ${i}`, status: 'running'})
  const byRun = new Map([...byId.values()].map((s) => [s.run_id, s]))
  return {
    findById: (id) => byId.get(id),
    findByRunId: (runId) => byRun.get(runId),
    setWaitingForApproval: () => {},
    markToolCallApproval: () => {},
  }
}

/** Writes `total` approvals straight into the database, `pending` of them still pending. */
function seed(databasePath: string, total: number, pending: number): void {
  const store = openStore(databasePath)
  const insert = store.sqlite.prepare(
    'INSERT INTO approvals (id, source, type, run_id, session_id, tool_use_id, tool_name, tool_input, status, comment, created_at, decided_at) ' +
      "VALUES (?, 'local', 'function_call', ?, ?, ?, 'Bash', ?, ?, ?, ?, ?)",
  )
  const input = JSON.stringify({command: 'touch marker.txt', description: 'Create marker'})
  const start = Date.now() - total
  store.sqlite.transaction(() => {
    for (let i = 0; i < total; i++) {
      const s = i % SESSIONS
      const isPending = i >= total - pending
      insert.run(`local-${randomUUID()}`, `run-${s}`, `s${s}`, `toolu_${i}`, input, isPending ? 'pending' : 'approved', isPending ? null : 'ok', start + i, isPending ? null : start + i + 1)
    }
  })()
  store.close()
}

async function median(fn: () => Promise<unknown>, runs: number, warmup = Math.min(20, runs)): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    await fn()
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]
}

async function withDaemon<T>(total: number, pending: number, body: (client: DaemonClient) => Promise<T>): Promise<T> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'hld-bench-'))
  const env = {HOME: root, HUMANLAYER_DAEMON_SOCKET: path.join(root, 'd.sock'), HUMANLAYER_DATABASE_PATH: path.join(root, 'daemon.db'), HUMANLAYER_LOG_FILE: path.join(root, 'daemon.log')}
  const config = loadConfig({}, env)
  seed(config.database_path, total, pending)
  const daemon = await startDaemon(config, createLogger('error', {kind: 'none'}), {logFile: null, sessionLink: sessionLink()})
  const client = await DaemonClient.connect(config.socket_path)
  try {
    return await body(client)
  } finally {
    client.close()
    await daemon.shutdown('bench done')
    rmSync(root, {recursive: true, force: true})
  }
}

export async function benchApprovals(): Promise<Record<string, number>> {
  const figures: Record<string, number> = {}
  await withDaemon(100_000, 1000, async (client) => {
    const health = await median(() => client.call(Health, {}), 500)
    const fetch = await median(async () => {
      const {approvals} = await client.call(FetchApprovals, {})
      if (approvals.length !== 1000) throw new Error(`expected 1000 pending, got ${approvals.length}`)
    }, 100)
    const oneSession = await median(() => client.call(FetchApprovals, {session_id: 's7'}), 200)
    Object.assign(figures, {
      'health_round_trip_ms': health,
      'fetch_1000_pending_of_100000_ms': fetch,
      'fetch_1000_pending_of_100000_x_health': fetch / health,
      'fetch_one_session_of_100000_ms': oneSession,
      'fetch_one_session_of_100000_x_health': oneSession / health,
    })
  })
  await withDaemon(1000, 1000, async (client) => {
    const health = await median(() => client.call(Health, {}), 500)
    const fetch = await median(() => client.call(FetchApprovals, {}), 100)
    // 1,000 createApproval calls pipelined on one connection, as 1,000 tool calls would arrive.
    const create = await median(
      () => Promise.all(Array.from({length: 1000}, (_, i) => client.call(CreateApproval, {run_id: `run-${i % SESSIONS}`, tool_name: 'Bash', tool_input: {command: `touch f${i}`}}))),
      5,
      1,
    )
    Object.assign(figures, {
      'fetch_1000_of_1000_ms': fetch,
      'fetch_1000_of_1000_x_health': fetch / health,
      'create_1000_ms': create,
      'create_1000_x_health': create / health,
    })
  })
  return figures
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const figures = await benchApprovals()
  for (const [name, value] of Object.entries(figures)) console.log(`${name.padEnd(40)} ${value.toFixed(3)}`)
}
