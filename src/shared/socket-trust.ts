/**
 * Whether a socket path leads to this user's own daemon, checked before connecting (and so
 * before anything is sent to it or any pid it reports is signalled). Another user who can
 * create files where the socket lives could otherwise pose as the daemon: receive launches,
 * show fake approvals, and name a pid for `daemon stop --force` to kill.
 *
 * - The socket must be owned by us.
 * - Its directory must be owned by us or root, and not writable by others, except a sticky
 *   directory of our own (nobody else can remove or rename what we put there). A root-owned
 *   sticky directory such as /tmp is not enough: anyone may create the name first. hld puts the
 *   socket in a 0700 directory of its own there instead.
 * - Once connected, the kernel's word on who listens (SO_PEERCRED) must be us or root too, in case
 *   the path changed between the check and the connect.
 */
import {lstatSync, readFileSync, type Stats, statSync} from 'node:fs'
import type net from 'node:net'
import path from 'node:path'

import {peerOf} from './peer.js'
import {SocketPathError} from './errors.js'

const STICKY = 0o1000
const WRITABLE_BY_OTHERS = 0o022

/** Throws SocketPathError naming the path and its owner when the socket cannot be trusted; nothing to check when it does not exist. */
export function checkSocketTrust(socketPath: string): void {
  const uid = process.getuid?.()
  if (uid === undefined) return // Windows: no owners to compare; named pipes are per-user anyway.
  let socket: Stats
  try {
    socket = lstatSync(socketPath)
  } catch {
    return // Nothing there (yet): connecting says so.
  }
  if (socket.isSymbolicLink()) {
    throw new SocketPathError(
      `The socket path ${socketPath} is a symbolic link (owned by ${owner(socket.uid)}); refusing to use it. Remove it or choose another path.`,
    )
  }
  if (socket.uid !== uid) {
    throw new SocketPathError(
      `The socket ${socketPath} is owned by ${owner(socket.uid)}, not by you (${owner(uid)}): another user may be posing as the daemon. ` +
        'Refusing to connect. Remove it if you trust its directory, or use a socket in a directory of your own (--socket or HUMANLAYER_DAEMON_SOCKET).',
    )
  }
  checkSocketDirectory(socketPath)
}

/**
 * The directory half of checkSocketTrust, also what the daemon checks before it listens: a
 * socket the client would refuse must not be created in the first place.
 */
export function checkSocketDirectory(socketPath: string): void {
  const uid = process.getuid?.()
  if (uid === undefined) return
  const dir = path.dirname(socketPath)
  let stats: Stats
  try {
    stats = statSync(dir)
  } catch {
    return // Not there yet: the daemon creates it 0700.
  }
  if (stats.uid !== uid && stats.uid !== 0) {
    throw new SocketPathError(
      `The socket directory ${dir} is owned by ${owner(stats.uid)}, not by you (${owner(uid)}) or root; whoever owns it controls ${path.basename(socketPath)}. ` +
        'Refusing to use it. Choose a socket in a directory of your own (--socket or HUMANLAYER_DAEMON_SOCKET).',
    )
  }
  const openToOthers = (stats.mode & WRITABLE_BY_OTHERS) !== 0
  const ownSticky = (stats.mode & STICKY) !== 0 && stats.uid === uid
  if (openToOthers && !ownSticky) {
    throw new SocketPathError(
      `The socket directory ${dir} (owned by ${owner(stats.uid)}, mode ${(stats.mode & 0o7777).toString(8).padStart(4, '0')}) is writable by other users, ` +
        `who could put their own socket at ${socketPath}. Refusing to use it. Use a directory only you can write, e.g. ${path.join(dir, 'hld')}/ (created 0700).`,
    )
  }
}

/**
 * After connecting: the error to fail with when the kernel says the listening process is another
 * user (not us, not root); undefined when it is not, or when this OS or installation cannot tell.
 */
export function checkListener(socketPath: string, socket: net.Socket | {readonly fd: number}): SocketPathError | undefined {
  const uid = process.getuid?.()
  const peer = peerOf(socket)
  if (uid === undefined || !peer || peer.uid === uid || peer.uid === 0) return undefined
  return new SocketPathError(
    `The process listening on ${socketPath} (pid ${peer.pid}) runs as ${owner(peer.uid)}, not as you (${owner(uid)}): ` +
      'another user is posing as the daemon. Disconnected before sending anything. Use a socket in a directory of your own.',
  )
}

/** "uid 1001 (alice)", with the name when /etc/passwd has one. */
function owner(uid: number): string {
  try {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.split(':')[2] === String(uid))
    if (line) return `uid ${uid} (${line.split(':')[0]})`
  } catch {
    // No /etc/passwd to read: the number alone still names the owner.
  }
  return `uid ${uid}`
}
