/**
 * The one JSON-RPC client for the daemon's socket: many concurrent calls on one connection,
 * matched to their replies by id, each with its own timeout. Errors keep their JSON-RPC code
 * (as `RpcError`) or become one of the errors in ./errors.ts, which say what to do.
 */
import type net from 'node:net'

import {RpcError, type RpcErrorObject} from '../protocol/errors.js'
import {DEFAULT_MAX_FRAME_BYTES, LineDecoder, encodeFrame} from '../protocol/framing.js'
import type {Method, ParamsOf, ResultOf} from '../protocol/method.js'
import {CallTimeoutError, DaemonNotRunningError, DaemonUnreachableError, ReplyTooLargeError} from '../shared/errors.js'
import {checkListener, checkSocketTrust} from '../shared/socket-trust.js'
import {connectFdSocket} from './fd-socket.js'

export * from '../shared/errors.js'

export const DEFAULT_CALL_TIMEOUT_MS = 30_000
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000
/** The largest reply a call can receive. */
export const MAX_REPLY_BYTES = DEFAULT_MAX_FRAME_BYTES * 4

interface Pending {
  method: string
  resolve: (value: unknown) => void
  reject: (error: Error) => void
  timer: NodeJS.Timeout
}

interface Response {
  id: number | string | null
  result?: unknown
  error?: RpcErrorObject
}

/** What a client reads and writes frames on: a socket, ssh's pipe, or an FdSocket (as much of a Duplex as they use). */
export interface Connection {
  on(event: 'data', listener: (chunk: Buffer) => void): this
  on(event: 'error', listener: (error: Error) => void): this
  on(event: 'close', listener: () => void): this
  write(data: string | Uint8Array): boolean
  end(): this
  destroy(): this
  pause(): this
  resume(): this
}

/**
 * Where a daemon is reached: this machine's socket, or another machine's over ssh
 * (./ssh.ts). Each `open()` is one new connection; `label` names it in errors.
 */
export interface Endpoint {
  readonly label: string
  open(timeoutMs?: number): Promise<Connection>
}

/**
 * How a connection to a local socket is made: node:net, or (`fd`: the lean entry's commands) the
 * native addon's socket without node:net's modules and streams (./fd-socket.ts).
 */
export type SocketTransport = 'net' | 'fd'

export function socketEndpoint(socketPath: string, transport: SocketTransport = 'net'): Endpoint {
  return {label: socketPath, open: (timeoutMs) => openSocket(socketPath, transport, timeoutMs)}
}

/** connectSocket's connection, made the `transport` way (node:net where the native addon is missing). */
export async function openSocket(
  socketPath: string,
  transport: SocketTransport,
  timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
): Promise<Connection> {
  checkSocketTrust(socketPath)
  const socket = transport === 'fd' ? connectFdSocket(socketPath, timeoutMs) : undefined
  if (!socket) return connectNetSocket(socketPath, timeoutMs)
  if (socket instanceof Error) {
    throw socket.code === 'EAGAIN'
      ? new DaemonUnreachableError(socketPath, `no connection within ${timeoutMs} ms`)
      : toConnectError(socketPath, socket)
  }
  const stranger = checkListener(socketPath, socket)
  if (!stranger) return socket
  socket.destroy()
  throw stranger
}

/**
 * Connects to a Unix socket, turning the usual failures into errors a person can act on. A socket
 * another user could have put there is refused before connecting (see socket-trust.ts), and a
 * listener the kernel says is another user (the path swapped after that check) right after.
 */
export async function connectSocket(socketPath: string, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS): Promise<net.Socket> {
  checkSocketTrust(socketPath)
  return connectNetSocket(socketPath, timeoutMs)
}

/** connectSocket once the socket's path is trusted. */
function connectNetSocket(socketPath: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // Loaded here, not at the top: the lean entry's commands connect without it (./fd-socket.ts).
    const socket = process.getBuiltinModule('node:net').createConnection({path: socketPath})
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new DaemonUnreachableError(socketPath, `no connection within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeAllListeners('error')
      const stranger = checkListener(socketPath, socket)
      if (stranger) {
        socket.destroy()
        reject(stranger)
      } else {
        resolve(socket)
      }
    })
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(toConnectError(socketPath, error))
    })
  })
}

function toConnectError(socketPath: string, error: NodeJS.ErrnoException): Error {
  switch (error.code) {
    case 'ENOENT':
    case 'ECONNREFUSED': {
      return new DaemonNotRunningError(socketPath)
    }
    case 'EACCES':
    case 'EPERM': {
      return new DaemonUnreachableError(socketPath, 'permission denied: the socket belongs to another user or its directory is not yours')
    }
    case 'ENOTSOCK':
    case 'ENOTDIR': {
      return new DaemonUnreachableError(socketPath, 'the path is not a socket; check --socket or HUMANLAYER_DAEMON_SOCKET')
    }
    default: {
      return new DaemonUnreachableError(socketPath, error.message)
    }
  }
}

export class DaemonClient {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private closedError: Error | undefined

  /** The socket path or ssh:// address, for error messages. */
  readonly socketPath: string

  private constructor(
    private readonly socket: Connection,
    /** Where this client is connected: a stream method (Subscribe) opens its own connection there. */
    readonly endpoint: Endpoint,
  ) {
    const socketPath = endpoint.label
    this.socketPath = socketPath
    const decoder = new LineDecoder({
      maxFrameBytes: MAX_REPLY_BYTES,
      onLine: (line) => this.onFrame(line),
      // Which call it answered is lost with the frame: fail them all rather than leave one to
      // time out, and close, so no later reply can be matched to the wrong call.
      onOversize: (bytes) => {
        this.failAll(new ReplyTooLargeError(socketPath, bytes, MAX_REPLY_BYTES))
        socket.destroy()
      },
    })
    socket.on('data', (chunk: Buffer) => decoder.push(chunk))
    // A transport's own errors (ssh's) already say where and what; a socket's get that said.
    socket.on('error', (error) => this.failAll(error.name === 'Error' ? new DaemonUnreachableError(socketPath, error.message) : error))
    socket.on('close', () => this.failAll(new DaemonUnreachableError(socketPath, 'the daemon closed the connection (did it stop?)')))
  }

  static async connect(target: string | Endpoint, options: {timeoutMs?: number} = {}): Promise<DaemonClient> {
    const endpoint = typeof target === 'string' ? socketEndpoint(target) : target
    return new DaemonClient(await endpoint.open(options.timeoutMs), endpoint)
  }

  call<M extends Method<unknown, unknown>>(method: M, params: ParamsOf<M>, options: {timeoutMs?: number} = {}): Promise<ResultOf<M>> {
    if (this.closedError) return Promise.reject(this.closedError)
    const id = this.nextId++
    const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new CallTimeoutError(method.name, timeoutMs, this.socketPath))
      }, timeoutMs)
      this.pending.set(id, {method: method.name, resolve: resolve as (value: unknown) => void, reject, timer})
      this.socket.write(encodeFrame({jsonrpc: '2.0', method: method.name, params: params ?? {}, id}))
    })
  }

  close(): void {
    this.failAll(new DaemonUnreachableError(this.socketPath, 'the client was closed'))
    this.socket.end()
    this.socket.destroy()
  }

  private onFrame(line: string): void {
    let response: Response
    try {
      response = JSON.parse(line) as Response
    } catch {
      return // Not ours to answer; a well-behaved daemon never sends this.
    }
    if (typeof response.id !== 'number') return
    const pending = this.pending.get(response.id)
    if (!pending) return
    this.pending.delete(response.id)
    clearTimeout(pending.timer)
    if (response.error) pending.reject(RpcError.from(response.error))
    else pending.resolve(response.result)
  }

  private failAll(error: Error): void {
    this.closedError ??= error
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer)
      pending.reject(error)
      this.pending.delete(id)
    }
  }
}
