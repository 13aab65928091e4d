/**
 * RPC: `health` round trips on one connection, sequential (one in flight) and pipelined
 * (PIPELINE_DEPTH in flight), against a bare Node NDJSON server on the same kind of socket that
 * answers with the daemon's own health reply (the same size).
 * Target: at least 0.5x of the baseline's throughput.
 */
import {spawn} from 'node:child_process'
import {writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {Health} from '../src/protocol/daemon.js'
import {Sandbox} from '../test/helpers/sandbox.js'
import {median, percentile, round} from './lib/measure.js'

const SEQUENTIAL = 3000
const PIPELINED = 20_000
/** Requests kept in flight when pipelining: deep enough to batch, shallow enough that latency still means something. */
const PIPELINE_DEPTH = 32
const WARMUP = 500
/** Rounds alternate between baseline and daemon, so load from elsewhere hits both alike. */
const ROUNDS = 3

interface RunResult {
  perSecond: number
  p50Us: number
  p99Us: number
}

/** One connection; requests carry increasing ids and replies are matched back by id. */
class LineClient {
  private buffer = ''
  private readonly waiting = new Map<number, () => void>()

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      let index
      while ((index = this.buffer.indexOf('\n')) !== -1) {
        const reply = JSON.parse(this.buffer.slice(0, index)) as {id: number; error?: unknown}
        this.buffer = this.buffer.slice(index + 1)
        if (reply.error) throw new Error(`health failed: ${JSON.stringify(reply.error)}`)
        this.waiting.get(reply.id)?.()
        this.waiting.delete(reply.id)
      }
    })
  }

  static open(socketPath: string): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({path: socketPath}, () => resolve(new LineClient(socket)))
      socket.once('error', reject)
    })
  }

  /** Sends ids [from, from + count) with `depth` requests in flight; resolves with each latency in µs. */
  async run(from: number, count: number, depth: number): Promise<number[]> {
    const latencies: number[] = []
    const send = (id: number): Promise<void> => {
      const start = process.hrtime.bigint()
      const done = new Promise<void>((resolve) =>
        this.waiting.set(id, () => {
          latencies.push(Number(process.hrtime.bigint() - start) / 1000)
          resolve()
        }),
      )
      this.socket.write(`{"jsonrpc":"2.0","method":"health","params":{},"id":${id}}\n`)
      return done
    }
    let next = from
    const lane = async (): Promise<void> => {
      while (next < from + count) await send(next++)
    }
    await Promise.all(Array.from({length: depth}, lane))
    return latencies
  }

  close(): void {
    this.socket.destroy()
  }
}

type Measured = {sequential: RunResult; pipelined: RunResult}

async function measure(socketPath: string): Promise<Measured> {
  const client = await LineClient.open(socketPath)
  try {
    await client.run(0, WARMUP, 1)
    const timed = async (from: number, count: number, depth: number): Promise<RunResult> => {
      const start = process.hrtime.bigint()
      const latencies = await client.run(from, count, depth)
      const seconds = Number(process.hrtime.bigint() - start) / 1e9
      return {perSecond: count / seconds, p50Us: percentile(latencies, 50), p99Us: percentile(latencies, 99)}
    }
    const sequential = await timed(WARMUP, SEQUENTIAL, 1)
    const pipelined = await timed(WARMUP + SEQUENTIAL, PIPELINED, PIPELINE_DEPTH)
    return {sequential, pipelined}
  } finally {
    client.close()
  }
}

/** The echo server, answering every call with `resultFile`'s JSON. */
async function startEchoServer(socketPath: string, resultFile: string): Promise<() => void> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'echo-server.mjs')
  const child = spawn(process.execPath, [script, socketPath, resultFile], {stdio: ['ignore', 'pipe', 'inherit']})
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`echo server exited ${code}`)))
  })
  return () => child.kill('SIGKILL')
}

export async function benchRpc(): Promise<Record<string, number>> {
  const sandbox = new Sandbox()
  let stopEcho: (() => void) | undefined
  try {
    await sandbox.startDaemon()
    // The baseline answers with the daemon's own health reply: the same bytes to encode, send and parse.
    const client = await sandbox.client()
    const health = await client.call(Health, {})
    client.close()
    const resultFile = path.join(sandbox.root, 'health.json')
    writeFileSync(resultFile, JSON.stringify(health))
    const echoSocket = path.join(sandbox.root, 'echo.sock')
    stopEcho = await startEchoServer(echoSocket, resultFile)
    const rounds: {echo: Measured; daemon: Measured}[] = []
    for (let i = 0; i < ROUNDS; i++) rounds.push({echo: await measure(echoSocket), daemon: await measure(sandbox.socketPath)})
    await sandbox.cli(['daemon', 'stop'])

    const figures: Record<string, number> = {}
    for (const mode of ['sequential', 'pipelined'] as const) {
      const of = (side: 'echo' | 'daemon', key: keyof RunResult) => median(rounds.map((r) => r[side][mode][key]))
      figures[`${mode}_per_s`] = Math.round(of('daemon', 'perSecond'))
      figures[`${mode}_baseline_per_s`] = Math.round(of('echo', 'perSecond'))
      figures[`${mode}_throughput_ratio`] = round(of('daemon', 'perSecond') / of('echo', 'perSecond'))
      figures[`${mode}_p50_us`] = Math.round(of('daemon', 'p50Us'))
      figures[`${mode}_p99_us`] = Math.round(of('daemon', 'p99Us'))
      figures[`${mode}_baseline_p50_us`] = Math.round(of('echo', 'p50Us'))
      figures[`${mode}_baseline_p99_us`] = Math.round(of('echo', 'p99Us'))
    }
    figures.reply_bytes = JSON.stringify(health).length
    return figures
  } finally {
    stopEcho?.()
    await sandbox.cleanup()
  }
}
