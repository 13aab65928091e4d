/**
 * Who is at the other end of a loopback TCP connection, as the kernel knows it (Linux /proc).
 * TCP has no SO_PEERCRED, so: find the client's socket in /proc/net/tcp{,6} by its address and
 * port (its row also carries the owner's uid and the socket's inode), then the processes holding
 * that inode among /proc/<pid>/fd. A process that shares the socket with a child is found too,
 * and every holder is returned, so a socket handed into a session's tree counts as the session's.
 * Nothing the client sends (headers, body) enters the answer. Only decisions ask, so the scan of
 * /proc is paid per decision, not per request.
 */
import {readdirSync, readFileSync, readlinkSync, statSync} from 'node:fs'
import {isIPv4} from 'node:net'

import type {Peer} from '../../shared/peer.js'

export interface TcpEndpoints {
  /** The client's address and port (the server's remoteAddress/remotePort). */
  clientAddress: string
  clientPort: number
  /** The server's own address and port (localAddress/localPort). */
  serverAddress: string
  serverPort: number
}

/** Every process holding the client's end of the connection; empty when /proc cannot tell. */
export function tcpPeers(endpoints: TcpEndpoints): Peer[] {
  const socket = findClientSocket(endpoints)
  if (!socket) return []
  const peers: Peer[] = []
  const target = `socket:[${socket.inode}]`
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return []
  }
  for (const pid of pids) {
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue // another user's process, or gone
    }
    for (const fd of fds) {
      let link: string
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`)
      } catch {
        continue
      }
      if (link !== target) continue
      try {
        // /proc/<pid> belongs to the process's effective uid and gid.
        const {gid} = statSync(`/proc/${pid}`)
        peers.push({pid: Number(pid), uid: socket.uid, gid})
      } catch {
        // gone in between
      }
      break
    }
  }
  return peers
}

/** The client socket's row: local = the client's address, remote = the server's. */
function findClientSocket(endpoints: TcpEndpoints): {uid: number; inode: string} | undefined {
  const local = procAddress(endpoints.clientAddress, endpoints.clientPort)
  const remote = procAddress(endpoints.serverAddress, endpoints.serverPort)
  if (!local || !remote) return undefined
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = readFileSync(table, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
      const fields = line.trim().split(/\s+/)
      if (fields.length < 10) continue
      const [, localAddress, remoteAddress, , , , , uid, , inode] = fields
      if (inode !== '0' && sameAddress(localAddress, local) && sameAddress(remoteAddress, remote)) return {uid: Number(uid), inode}
    }
  }
  return undefined
}

interface ProcAddress {
  /** The address as /proc/net/tcp prints it for IPv4 (8 hex digits) and as tcp6 prints it (32). */
  v4: string | undefined
  v6: string | undefined
  port: string
}

function sameAddress(field: string, want: ProcAddress): boolean {
  const [address, port] = field.split(':')
  return port === want.port && (address === want.v4 || address === want.v6)
}

/**
 * An address the way /proc/net/tcp{,6} writes it: each 32-bit word in host byte order (little
 * endian on every machine Node supports here), in hex, upper case; the port in hex, big endian.
 */
function procAddress(address: string, port: number): ProcAddress | undefined {
  const mapped = address.startsWith('::ffff:') ? address.slice(7) : address
  const portHex = port.toString(16).toUpperCase().padStart(4, '0')
  if (isIPv4(mapped)) {
    const bytes = mapped.split('.').map(Number)
    const word = wordHex(bytes)
    // The same IPv4 address on a dual-stack socket: ::ffff:a.b.c.d in tcp6.
    const v6 = `0000000000000000FFFF0000${word}`
    return {v4: word, v6, port: portHex}
  }
  if (address === '::1') return {v4: undefined, v6: `000000000000000000000000${wordHex([0, 0, 0, 1])}`, port: portHex}
  return undefined
}

/** Four bytes (network order) as /proc prints a 32-bit word on a little-endian host. */
function wordHex(bytes: number[]): string {
  return [...bytes]
    .reverse()
    .map((byte) => byte.toString(16).toUpperCase().padStart(2, '0'))
    .join('')
}
