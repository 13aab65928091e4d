/**
 * Who is at the other end of a Unix socket connection, as the kernel knows it: the pid, uid and
 * gid it recorded when the peer called connect() (SO_PEERCRED on Linux, getpeereid and
 * LOCAL_PEERPID on macOS). Nothing a client says about itself can change it. Read through
 * hld's small native addon (native/peercred.c, built by `npm install` with node-gyp), which also
 * holds the other socket calls node does not offer without node:net (socketAddon).
 */
import type net from 'node:net'
import path from 'node:path'

import {packageRoot} from './package-root.js'

export interface Peer {
  pid: number
  uid: number
  gid: number
}

/** A poll handle of the addon's (opaque). */
export type ReadableWatch = {readonly __brand: 'ReadableWatch'}

/** native/peercred.c's functions. */
export interface SocketAddon {
  peerCredentials(fd: number): [number, number, number] | null
  /** A blocking, connected socket's fd, or -errno. */
  connectUnix(socketPath: string, timeoutMs: number): number
  /** Calls `onReadable` on the event loop whenever fd is readable (status < 0: -errno of a failure), until unwatch. */
  watchReadable(fd: number, onReadable: (status: number) => void): ReadableWatch
  /** Stops a watch: before the fd is closed. */
  unwatch(watch: ReadableWatch): void
  isatty(fd: number): boolean
}

let addon: SocketAddon | undefined
let loadError: string | undefined

/** The addon; undefined when this installation has none that loads (peerIdentityProblem says why). */
export function socketAddon(): SocketAddon | undefined {
  if (addon || loadError) return addon
  const file = path.join(packageRoot(), 'build', 'Release', 'peercred.node')
  try {
    // What require() does with a .node file, without its resolution (package scopes, exports), which costs more than the dlopen.
    const module = {exports: {} as SocketAddon}
    process.dlopen(module, file)
    addon = module.exports
  } catch (error) {
    loadError = `cannot load ${file} (${(error as Error).message}); rebuild it with \`npm rebuild hld\` or \`npm install\``
  }
  return addon
}

/** Why peerOf cannot answer on this installation; undefined when it can. */
export function peerIdentityProblem(): string | undefined {
  socketAddon()
  return loadError
}

/** The connected peer's credentials; null when the OS or the installation cannot tell. */
export function peerOf(socket: net.Socket | {readonly fd: number}): Peer | null {
  // A Unix socket's handle (a Pipe) exposes its file descriptor; a TCP or in-memory stream may not.
  const fd = 'fd' in socket ? socket.fd : (socket as unknown as {_handle?: {fd?: unknown}})._handle?.fd
  if (typeof fd !== 'number' || fd < 0) return null
  const credentials = socketAddon()?.peerCredentials(fd)
  if (!credentials) return null
  const [pid, uid, gid] = credentials
  return pid > 0 ? {pid, uid, gid} : null
}
