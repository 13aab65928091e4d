/**
 * isatty without node:tty, which loads node:net and its streams: ~3 ms of every short command's
 * start, paid for nothing when the command then talks to the daemon without them
 * (src/client/fd-socket.ts). The lean CLI bundle gives chalk's supports-color this module in
 * place of node:tty (scripts/build-lean.js). Without the native addon, node:tty's own.
 */
import {socketAddon} from './peer.js'

export function isatty(fd: number): boolean {
  const addon = socketAddon()
  // Also node:tty's when the addon was built before it had isatty (updated without `npm rebuild`).
  return typeof addon?.isatty === 'function' ? addon.isatty(fd) : process.getBuiltinModule('node:tty').isatty(fd)
}

// supports-color imports node:tty's default export and calls tty.isatty.
export default {isatty}
