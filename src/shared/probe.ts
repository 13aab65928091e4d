/**
 * Asking whoever listens on a socket who they are, before starting a daemon there, removing a
 * stale socket file, or after stopping one. The daemon needs this as much as the CLI does, so it
 * is a single health request on a raw connection rather than the CLI's client (src/client).
 */

import {Health, type HealthResult} from '../protocol/daemon.js'
import {LineDecoder, encodeFrame} from '../protocol/framing.js'
import {DaemonUnreachableError, SocketPathError} from './errors.js'
import {checkListener, checkSocketTrust} from './socket-trust.js'

/** sun_path is 108 bytes on Linux and 104 on macOS, both including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'darwin' ? 103 : 107

const PROBE_TIMEOUT_MS = 3000

export function checkSocketPathLength(socketPath: string): void {
  const bytes = Buffer.byteLength(socketPath)
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new SocketPathError(
      `The socket path ${socketPath} is ${bytes} bytes long; this OS allows at most ${MAX_SOCKET_PATH_BYTES}. ` +
        'Set a shorter path with --socket or HUMANLAYER_DAEMON_SOCKET.',
    )
  }
}

/**
 * Resolves undefined when nobody listens, the daemon's health when hld answers, and `{}` when
 * something accepts connections but does not answer like hld (still not ours to delete).
 */
export async function probeDaemon(socketPath: string): Promise<Partial<HealthResult> | undefined> {
  checkSocketTrust(socketPath)
  return new Promise((resolve, reject) => {
    // Loaded here: the commands that load this module to start a daemon rarely do (see client/fd-socket.ts).
    const socket = process.getBuiltinModule('node:net').createConnection({path: socketPath})
    const finish = (outcome: Partial<HealthResult> | undefined): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(outcome)
    }
    const timer = setTimeout(() => finish({}), PROBE_TIMEOUT_MS)
    const decoder = new LineDecoder({
      maxFrameBytes: 1024 * 1024,
      onLine: (line) => {
        try {
          const reply = JSON.parse(line) as {id?: unknown; result?: Partial<HealthResult>}
          finish(reply.id === 1 && reply.result ? reply.result : {})
        } catch {
          finish({})
        }
      },
      onOversize: () => finish({}),
    })
    socket.on('connect', () => {
      const stranger = checkListener(socketPath, socket)
      if (stranger) {
        clearTimeout(timer)
        socket.destroy()
        reject(stranger)
      } else {
        socket.write(encodeFrame({jsonrpc: '2.0', id: 1, method: Health.name, params: {}}))
      }
    })
    socket.on('data', (chunk: Buffer) => decoder.push(chunk))
    socket.on('end', () => finish({}))
    socket.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      socket.destroy()
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') resolve(undefined)
      else if (error.code === 'EPIPE' || error.code === 'ECONNRESET') resolve({})
      else reject(new DaemonUnreachableError(socketPath, error.message))
    })
  })
}
