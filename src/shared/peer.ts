/**
 * Who is at the other end of a Unix socket connection, as the kernel knows it: the pid, uid and
 * gid it recorded when the peer called connect() (SO_PEERCRED on Linux, getpeereid and
 * LOCAL_PEERPID on macOS). Nothing a client says about itself can change it. Read through a
 * small native addon (native/peercred.c, built by `npm install` with node-gyp).
 */
import {createRequire} from 'node:module'
import type net from 'node:net'
import path from 'node:path'

import {packageRoot} from './package-root.js'

export interface Peer {
  pid: number
  uid: number
  gid: number
}

interface PeerCredAddon {
  peerCredentials(fd: number): [number, number, number] | null
}

let addon: PeerCredAddon | undefined
let loadError: string | undefined

function loadAddon(): PeerCredAddon | undefined {
  if (addon || loadError) return addon
  const file = path.join(packageRoot(), 'build', 'Release', 'peercred.node')
  try {
    addon = createRequire(import.meta.url)(file) as PeerCredAddon
  } catch (error) {
    loadError = `cannot load ${file} (${(error as Error).message}); rebuild it with \`npm rebuild hld\` or \`npm install\``
  }
  return addon
}

/** Why peerOf cannot answer on this installation; undefined when it can. */
export function peerIdentityProblem(): string | undefined {
  loadAddon()
  return loadError
}

/** The connected peer's credentials; null when the OS or the installation cannot tell. */
export function peerOf(socket: net.Socket): Peer | null {
  // A Unix socket's handle (a Pipe) exposes its file descriptor; a TCP or in-memory stream may not.
  const fd = (socket as unknown as {_handle?: {fd?: unknown}})._handle?.fd
  if (typeof fd !== 'number' || fd < 0) return null
  const credentials = loadAddon()?.peerCredentials(fd)
  if (!credentials) return null
  const [pid, uid, gid] = credentials
  return pid > 0 ? {pid, uid, gid} : null
}
