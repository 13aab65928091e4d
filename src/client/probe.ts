import {Health, type HealthResult} from '../protocol/daemon.js'
import {DaemonNotRunningError, SocketPathError} from './errors.js'
import {DaemonClient} from './index.js'

/** sun_path is 108 bytes on Linux and 104 on macOS, both including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = process.platform === 'darwin' ? 103 : 107

export function checkSocketPathLength(socketPath: string): void {
  const bytes = Buffer.byteLength(socketPath)
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new SocketPathError(
      `The socket path ${socketPath} is ${bytes} bytes long; this OS allows at most ${MAX_SOCKET_PATH_BYTES}. ` +
        'Set a shorter path with --socket or HUMANLAYER_DAEMON_SOCKET.',
    )
  }
}

/** Asks whoever listens on the socket who they are; resolves undefined when nobody does. */
export async function probeDaemon(socketPath: string): Promise<Partial<HealthResult> | undefined> {
  let client: DaemonClient
  try {
    client = await DaemonClient.connect(socketPath, {timeoutMs: 1000})
  } catch (error) {
    if (error instanceof DaemonNotRunningError) return undefined
    throw error
  }
  try {
    return await client.call(Health, {}, {timeoutMs: 2000})
  } catch {
    // Something accepts connections but does not answer like hld: still not ours to delete.
    return {}
  } finally {
    client.close()
  }
}
