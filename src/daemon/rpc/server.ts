/**
 * The socket side of JSON-RPC: newline framing, per-connection ordering, stream methods that
 * take a connection over (`Subscribe`), and a graceful close. jayson (through the Router)
 * validates the envelope and dispatches; this file never looks inside a method.
 */
import {chmodSync} from 'node:fs'
import {unlink} from 'node:fs/promises'
import net from 'node:net'

import type jayson from 'jayson'

import {ErrorCode, RpcError} from '../../protocol/errors.js'
import {LineDecoder, encodeFrame} from '../../protocol/framing.js'
import type {Logger} from '../../shared/logger.js'
import {peerOf} from '../../shared/peer.js'
import {settlesWithin} from '../../shared/timers.js'
import type {ConnectionState, HandlerContext, Router} from './router.js'

/** A connection handed to a stream method: it may only be written to from now on. */
export interface StreamConnection {
  /** Writes one frame; false when the peer is not keeping up (the kernel buffer is full). */
  send(message: unknown): boolean
  /** Writes frames already encoded (each ending in `\n`), so a fan-out encodes once. */
  sendEncoded(frames: string | Buffer): boolean
  /** Calls back once, when everything queued has been handed to the kernel. */
  onDrain(listener: () => void): void
  /** Bytes queued for the peer and not yet taken by the kernel. */
  readonly pendingBytes: number
  /** Ends the stream after what is queued; a peer that does not read it within a grace period is cut off. */
  close(): void
  readonly signal: AbortSignal
}

export type StreamHandler = (params: unknown, connection: StreamConnection) => void

export interface RpcServerOptions {
  socketPath: string
  maxFrameBytes: number
  /** Connections served in full; up to HEALTH_ONLY_CONNECTIONS more may still call `health`. */
  maxConnections?: number
  /** Bytes of unfinished frames held across all connections; the connection that goes over is refused. */
  maxPendingFrameBytes?: number
  /** A connection that leaves a frame unfinished this long is refused. */
  frameIdleTimeoutMs?: number
  router: Router
  /** Methods that own their connection after the first reply (hld's `Subscribe`). */
  streams?: Record<string, StreamHandler>
  log: Logger
}

/** Stop reading from a connection whose requests pile up faster than we answer them. */
const MAX_QUEUED_REQUESTS = 64
/** How long a closed stream may take to hand its last frames to a peer that is not reading. */
const STREAM_CLOSE_GRACE_MS = 5000
/** A batch is answered in one reply line; this keeps that line (and the work behind it) bounded. */
export const MAX_BATCH_REQUESTS = 1000
/** Past max_connections, this many more connections are accepted for `health` alone, so a monitor still gets in. */
export const HEALTH_ONLY_CONNECTIONS = 16
/** How long a health-only connection may stay open. */
const HEALTH_ONLY_IDLE_MS = 5000
const DEFAULT_MAX_CONNECTIONS = 512
const DEFAULT_MAX_PENDING_FRAME_BYTES = 64 * 1024 * 1024
const DEFAULT_FRAME_IDLE_TIMEOUT_MS = 30_000

export class RpcServer {
  private readonly server: net.Server
  private readonly connections = new Set<net.Socket>()
  private readonly inFlight = new Set<Promise<void>>()
  private readonly dispatcher
  /** Connections past max_connections, which only `health` is answered on. */
  private healthOnly = 0
  /** Bytes of unfinished frames held across every connection. */
  private pendingFrameBytes = 0

  constructor(private readonly options: RpcServerOptions) {
    this.dispatcher = options.router.dispatcher()
    // Half-open so a client may send its request, end its side, and still read the reply.
    this.server = net.createServer({allowHalfOpen: true}, (socket) => this.accept(socket))
  }

  async listen(): Promise<void> {
    // The socket must be 0600 from the moment it exists, so create it under a tight umask.
    const previous = process.umask(0o177)
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject)
        this.server.listen(this.options.socketPath, () => {
          this.server.off('error', reject)
          resolve()
        })
      })
    } finally {
      process.umask(previous)
    }
    // Synchronous: an asynchronous call would start libuv's thread pool before the first health answer.
    chmodSync(this.options.socketPath, 0o600)
  }

  /** Stops accepting, lets requests in flight finish (bounded), closes every connection. */
  async close(timeoutMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()))
    const drained = Promise.allSettled([...this.inFlight])
    await settlesWithin(drained, timeoutMs)
    for (const socket of this.connections) socket.destroy()
    await closed
    await unlink(this.options.socketPath).catch(() => {})
  }

  get connectionCount(): number {
    return this.connections.size
  }

  private accept(socket: net.Socket): void {
    const maxConnections = this.options.maxConnections ?? DEFAULT_MAX_CONNECTIONS
    const limited = this.connections.size - this.healthOnly >= maxConnections
    if (limited && this.healthOnly >= HEALTH_ONLY_CONNECTIONS) {
      socket.destroy()
      return
    }
    if (limited) {
      this.healthOnly++
      socket.once('close', () => this.healthOnly--)
      socket.setTimeout(HEALTH_ONLY_IDLE_MS, () => socket.destroy())
    }
    this.connections.add(socket)
    // Fixed when the peer connected; read once, so every request on this connection carries it.
    const peer = peerOf(socket)
    const abort = new AbortController()
    const connection: ConnectionState = {frames: 0}
    const context = (): HandlerContext => {
      connection.frames++
      return {signal: abort.signal, peer, connection}
    }
    let queue = Promise.resolve()
    let queued = 0
    let streaming = false

    const write = (message: unknown): boolean => {
      if (socket.destroyed || !socket.writable) return false
      // Replies made in one burst (pipelined requests, a run of events) leave in one write
      // call instead of one each; a lone reply still leaves before the next I/O turn.
      if (socket.writableCorked === 0) {
        socket.cork()
        process.nextTick(() => socket.uncork())
      }
      const flowing = socket.write(encodeFrame(message))
      // A peer that sends requests but does not read the replies would have us buffer them
      // without bound: stop reading its requests until it has taken what we wrote. (A stream
      // watches `pendingBytes` itself, and its reads must go on so a hang-up is noticed.)
      if (!flowing && !streaming) socket.pause()
      return flowing
    }

    /** Reads again once both our queue of requests and the peer's backlog of replies are short. */
    const resumeIfIdle = (): void => {
      if (queued <= MAX_QUEUED_REQUESTS / 4 && !streaming && !socket.writableNeedDrain) socket.resume()
    }
    socket.on('drain', resumeIfIdle)

    const enqueue = (work: () => Promise<void>): void => {
      queued++
      if (queued > MAX_QUEUED_REQUESTS) socket.pause()
      const failed = (error: unknown): void => {
        // A reply that cannot be written must not stall every later request on this connection.
        this.options.log.error('request handling failed', {error})
        write({jsonrpc: '2.0', error: {code: ErrorCode.InternalError, message: `Internal error: ${(error as Error).message}`}, id: null})
      }
      const task = queue
        .then(work)
        .catch(failed)
        .finally(() => {
          queued--
          this.inFlight.delete(task)
          resumeIfIdle()
        })
      this.inFlight.add(task)
      queue = task
    }

    const decoder = new LineDecoder({
      maxFrameBytes: this.options.maxFrameBytes,
      onLine: (line) => {
        if (streaming) return // hld ignores what a subscriber writes after Subscribe
        if (limited) {
          enqueue(async () => {
            if (isHealthCall(line)) await this.handleLine(line, write, socket, context())
            else write({jsonrpc: '2.0', error: tooManyConnections(maxConnections).toJSON(), id: null})
            socket.end()
          })
          return
        }
        enqueue(async () => {
          if (streaming) return
          streaming = await this.handleLine(line, write, socket, context())
        })
      },
      onOversize: (bytes) => {
        const message = `Frame of ${bytes} bytes exceeds the limit of ${this.options.maxFrameBytes} bytes (max_frame_bytes); it was discarded`
        enqueue(() => {
          connection.frames++
          write({jsonrpc: '2.0', error: new RpcError(ErrorCode.InvalidRequest, message).toJSON(), id: null})
          return Promise.resolve()
        })
      },
    })

    // Unfinished frames are held in memory: bounded across connections, and in time.
    const maxPending = this.options.maxPendingFrameBytes ?? DEFAULT_MAX_PENDING_FRAME_BYTES
    const idleMs = this.options.frameIdleTimeoutMs ?? DEFAULT_FRAME_IDLE_TIMEOUT_MS
    let held = 0
    const account = (): void => {
      this.pendingFrameBytes += decoder.buffered - held
      held = decoder.buffered
    }
    const refuse = (message: string): void => {
      decoder.discard()
      account()
      socket.removeAllListeners('data')
      socket.pause()
      this.options.log.warn('refused a connection holding an unfinished frame', {reason: message})
      write({jsonrpc: '2.0', error: new RpcError(ErrorCode.InvalidRequest, message).toJSON(), id: null})
      socket.end()
      setTimeout(() => socket.destroy(), STREAM_CLOSE_GRACE_MS).unref()
    }
    const idle = setTimeout(() => {
      if (decoder.buffered === 0) return
      refuse(
        `A frame of ${decoder.buffered} bytes stayed unfinished (no newline) for ${idleMs} ms (frame_idle_timeout_ms); ` +
          'it was discarded and the connection closed. End every request with a newline.',
      )
    }, idleMs).unref()
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk)
      account()
      if (held > 0 && this.pendingFrameBytes > maxPending) {
        refuse(
          `The daemon holds ${this.pendingFrameBytes} bytes of unfinished frames across its connections, over max_pending_frame_bytes ` +
            `(${maxPending}); this connection's frame of ${held} bytes was discarded and the connection closed. Send complete lines, or retry later.`,
        )
        return
      }
      // Re-armed by every chunk: only a frame that stops growing times out.
      if (held > 0) idle.refresh()
    })
    socket.on('end', () => {
      decoder.end()
      account()
      // Answer everything already received, then finish our side, unless a stream owns it.
      // A stream ends when its peer hangs up (hld treats EOF as the end of a subscription).
      void queue.then(() => {
        if (streaming) socket.destroy()
        else socket.end()
      })
    })
    socket.on('error', (error) => this.options.log.debug('connection error', {error: error.message}))
    socket.on('close', () => {
      abort.abort()
      clearTimeout(idle)
      decoder.discard()
      account()
      this.connections.delete(socket)
    })
  }

  /** Answers one frame; returns true when a stream method took the connection over. */
  private async handleLine(
    line: string,
    write: (message: unknown) => boolean,
    socket: net.Socket,
    context: HandlerContext,
  ): Promise<boolean> {
    let request: unknown
    try {
      request = JSON.parse(line)
    } catch {
      write({jsonrpc: '2.0', error: {code: ErrorCode.ParseError, message: 'Parse error: the frame is not valid JSON'}, id: null})
      return false
    }
    const invalid = (message: string): false => {
      write({jsonrpc: '2.0', error: {code: ErrorCode.InvalidRequest, message}, id: null})
      return false
    }
    if (Array.isArray(request)) {
      if (request.length > MAX_BATCH_REQUESTS) {
        return invalid(`A batch of ${request.length} requests exceeds the limit of ${MAX_BATCH_REQUESTS}; send smaller batches`)
      }
      // jayson never answers a batch element that is itself an array, and so the whole batch
      // (and the connection behind it) would wait forever; null is an element it rejects.
      return this.dispatch(
        request.map((element: unknown) => (Array.isArray(element) ? null : withoutNullParams(element))),
        write,
        context,
      )
    }
    // jayson would parse a JSON string again, as a request of its own.
    if (!isObject(request)) return invalid('Invalid request: a frame holds a JSON-RPC 2.0 request object, or an array of them')
    withoutNullParams(request)

    // Own keys only: `toString` or `constructor` must not find Object.prototype's function,
    // which would be "called" as a stream and leave the connection silent.
    const streams = this.options.streams
    const stream =
      typeof request.method === 'string' && streams && Object.hasOwn(streams, request.method) ? streams[request.method] : undefined
    if (stream) {
      stream(request.params, {
        send: write,
        sendEncoded: (frames) => !socket.destroyed && socket.writable && socket.write(frames),
        onDrain: (listener) => void socket.once('drain', listener),
        get pendingBytes() {
          return socket.writableLength
        },
        close: () => {
          socket.end()
          setTimeout(() => socket.destroy(), STREAM_CLOSE_GRACE_MS).unref()
        },
        signal: context.signal,
      })
      return true
    }

    if (request.jsonrpc !== '2.0') {
      // Answered with the request's own id, so a client matching replies by id is not left waiting.
      // (A stream method is served whatever its version, as the Go hld does.)
      const id = typeof request.id === 'string' || typeof request.id === 'number' ? request.id : null
      const error = {code: ErrorCode.InvalidRequest, message: 'Invalid request: must be JSON-RPC 2.0 ("jsonrpc": "2.0")'}
      write({jsonrpc: '2.0', error, id})
      return false
    }
    return this.dispatch(request, write, context)
  }

  private async dispatch(request: unknown, write: (message: unknown) => boolean, context: HandlerContext): Promise<false> {
    const reply = await new Promise<unknown>((resolve) => {
      this.dispatcher.call(request as jayson.JSONRPCRequestLike, context, (error: unknown, response: unknown) => resolve(error ?? response))
    })
    if (reply !== undefined) write(withMethodName(reply, request))
    return false
  }
}

/** A bare `health` request (what a monitor sends), judged without trusting the rest of the frame. */
function isHealthCall(line: string): boolean {
  try {
    const request: unknown = JSON.parse(line)
    return isObject(request) && request.method === 'health'
  } catch {
    return false
  }
}

function tooManyConnections(max: number): RpcError {
  return new RpcError(
    ErrorCode.Unavailable,
    `The daemon already serves ${max} connections (max_connections), so this one answers only health. Close idle clients or raise max_connections.`,
  )
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Go clients marshal absent params as `null`: the same as no params. */
function withoutNullParams<T>(request: T): T {
  // The request was parsed from this frame: ours to change.
  if (isObject(request) && request.params === null) delete request.params
  return request
}

/** jayson says only "Method not found"; name the method, as hld does. */
function withMethodName(reply: unknown, request: unknown): unknown {
  if (isObject(reply) && isObject(reply.error) && reply.error.code === ErrorCode.MethodNotFound && isObject(request)) {
    return {...reply, error: {...reply.error, message: `Method not found: ${String(request.method)}`}}
  }
  return reply
}
