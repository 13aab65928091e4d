/**
 * Protocol fuzz: thousands of generated frames over the real socket to a real daemon.
 * Every frame that the contract (frames.ts) says deserves a reply gets exactly one, in
 * order, of the right kind; the daemon stays up and its memory stays bounded.
 * Reproduce a failure with the seed it prints, running this file alone (a file named on
 * mocha's command line is added to .mocharc's spec list, hence --no-config):
 *   HLD_FUZZ_SEED=<seed> npx mocha --no-config -r tsx -t 20000 test/hardening/protocol-fuzz.test.ts
 */
import net from 'node:net'
import path from 'node:path'

import {expect} from 'chai'

import {MAX_BATCH_REQUESTS} from '../../src/daemon/rpc/server.js'
import {ErrorCode} from '../../src/protocol/errors.js'
import {METHODS} from '../../src/protocol/methods.schema.js'
import {rssMiB} from '../helpers/proc.js'
import {Sandbox} from '../helpers/sandbox.js'
import {type Expected, Prng, deeplyNested, expectedReplies, randomUnicode, randomValue, request, wrongParams} from './frames.js'

const FRAMES = 10_000
const CONNECTIONS = 4
const FRAMES_PER_ROUND = 25
const MAX_FRAME_BYTES = 1024 * 1024
/** Generous: the daemon may keep garbage around, but not a copy of what it was sent (~150 MB). */
const RSS_GROWTH_LIMIT_MIB = 100

const seed = Number(process.env.HLD_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31))
const contract = {maxFrameBytes: MAX_FRAME_BYTES, maxBatchRequests: MAX_BATCH_REQUESTS, methods: METHODS}
const callable = METHODS.filter((spec) => !spec.stream)
const streams = METHODS.filter((spec) => spec.stream)

/** A socket that collects reply lines, whatever they contain. */
class ReplyReader {
  private buffer = Buffer.alloc(0)
  readonly lines: string[] = []
  closed = false
  private wake: (() => void) | undefined

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      let index
      while ((index = this.buffer.indexOf(0x0a)) !== -1) {
        this.lines.push(this.buffer.subarray(0, index).toString('utf8'))
        this.buffer = this.buffer.subarray(index + 1)
      }
      this.wake?.()
    })
    socket.on('close', () => {
      this.closed = true
      this.wake?.()
    })
    socket.on('error', () => {})
  }

  static open(socketPath: string): Promise<ReplyReader> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({path: socketPath}, () => resolve(new ReplyReader(socket)))
      socket.once('error', reject)
    })
  }

  /**
   * Writes `data` in pieces of random size, so frames straddle chunks (and UTF-8 sequences).
   * Stops early if the daemon closes the connection (a stream method took it over).
   */
  async writeChunked(data: Buffer, rng: Prng): Promise<void> {
    for (let offset = 0; offset < data.length && !this.socket.destroyed;) {
      const size = rng.next() < 0.3 ? data.length : rng.int(1, 4096)
      const piece = data.subarray(offset, offset + size)
      offset += piece.length
      if (!this.socket.write(piece)) await this.until('drain')
    }
  }

  /** Resolves on `event`, or once the socket has closed (which `event` may never follow). */
  private until(event: string): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve()
      const done = (): void => {
        this.socket.off(event, done).off('close', done)
        resolve()
      }
      this.socket.once(event, done).once('close', done)
    })
  }

  /** Waits (bounded) for the daemon to close the connection, with no reply left unread. */
  async closedByDaemon(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.until('close'), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
    if (!this.closed) throw new Error(`the daemon kept the connection open for ${timeoutMs} ms after a stream refused its params`)
    expect(this.lines, 'replies after a stream took the connection over').to.deep.equal([])
  }

  /** Waits until `count` lines have arrived (bounded), and takes them. */
  async take(count: number, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs
    while (this.lines.length < count && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    if (this.lines.length < count) {
      const got = this.lines.map((text) => text.slice(0, 200)).join('\n')
      throw new Error(
        `got ${this.lines.length} of ${count} replies${this.closed ? ' before the daemon closed the connection' : ` within ${timeoutMs} ms`}:\n${got}`,
      )
    }
    return this.lines.splice(0, count)
  }
}

interface Frame {
  category: string
  bytes: Buffer
}

const line = (value: unknown): Buffer => Buffer.from(`${JSON.stringify(value)}\n`)

const randomId = (rng: Prng): number | string => (rng.next() < 0.5 ? rng.int(1, 1e9) : randomUnicode(rng, rng.int(1, 12)))

/** Envelope mistakes, batches, notifications and blank lines: the JSON-RPC rules themselves. */
function envelopeFrame(rng: Prng): Buffer {
  const id = randomId(rng)
  switch (rng.int(0, 11)) {
    case 0: {
      return line({method: 'health', id})
    }
    case 1: {
      return line({jsonrpc: rng.pick(['1.0', 2, null, '2.0 ']), method: 'health', id})
    }
    case 2: {
      return line({jsonrpc: '2.0', method: randomValue(rng, 1), id})
    }
    case 3: {
      return line({jsonrpc: '2.0', method: 'health', id: rng.pick([{}, [], true, [1]])})
    }
    case 4: {
      return line({jsonrpc: '2.0', method: 'health', params: rng.pick([1, 'x', true, null]), id})
    }
    case 5: {
      return line(request(rng.pick(['health', 'noSuchMethod', randomUnicode(rng, 5)]), undefined, rng.pick([undefined, null])))
    }
    case 6: {
      const element = (): unknown =>
        rng.pick([
          request('health', {}, randomId(rng)),
          request('health', {}, undefined),
          request('nope', {}, 1),
          [1],
          [],
          5,
          'x',
          null,
          {},
        ])
      if (rng.next() < 0.05) return line(Array.from({length: MAX_BATCH_REQUESTS + 1}, () => request('health', {}, 1)))
      return line(Array.from({length: rng.int(0, 6)}, element))
    }
    case 7: {
      return line(randomValue(rng, 0))
    }
    case 8: {
      return Buffer.from(rng.pick(['\n', '\r\n', '   \n', '\t\n']))
    }
    case 9: {
      return Buffer.from(`${JSON.stringify(request('health', {}, id))}\r\n`)
    }
    case 10: {
      return line(request(rng.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'rpc.discover', 'Health', '']), {}, id))
    }
    default: {
      return line({...request('health', {}, id), extra: randomValue(rng)})
    }
  }
}

function unicodeFrame(rng: Prng): Buffer {
  switch (rng.int(0, 3)) {
    case 0: {
      return line(request('health', {}, randomUnicode(rng, rng.int(1, 40))))
    }
    case 1: {
      return line(request(randomUnicode(rng, rng.int(1, 20)), {}, rng.int(1, 1e6)))
    }
    case 2: {
      return line(request('health', {[randomUnicode(rng, rng.int(1, 10))]: randomUnicode(rng, 10)}, rng.int(1, 1e6)))
    }
    default: {
      // Raw bytes that are not UTF-8 inside a JSON string: the daemon decodes them as U+FFFD.
      const text = JSON.stringify(request('health', {}, 'xx'))
      const at = text.indexOf('xx')
      return Buffer.concat([
        Buffer.from(text.slice(0, at)),
        rng.bytes(rng.int(1, 8)).map((b) => (b === 0x22 || b === 0x5c || b === 0x0a || b < 0x20 ? 0xff : b)),
        Buffer.from(`${text.slice(at + 2)}\n`),
      ])
    }
  }
}

function generateFrame(rng: Prng): Frame {
  const roll = rng.next()
  if (roll < 0.15) {
    const bytes = rng.bytes(rng.int(1, 200)).map((b) => (b === 0x0a ? 0x20 : b))
    return {category: 'random bytes', bytes: Buffer.concat([bytes, Buffer.from('\n')])}
  }
  if (roll < 0.2) return {category: 'random bytes with newlines', bytes: Buffer.concat([rng.bytes(rng.int(1, 300)), Buffer.from('\n')])}
  if (roll < 0.3) {
    const spec = rng.pick(METHODS)
    const text = JSON.stringify(request(spec.method.name, randomValue(rng), randomId(rng)))
    return {category: 'truncated JSON', bytes: Buffer.from(`${text.slice(0, rng.int(1, text.length - 1))}\n`)}
  }
  if (roll < 0.305) {
    const size = MAX_FRAME_BYTES + rng.int(1, 64 * 1024)
    const prefix = Buffer.from('{"jsonrpc":"2.0","method":"health","params":{"pad":"')
    return {category: 'oversized', bytes: Buffer.concat([prefix, Buffer.alloc(size - prefix.length, 0x61), Buffer.from('"},"id":1}\n')])}
  }
  if (roll < 0.31) return {category: 'deeply nested', bytes: Buffer.from(`${deeplyNested(rng, rng.pick([10, 1000, 10_000, 100_000]))}\n`)}
  if (roll < 0.6) {
    const spec = rng.pick(callable)
    return {category: `wrong params for ${spec.method.name}`, bytes: line(request(spec.method.name, wrongParams(rng, spec), randomId(rng)))}
  }
  if (roll < 0.75) return {category: 'unicode', bytes: unicodeFrame(rng)}
  if (roll < 0.95) return {category: 'envelope', bytes: envelopeFrame(rng)}
  if (roll < 0.955) {
    // A stream method owns its connection even with a bad envelope, so this is the last frame
    // of its connection that gets an answer; fuzzConnection opens a new one after it.
    const spec = rng.pick(streams)
    const frame = {
      ...request(spec.method.name, wrongParams(rng, spec), rng.pick([randomId(rng), undefined, null])),
      jsonrpc: rng.pick(['2.0', '1.0', undefined]),
    }
    return {category: `wrong params for ${spec.method.name}`, bytes: line(frame)}
  }
  return {category: 'health', bytes: line(request('health', {}, rng.int(1, 1e9)))}
}

function checkReply(text: string, expected: Expected, frame: Frame): void {
  const where = `${frame.category} frame ${JSON.stringify(frame.bytes.subarray(0, 160).toString('utf8'))}`
  let reply: Record<string, unknown>
  try {
    reply = JSON.parse(text) as Record<string, unknown>
  } catch {
    throw new Error(`reply to ${where} is not JSON: ${text.slice(0, 200)}`)
  }
  if (expected.kind === 'batch') {
    expect(reply, `reply to ${where}: ${text.slice(0, 300)}`)
      .to.be.an('array')
      .with.length(expected.count)
    for (const one of reply as unknown as Record<string, unknown>[]) {
      expect(one.jsonrpc).to.equal('2.0')
      expect('result' in one !== 'error' in one, `one of result and error in ${JSON.stringify(one)}`).to.equal(true)
    }
    return
  }
  expect(reply.jsonrpc, `jsonrpc of the reply to ${where}`).to.equal('2.0')
  expect(reply, `reply to ${where}`).to.have.property('id')
  if (expected.kind === 'takeover') {
    expect(reply.id, `id of the stream's refusal of ${where}`).to.equal(null)
  }
  if (expected.kind === 'result') {
    expect(reply, `reply to ${where}: ${text.slice(0, 300)}`).to.have.property('result')
    expect(reply.id, `id echoed in the reply to ${where}`).to.deep.equal(expected.id)
  } else {
    const error = reply.error as {code?: unknown; message?: unknown} | undefined
    expect(error?.code, `error code of the reply to ${where}: ${text.slice(0, 300)}`).to.equal(expected.code)
    expect(error?.message).to.be.a('string')
  }
}

/**
 * Sends `count` generated frames on one connection, round by round, checking every reply.
 * A round whose stream frame took the connection over ends it: the daemon must close it,
 * and the next round goes on a new one.
 */
async function fuzzConnection(socketPath: string, rng: Prng, count: number, tally: Map<string, number>): Promise<number> {
  let reader = await ReplyReader.open(socketPath)
  let replies = 0
  try {
    for (let sent = 0; sent < count; sent += FRAMES_PER_ROUND) {
      const frames = Array.from({length: Math.min(FRAMES_PER_ROUND, count - sent)}, () => generateFrame(rng))
      const expectations = frames.flatMap((frame) => expectedReplies(frame.bytes, contract).map((expected) => ({expected, frame})))
      // Nothing after a takeover is answered: the stream owns the connection from there.
      const takeover = expectations.findIndex(({expected}) => expected.kind === 'takeover')
      if (takeover !== -1) expectations.splice(takeover + 1)
      for (const frame of frames) tally.set(frame.category, (tally.get(frame.category) ?? 0) + 1)
      await reader.writeChunked(Buffer.concat(frames.map((frame) => frame.bytes)), rng)
      const texts = await reader.take(expectations.length).catch((error: Error) => {
        throw new Error(`${error.message}; this round sent: ${frames.map((f) => f.category).join(', ')}`)
      })
      texts.forEach((text, i) => checkReply(text, expectations[i].expected, expectations[i].frame))
      replies += texts.length
      if (expectations.at(-1)?.expected.kind === 'takeover') {
        await reader.closedByDaemon()
        tally.set('connections taken over', (tally.get('connections taken over') ?? 0) + 1)
        reader = await ReplyReader.open(socketPath)
      }
    }
    // Nothing extra may be waiting: the next reply must be this health call's.
    reader.socket.write(line(request('health', {}, 'last')))
    const [last] = await reader.take(1)
    expect(JSON.parse(last), 'the reply after the last round').to.include({id: 'last'})
    return replies
  } finally {
    reader.socket.destroy()
  }
}

describe('protocol fuzz', function () {
  this.timeout(120_000)
  let sandbox: Sandbox
  let pid: number

  before(async () => {
    sandbox = new Sandbox({HUMANLAYER_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES)})
    // Only rejected params reach a method, so nothing should launch; if one did, it finds no claude.
    pid = (await sandbox.startDaemon({HUMANLAYER_CLAUDE_PATH: path.join(sandbox.root, 'no-claude')})).pid
  })

  after(async () => {
    await sandbox.cleanup()
  })

  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(`protocol fuzz seed: ${seed} (rerun with HLD_FUZZ_SEED=${seed})`)
  })

  it(`answers each of ${FRAMES} generated frames as the contract says, and stays up with bounded memory`, async () => {
    const rng = new Prng(seed)
    // Warm up so the baseline RSS includes what any daemon grows to under traffic.
    await fuzzConnection(sandbox.socketPath, new Prng(seed ^ 0x5eed), 200, new Map())
    const rssBefore = rssMiB(pid)

    const tally = new Map<string, number>()
    const perConnection = FRAMES / CONNECTIONS
    const seeds = Array.from({length: CONNECTIONS}, () => rng.int(0, 2 ** 31))
    const replies = await Promise.all(seeds.map((s) => fuzzConnection(sandbox.socketPath, new Prng(s), perConnection, tally)))

    const sent = [...tally.values()].reduce((a, b) => a + b, 0)
    expect(sent).to.be.at.least(10_000)
    expect(replies.reduce((a, b) => a + b, 0)).to.be.greaterThan(sent * 0.8)
    for (const category of [
      'random bytes',
      'truncated JSON',
      'oversized',
      'deeply nested',
      'unicode',
      'envelope',
      'connections taken over',
    ]) {
      expect(tally.get(category) ?? 0, `frames of category ${category}`).to.be.greaterThan(0)
    }
    for (const spec of METHODS) expect(tally.get(`wrong params for ${spec.method.name}`) ?? 0, spec.method.name).to.be.greaterThan(0)

    const status = await sandbox.cli(['daemon', 'status', '--json'])
    expect(status.exitCode, status.stderr).to.equal(0)
    expect(Sandbox.json<{pid: number}>(status).pid).to.equal(pid)
    expect(rssMiB(pid) - rssBefore, `RSS growth in MiB (before: ${rssBefore.toFixed(1)})`).to.be.below(RSS_GROWTH_LIMIT_MIB)
  })

  it('answers a partial frame left at end of stream, and survives peers that vanish mid-frame', async () => {
    const rng = new Prng(seed ^ 0xc105e)
    for (let i = 0; i < 50; i++) {
      const reader = await ReplyReader.open(sandbox.socketPath)
      const text = JSON.stringify(request('health', {}, i))
      if (i % 2 === 0) {
        // Half-close after a frame without its newline: it still counts, as with Go's scanner.
        reader.socket.end(text.slice(0, rng.int(1, text.length)))
        const [reply] = await reader.take(1)
        expect(JSON.parse(reply)).to.satisfy(
          (r: {result?: unknown; error?: {code: number}}) => r.result !== undefined || r.error?.code === ErrorCode.ParseError,
        )
      } else {
        reader.socket.write(text.slice(0, rng.int(1, text.length)))
        reader.socket.destroy()
      }
    }
    const status = await sandbox.cli(['daemon', 'status', '--json'])
    expect(Sandbox.json<{pid: number}>(status).pid).to.equal(pid)
  })

  it('stops reading from a peer that does not read its replies, instead of buffering them', async () => {
    const requests = 200_000
    const reader = await ReplyReader.open(sandbox.socketPath)
    try {
      reader.socket.pause()
      reader.socket.write(Buffer.from(`{"jsonrpc":"2.0","method":"health","id":1}\n`.repeat(requests)))
      // Watch while the daemon takes our bytes: until it has all (it buffered every reply),
      // or it stops taking them (it waits for us to read), or 5 s pass.
      let last = reader.socket.writableLength
      let still = 0
      for (const deadline = Date.now() + 5000; Date.now() < deadline && reader.socket.writableLength > 0 && still < 25;) {
        await new Promise((resolve) => setTimeout(resolve, 20))
        still = reader.socket.writableLength === last ? still + 1 : 0
        last = reader.socket.writableLength
      }
      // The daemon stopped taking our requests while its replies went unread (the memory this
      // saves is a bench figure, not a test's: RSS ceilings flake under load).
      expect(reader.socket.writableLength, 'request bytes the daemon has not taken').to.be.above(0)
      reader.socket.resume()
      expect(await reader.take(requests, 60_000)).to.have.length(requests)
    } finally {
      reader.socket.destroy()
    }
  })
})

describe('protocol fuzz: the default frame limit', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  before(async () => {
    sandbox = new Sandbox()
    await sandbox.startDaemon()
  })

  after(async () => {
    await sandbox.cleanup()
  })

  it('refuses a frame just over 10 MiB with -32600 naming the limit, and keeps the connection', async () => {
    const reader = await ReplyReader.open(sandbox.socketPath)
    try {
      const limit = 10 * 1024 * 1024
      const prefix = Buffer.from('{"jsonrpc":"2.0","method":"health","params":{"pad":"')
      const suffix = Buffer.from('"},"id":1}')
      const frame = Buffer.concat([prefix, Buffer.alloc(limit + 1 - prefix.length - suffix.length, 0x61), suffix])
      expect(frame.length).to.equal(limit + 1)
      await reader.writeChunked(Buffer.concat([frame, Buffer.from('\n'), line(request('health', {}, 2))]), new Prng(seed))
      const [refused, health] = (await reader.take(2)).map(
        (text) => JSON.parse(text) as {id: unknown; error?: {code: number; message: string}},
      )
      expect(refused.error?.code).to.equal(ErrorCode.InvalidRequest)
      expect(refused.error?.message).to.include(String(limit))
      expect(health).to.include({id: 2}).and.to.have.property('result')
    } finally {
      reader.socket.destroy()
    }
  })
})
