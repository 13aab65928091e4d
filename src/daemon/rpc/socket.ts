/**
 * Making the socket path ours before listening: short enough for the OS, in a 0700
 * directory (or one no other user can write), not a symlink or a stray file, and not held by
 * a live daemon. A socket file
 * nobody answers on is what a crash leaves behind; it is removed.
 *
 * Synchronous file calls: the daemon has nothing else to do while it starts, and the first
 * asynchronous one would start libuv's thread pool (four threads, a few ms under load) before
 * it can answer health.
 */
import {lstatSync, mkdirSync, unlinkSync} from 'node:fs'
import path from 'node:path'

import {DaemonAlreadyRunningError, SocketPathError} from '../../shared/errors.js'
import {checkSocketPathLength, probeDaemon} from '../../shared/probe.js'
import {checkSocketDirectory} from '../../shared/socket-trust.js'

export async function prepareSocketPath(socketPath: string): Promise<void> {
  checkSocketPathLength(socketPath)
  checkSocketDirectory(socketPath)
  mkdirSync(path.dirname(socketPath), {recursive: true, mode: 0o700})

  const stats = lstatSync(socketPath, {throwIfNoEntry: false})
  if (!stats) return
  if (stats.isSymbolicLink()) {
    throw new SocketPathError(`The socket path ${socketPath} is a symbolic link; refusing to use it. Remove it or choose another path.`)
  }
  if (!stats.isSocket()) {
    throw new SocketPathError(
      `The socket path ${socketPath} exists and is not a socket; refusing to replace it. Remove it or choose another path.`,
    )
  }
  const live = await probeDaemon(socketPath)
  if (live) throw new DaemonAlreadyRunningError(socketPath, live.pid)
  try {
    unlinkSync(socketPath)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}
