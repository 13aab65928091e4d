/**
 * Event figures through the real daemon (the built `dist/`, run `npm run build` first),
 * over its Unix socket:
 * - publish → subscriber latency, p50 and p99, with 1 and with 1,000 subscribers, measured
 *   from the moment the `debugPublish` request is written (so it includes that request's
 *   trip) to the moment each subscriber's reader has the frame;
 * - 1,000 subscribers × 1,000 events, counting every event each one received (zero lost);
 * - the daemon's RSS before and after 10,000 Subscribe connect/disconnect cycles (and after
 *   10,000 more, to tell a leak from the heap settling).
 * Events come from the daemon's test hook (HUMANLAYER_TEST_EVENTS=1). Every loop is bounded.
 * Plus, in-process: what `publish` costs a service, and the log's sustained append rate.
 *
 * Alone: `node --import tsx bench/events.ts`; bench/index.ts calls benchEvents().
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {performance} from 'node:perf_hooks'
import {pathToFileURL} from 'node:url'

import {DaemonClient} from '../src/client/index.js'
import {EventLog} from '../src/daemon/bus/log.js'
import {createLogger} from '../src/shared/logger.js'
import {openStore} from '../src/daemon/store/index.js'
import {Health} from '../src/protocol/daemon.js'
import {LineDecoder} from '../src/protocol/framing.js'
import {DebugPublish} from '../src/protocol/subscribe.js'
import {rssMiB} from '../test/helpers/proc.js'
import {REPO_ROOT, Sandbox} from '../test/helpers/sandbox.js'
import {percentile, round} from './lib/measure.js'

const ENTRY = path.join(REPO_ROOT, 'dist', 'daemon', 'entry.js')
const MANY = 1000
const EVENT_PREFIX = '{"jsonrpc":"2.0","result":{"event":{"id":'

/** A bare subscriber: counts event frames and notes when each id arrived. */
class Subscriber {
  received = 0
  lastId = 0
  outOfOrder = 0
  overflowed = false
  onEvent: ((id: number, at: number) => void) | undefined
  private constructor(readonly socket: net.Socket) {}

  static open(socketPath: string): Promise<Subscriber> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({path: socketPath})
      const subscriber = new Subscriber(socket)
      const decoder = new LineDecoder({
        maxFrameBytes: 1024 * 1024,
        onLine: (line) => {
          if (line.startsWith(EVENT_PREFIX)) {
            const id = Number.parseInt(line.slice(EVENT_PREFIX.length, line.indexOf(',', EVENT_PREFIX.length)), 10)
            subscriber.received++
            if (id !== subscriber.lastId + 1 && subscriber.lastId !== 0) subscriber.outOfOrder++
            subscriber.lastId = id
            subscriber.onEvent?.(id, performance.now())
          } else if (line.includes('subscription_id')) {
            resolve(subscriber)
          } else if (line.includes('"error"')) {
            subscriber.overflowed = true
          }
        },
      })
      socket.on('data', (chunk: Buffer) => decoder.push(chunk))
      socket.once('error', reject)
      socket.write(`${JSON.stringify({jsonrpc: '2.0', method: 'Subscribe', params: {}, id: 1})}\n`)
    })
  }

  close(): void {
    this.socket.destroy()
  }
}

async function openMany(socketPath: string, count: number): Promise<Subscriber[]> {
  const subscribers: Subscriber[] = []
  // In waves: a burst of 1,000 connects overflows the listen backlog (EAGAIN on Unix sockets).
  for (let i = 0; i < count; i += 100) {
    subscribers.push(...(await Promise.all(Array.from({length: Math.min(100, count - i)}, () => Subscriber.open(socketPath)))))
  }
  return subscribers
}

function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (check()) return resolve()
      if (Date.now() > deadline) return reject(new Error(`bench: timed out waiting for ${what}`))
      setTimeout(poll, 1)
    }
    poll()
  })
}

const rssMb = (pid: number): number => round(rssMiB(pid), 1)

function openFilesLimit(): number {
  const match = /Max open files\s+(\d+|unlimited)/.exec(readFileSync('/proc/self/limits', 'utf8'))
  return !match || match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1])
}

const STATUS_DATA = {session_id: 'bench-session', old_status: 'running', new_status: 'waiting_input'}

async function latency(client: DaemonClient, subscribers: Subscriber[], events: number): Promise<{p50: number; p99: number}> {
  const samples: number[] = []
  for (let i = 0; i < events; i++) {
    let sentAt = 0
    let pending = subscribers.length
    for (const subscriber of subscribers) {
      subscriber.onEvent = (_id, at) => {
        samples.push(at - sentAt)
        pending--
      }
    }
    sentAt = performance.now()
    await client.call(DebugPublish, {type: 'session_status_changed', data: STATUS_DATA})
    await until(() => pending === 0, 30_000, `event ${i} to reach ${subscribers.length} subscriber(s)`)
  }
  for (const subscriber of subscribers) subscriber.onEvent = undefined
  return {p50: round(percentile(samples, 50), 3), p99: round(percentile(samples, 99), 3)}
}

async function cycles(socketPath: string, total: number, lanes: number): Promise<void> {
  let started = 0
  const lane = async (): Promise<void> => {
    while (started < total) {
      started++
      const subscriber = await Subscriber.open(socketPath)
      subscriber.close()
    }
  }
  await Promise.all(Array.from({length: lanes}, lane))
}

/** 100,000 conversation_updated events, 1,000 per turn of the event loop (so flushes run between). */
async function publishRate(root: string): Promise<{callUs: number; perSecond: number}> {
  const store = openStore(path.join(root, 'publish.db'))
  const bus = new EventLog(store, createLogger('error', {kind: 'none'}), {maxCount: 1_000_000, maxAgeMs: 3600_000})
  const content = 'z'.repeat(200)
  let inCalls = 0
  const start = performance.now()
  for (let turn = 0; turn < 100; turn++) {
    const before = performance.now()
    for (let i = 0; i < 1000; i++) {
      bus.publish({
        type: 'conversation_updated',
        data: {session_id: 's', claude_session_id: 'c', event_type: 'message', content_type: 'text', role: 'assistant', content},
      })
    }
    inCalls += performance.now() - before
    await new Promise((resolve) => setImmediate(resolve))
  }
  bus.close()
  const total = performance.now() - start
  store.close()
  return {callUs: round((inCalls / 100_000) * 1000, 2), perSecond: round(100_000 / (total / 1000), 0)}
}

export async function benchEvents(): Promise<Record<string, number>> {
  if (!existsSync(ENTRY)) throw new Error(`bench: ${ENTRY} is missing; run \`npm run build\` first`)
  if (openFilesLimit() < 2 * MANY + 200) throw new Error(`bench: needs ~${2 * MANY + 200} open files; raise it with \`ulimit -n 4096\``)
  const sandbox = new Sandbox({HUMANLAYER_LOG_LEVEL: 'warn', HUMANLAYER_TEST_EVENTS: '1'})
  const {socketPath} = sandbox
  const daemon: ChildProcess = spawn(process.execPath, [ENTRY], {stdio: 'ignore', env: sandbox.env()})
  sandbox.track(daemon.pid!)
  const results: Record<string, number> = {}
  let client: DaemonClient | undefined
  try {
    const rate = await publishRate(sandbox.root)
    results.events_publish_call_us = rate.callUs
    results.events_logged_per_s = rate.perSecond
    const pid = await sandbox.waitHealthy(15_000)
    client = await sandbox.client()

    await cycles(socketPath, 200, 10) // warm-up
    results.events_rss_before_mb = rssMb(pid)
    const cyclesStart = performance.now()
    await cycles(socketPath, 10_000, 20)
    results.events_cycles_per_s = round(10_000 / ((performance.now() - cyclesStart) / 1000), 0)
    await client.call(Health, {}) // the daemon has handled every close by the time it answers
    results.events_rss_after_10k_cycles_mb = rssMb(pid)
    // A second round tells a leak (keeps growing) from the heap settling at its working size.
    await cycles(socketPath, 10_000, 20)
    await client.call(Health, {})
    results.events_rss_after_20k_cycles_mb = rssMb(pid)

    const one = await openMany(socketPath, 1)
    const single = await latency(client, one, 1000)
    results.events_latency_1_sub_p50_ms = single.p50
    results.events_latency_1_sub_p99_ms = single.p99
    for (const subscriber of one) subscriber.close()

    const many = await openMany(socketPath, MANY)
    const fanout = await latency(client, many, 30)
    results.events_latency_1000_subs_p50_ms = fanout.p50
    results.events_latency_1000_subs_p99_ms = fanout.p99

    for (const subscriber of many) subscriber.received = 0
    const burstStart = performance.now()
    for (let i = 0; i < 10; i++) await client.call(DebugPublish, {type: 'session_status_changed', data: STATUS_DATA, count: 100})
    await until(
      () => many.every((s) => s.received === 1000 || s.overflowed || s.socket.destroyed),
      120_000,
      '1,000 events at 1,000 subscribers',
    )
    const delivered = many.reduce((sum, s) => sum + s.received, 0)
    results.events_fanout_1000x1000_seconds = round((performance.now() - burstStart) / 1000, 2)
    results.events_fanout_1000x1000_delivered = delivered
    results.events_fanout_1000x1000_lost = MANY * 1000 - delivered
    results.events_fanout_out_of_order = many.reduce((sum, s) => sum + s.outOfOrder, 0)
    results.events_rss_with_1000_subs_mb = rssMb(pid)
    for (const subscriber of many) subscriber.close()
  } finally {
    client?.close()
    daemon.kill('SIGTERM')
    await new Promise((resolve) => (daemon.exitCode === null ? daemon.once('exit', resolve) : resolve(undefined)))
    await sandbox.cleanup()
  }
  return results
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const results = await benchEvents()
  for (const [name, value] of Object.entries(results)) process.stdout.write(`${name.padEnd(36)} ${value}\n`)
}
