/**
 * Store: the read methods over a large database, through the real (built) daemon on its socket.
 * For 1,000 and 100,000 rows of each table, seeded into the database file before the daemon
 * starts (bench/lib/seed.ts), it times on one connection, interleaved with a `health` round
 * trip (the baseline):
 *   - fetchApprovals: 1,000 pending of 1,000 (target < 100 ms) and of 100,000 (target < 5 ms).
 *     The pending ones come from live sessions (a sleeping fake claude each), one createApproval
 *     each, pipelined on one connection, as tool calls arrive; that is timed too (an upper bound:
 *     those sessions made no tool call, so each create also looks for one and logs a warning),
 *   - listSessions: all of them (what hld returns) and the newest 100 (`limit`, what
 *     `hld session list` asks for), of all and of one status,
 *   - getConversation of one session holding all the events, whole and the last 100.
 * Each reports median and p99 ms, the median's ratio to health, and the reply's size. A reply
 * over the client's frame limit cannot be received by DaemonClient at all: it is then timed
 * on a bare socket (no JSON.parse) and `<name>_over_frame_limit` is 1.
 * Needs `npm run build` first; alone: `node --import tsx bench/store.ts`.
 */
import net from 'node:net'
import {fileURLToPath} from 'node:url'

import {type DaemonClient, MAX_REPLY_BYTES} from '../src/client/index.js'
import {CreateApproval, FetchApprovals} from '../src/protocol/approvals.js'
import {Health} from '../src/protocol/daemon.js'
import {encodeFrame} from '../src/protocol/framing.js'
import type {Method} from '../src/protocol/method.js'
import {GetConversation, LaunchSession, ListSessions} from '../src/protocol/sessions.js'
import {Sandbox, waitFor} from '../test/helpers/sandbox.js'
import {FAKE_CLAUDE} from '../test/helpers/sessions.js'
import {percentile, round} from './lib/measure.js'
import {seedDatabase} from './lib/seed.js'

/** Per measured call: stop after this long or this many samples, whichever comes first. */
const BUDGET_MS = 2000
const MAX_RUNS = 300
const MIN_RUNS = 5
const PENDING = 1000
/** Live sessions the pending approvals belong to. */
const LIVE_SESSIONS = 10

/** One request on a fresh bare connection: the reply's size and how long it took to arrive whole. */
function rawReply(socketPath: string, name: string, params: unknown): Promise<{bytes: number; ms: number}> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({path: socketPath})
    let bytes = 0
    let started = 0
    socket.on('connect', () => {
      started = performance.now()
      socket.write(encodeFrame({jsonrpc: '2.0', method: name, params, id: 1}))
    })
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length
      if (chunk.at(-1) === 0x0a) {
        socket.destroy()
        resolve({bytes, ms: performance.now() - started})
      }
    })
    socket.on('error', reject)
  })
}

type Call = () => Promise<unknown>

/** Samples of `subject`, each followed by a health round trip on the same connection. */
async function interleaved(client: DaemonClient, subject: Call): Promise<{subject: number[]; health: number[]}> {
  const samples = {subject: [] as number[], health: [] as number[]}
  const time = async (call: Call, into: number[]) => {
    const t = performance.now()
    await call()
    into.push(performance.now() - t)
  }
  await subject() // warm-up
  const started = performance.now()
  while (samples.subject.length < MAX_RUNS && (samples.subject.length < MIN_RUNS || performance.now() - started < BUDGET_MS)) {
    await time(subject, samples.subject)
    await time(() => client.call(Health, {}), samples.health)
  }
  return samples
}

async function measureCall<M extends Method<unknown, unknown>>(
  client: DaemonClient,
  socketPath: string,
  name: string,
  method: M,
  params: M extends Method<infer P, unknown> ? P : never,
  check: (result: M extends Method<unknown, infer R> ? R : never) => void,
): Promise<Record<string, number>> {
  const first = await rawReply(socketPath, method.name, params)
  const over = first.bytes > MAX_REPLY_BYTES
  const subject: Call = over
    ? () => rawReply(socketPath, method.name, params)
    : async () => check(await client.call(method, params, {timeoutMs: 120_000}))
  const {subject: times, health} = await interleaved(client, subject)
  const medianMs = percentile(times, 50)
  return {
    [`${name}_ms`]: round(medianMs, 3),
    [`${name}_p99_ms`]: round(percentile(times, 99), 3),
    [`${name}_x_health`]: round(medianMs / percentile(health, 50), 1),
    [`${name}_reply_kib`]: round(first.bytes / 1024, 1),
    ...(over ? {[`${name}_over_frame_limit`]: 1} : {}),
  }
}

/** Launches sessions that stay running, and gives them `PENDING` approvals; returns how long the creates took. */
async function createPending(client: DaemonClient, sandbox: Sandbox): Promise<number> {
  const launched = await Promise.all(
    Array.from({length: LIVE_SESSIONS}, (_, i) =>
      client.call(LaunchSession, {query: `live ${i} [fake:slow=600000]`, working_dir: sandbox.root, disable_approvals: true}),
    ),
  )
  await waitFor(
    async () => (await client.call(ListSessions, {status: 'running'})).sessions.length === LIVE_SESSIONS,
    30_000,
    `${LIVE_SESSIONS} sessions running`,
  )
  const started = performance.now()
  await Promise.all(
    Array.from({length: PENDING}, (_, i) =>
      client.call(CreateApproval, {
        run_id: launched[i % LIVE_SESSIONS].run_id,
        tool_name: 'Bash',
        tool_input: {command: `touch f${i}.txt`, description: 'Create a file'},
      }),
    ),
  )
  return performance.now() - started
}

async function benchSize(rows: number): Promise<Record<string, number>> {
  const sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
  try {
    const seeded = seedDatabase(sandbox.databasePath, {sessions: rows, conversationEvents: rows, decidedApprovals: rows - PENDING})
    await sandbox.startDaemon()
    const client = await sandbox.client()
    const figures: Record<string, number> = {
      [`seed_${rows}_sessions_ms`]: round(seeded.ms.sessions, 1),
      [`seed_${rows}_events_ms`]: round(seeded.ms.conversation, 1),
    }
    if (rows > PENDING) figures[`seed_${rows - PENDING}_approvals_ms`] = round(seeded.ms.approvals, 1)
    const measure = async <M extends Method<unknown, unknown>>(
      ...args: Parameters<typeof measureCall<M>> extends [unknown, unknown, ...infer Rest] ? Rest : never
    ) => Object.assign(figures, await measureCall(client, sandbox.socketPath, ...args))
    const expectLength = (what: string, expected: number) => (list: unknown[]) => {
      if (list.length !== expected) throw new Error(`${what}: expected ${expected}, got ${list.length}`)
    }
    try {
      figures[`create_${PENDING}_approvals_with_${rows}_rows_ms`] = round(await createPending(client, sandbox), 1)
      await measure(`fetch_approvals_${PENDING}_of_${rows}`, FetchApprovals, {}, (r) =>
        expectLength('pending approvals', PENDING)(r.approvals),
      )
      const total = rows + LIVE_SESSIONS
      await measure(`list_sessions_${rows}`, ListSessions, {}, (r) => expectLength('sessions', total)(r.sessions))
      await measure(`list_sessions_newest_100_of_${rows}`, ListSessions, {limit: 100}, (r) => expectLength('sessions', 100)(r.sessions))
      await measure(`list_completed_newest_100_of_${rows}`, ListSessions, {status: 'completed', limit: 100}, (r) =>
        expectLength('sessions', 100)(r.sessions),
      )
      const session_id = seeded.conversationSessionId
      await measure(`conversation_${rows}`, GetConversation, {session_id}, (r) => expectLength('events', rows)(r.events))
      await measure(`conversation_last_100_of_${rows}`, GetConversation, {session_id, limit: 100}, (r) =>
        expectLength('events', 100)(r.events),
      )
    } finally {
      client.close()
      await sandbox.cli(['daemon', 'stop'])
    }
    return figures
  } finally {
    await sandbox.cleanup()
  }
}

export async function benchStore(): Promise<Record<string, number>> {
  return {...(await benchSize(1000)), ...(await benchSize(100_000))}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await benchStore()
  for (const [name, value] of Object.entries(figures)) process.stdout.write(`${name.padEnd(48)} ${value}\n`)
}
