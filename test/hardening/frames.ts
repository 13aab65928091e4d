/**
 * Frame generators for the protocol fuzz suite, and the contract model that says what the
 * daemon must answer to any bytes. Everything is driven by one seeded PRNG, so a failing
 * run is reproduced by its seed (HLD_FUZZ_SEED).
 */
import {ErrorCode} from '../../src/protocol/errors.js'
import type {MethodSpec} from '../../src/protocol/methods.schema.js'

/** mulberry32: small, fast, and good enough to spread inputs; not for anything secret. */
export class Prng {
  constructor(private state: number) {}

  next(): number {
    this.state = (this.state + 0x6d_2b_79_f5) | 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }

  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]
  }

  bytes(length: number): Buffer {
    const out = Buffer.alloc(length)
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255)
    return out
  }
}

/**
 * What one frame must get back, in order on its connection. `takeover` is a stream method
 * (`Subscribe`) refusing its params: one error frame with id null, then the daemon closes
 * the connection and answers nothing sent after it.
 */
export type Expected =
  {kind: 'result'; id: unknown} | {kind: 'error'; code: number} | {kind: 'batch'; count: number} | {kind: 'takeover'; code: number}

export interface ContractOptions {
  maxFrameBytes: number
  maxBatchRequests: number
  methods: MethodSpec[]
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The contract, applied to a byte stream: split on `\n`; a blank line (or a lone `\r`) gets
 * nothing; a line over the limit gets -32600; a line that is not JSON gets -32700; a batch
 * (array) of 1 to maxBatchRequests elements gets one array holding a reply for each element
 * that is not a notification, or nothing if all are; any other batch, and anything but a
 * JSON-RPC 2.0 request object, gets -32600; a request without an id (or with id null, as
 * jayson counts it) is a notification and gets nothing; an unknown method gets -32601,
 * params the method's schema rejects get -32602, and the rest a result that echoes the id.
 * A stream method is looked at before any of the envelope rules (as hld does): an object
 * naming it owns the connection from then on, whatever its jsonrpc and id. The model covers
 * only the stream refusing its params; a live subscription is never part of a fuzzed stream.
 */
export function expectedReplies(stream: Buffer, options: ContractOptions): Expected[] {
  const expected: Expected[] = []
  let start = 0
  while (start < stream.length) {
    let end = stream.indexOf(0x0a, start)
    if (end === -1) end = stream.length
    const one = expectedForLine(stream.subarray(start, end), options)
    if (one) expected.push(one)
    if (one?.kind === 'takeover') break
    start = end + 1
  }
  return expected
}

function isRequest(value: unknown): value is Record<string, unknown> {
  return (
    isObject(value) &&
    value.jsonrpc === '2.0' &&
    typeof value.method === 'string' &&
    // null params are absent params (Go clients send them).
    (value.params === undefined || typeof value.params === 'object') &&
    (value.id === undefined || value.id === null || typeof value.id === 'string' || typeof value.id === 'number')
  )
}

const isNotification = (value: unknown): boolean => isRequest(value) && (value.id === undefined || value.id === null)

function expectedForLine(raw: Buffer, options: ContractOptions): Expected | undefined {
  if (raw.length > options.maxFrameBytes) return {kind: 'error', code: ErrorCode.InvalidRequest}
  let line = raw.toString('utf8')
  if (line.endsWith('\r')) line = line.slice(0, -1)
  if (line.trim() === '') return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch {
    return {kind: 'error', code: ErrorCode.ParseError}
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0 || parsed.length > options.maxBatchRequests) return {kind: 'error', code: ErrorCode.InvalidRequest}
    const count = parsed.filter((element) => !isNotification(element)).length
    return count === 0 ? undefined : {kind: 'batch', count}
  }
  const object = isObject(parsed) ? parsed : undefined
  const stream = object && options.methods.find((candidate) => candidate.stream && candidate.method.name === object.method)
  if (stream) {
    if (stream.params.safeParse(object.params ?? {}).success)
      throw new Error(`${stream.method.name} with valid params would subscribe; the fuzz model does not cover a live stream`)
    return {kind: 'takeover', code: ErrorCode.InvalidParams}
  }
  if (!isRequest(parsed)) return {kind: 'error', code: ErrorCode.InvalidRequest}
  if (parsed.id === undefined || parsed.id === null) return undefined
  const spec = options.methods.find((candidate) => candidate.method.name === parsed.method)
  if (!spec) return {kind: 'error', code: ErrorCode.MethodNotFound}
  if (!spec.params.safeParse(parsed.params ?? {}).success) return {kind: 'error', code: ErrorCode.InvalidParams}
  return {kind: 'result', id: parsed.id}
}

const WEIRD_STRINGS = [
  '',
  ' ',
  '\u0000',
  'é',
  '日本語',
  '🦀🔥',
  '\u202Eevil',
  '\uD800',
  '\uDFFF',
  '\uFEFF',
  '\u2028\u2029',
  'a'.repeat(1000),
  '"\\',
  '</script>',
  '__proto__',
  'constructor',
]

/** A JSON value of a random type, nested at most `depth` levels. */
export function randomValue(rng: Prng, depth = 2): unknown {
  switch (rng.int(0, depth > 0 ? 9 : 7)) {
    case 0: {
      return null
    }
    case 1: {
      return rng.next() < 0.5
    }
    case 2: {
      return rng.int(-1e6, 1e6)
    }
    case 3: {
      return rng.pick([0, -0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 53])
    }
    case 4:
    case 5: {
      return rng.pick(WEIRD_STRINGS)
    }
    case 6: {
      return randomUnicode(rng, rng.int(0, 20))
    }
    case 7: {
      return []
    }
    case 8: {
      return Array.from({length: rng.int(0, 4)}, () => randomValue(rng, depth - 1))
    }
    default: {
      const out: Record<string, unknown> = {}
      for (let i = rng.int(0, 4); i > 0; i--) out[randomUnicode(rng, rng.int(1, 6))] = randomValue(rng, depth - 1)
      return out
    }
  }
}

/** Code points from every plane, lone surrogates included (JSON.stringify escapes them). */
export function randomUnicode(rng: Prng, length: number): string {
  let out = ''
  for (let i = 0; i < length; i++) {
    const range = rng.pick([
      [0x20, 0x7e],
      [0x00, 0x1f],
      [0x80, 0x7ff],
      [0x800, 0xffff],
      [0x1_00_00, 0x10_ff_ff],
    ] as const)
    out += String.fromCodePoint(rng.int(range[0], range[1]))
  }
  return out
}

export function request(method: string, params: unknown, id: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {jsonrpc: '2.0', method}
  if (params !== undefined) out.params = params
  if (id !== undefined) out.id = id
  return out
}

/**
 * Params of the wrong shape for a method: non-objects, arrays, its own fields given values
 * of random types, unknown fields. Only params the method's schema rejects are returned, so
 * a method like `shutdown` is never actually called.
 */
export function wrongParams(rng: Prng, spec: MethodSpec): unknown {
  const shape = (spec.params as {shape?: Record<string, unknown>}).shape ?? {}
  const fields = Object.keys(shape)
  for (let attempt = 0; attempt < 1000; attempt++) {
    let params: unknown
    const variant = rng.int(0, 3)
    if (variant === 0) params = randomValue(rng, 1)
    else if (variant === 1) params = Array.from({length: rng.int(0, 3)}, () => randomValue(rng, 1))
    else {
      const out: Record<string, unknown> = {}
      for (const field of fields) if (rng.next() < 0.7) out[field] = randomValue(rng)
      if (variant === 3 || fields.length === 0) out[randomUnicode(rng, rng.int(1, 8))] = randomValue(rng)
      params = out
    }
    // `null` params mean "none" to the router; a non-rejected value would be a real call.
    if (params !== null && params !== undefined && !spec.params.safeParse(params).success) return params
  }
  throw new Error(
    `The params schema of ${spec.method.name} accepted 1000 random values; a params schema should reject anything but an object of its fields`,
  )
}

/** `[[[…]]]` or `{"a":{"a":…}}`, `depth` levels deep, optionally as a request's params. */
export function deeplyNested(rng: Prng, depth: number): string {
  const nested = rng.next() < 0.5 ? '['.repeat(depth) + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
  switch (rng.int(0, 2)) {
    case 0: {
      return nested
    }
    case 1: {
      return `{"jsonrpc":"2.0","method":"health","params":${nested},"id":${rng.int(1, 1e6)}}`
    }
    default: {
      return `{"jsonrpc":"2.0","method":"health","params":{"x":${nested}},"id":${rng.int(1, 1e6)}}`
    }
  }
}
