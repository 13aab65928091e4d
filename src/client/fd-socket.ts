/**
 * A connection to the daemon's socket without node:net: a blocking socket from hld's native addon
 * (connectUnix in native/peercred.c), written with fs.writeSync and read with fs.read, which
 * waits for data in one of libuv's pool threads while timers and everything else go on.
 *
 * Why: loading node:net (and the streams under it) and making a Socket cost a short command such
 * as `hld approvals list --json` ~5 ms, a fifth of starting node itself. Each connection holds a
 * pool thread while it waits (libuv has four), so only the lean entry's short commands, with one
 * connection at a time, use it (DaemonAccess.socketTransport); watch, waits and the daemon keep
 * node:net.
 *
 * It is the part of a Duplex that DaemonClient and Subscription use: 'data', 'error' and 'close'
 * events, write, end, destroy, pause and resume.
 */
import {EventEmitter} from 'node:events'
import {closeSync, read, writeSync} from 'node:fs'
import {getSystemErrorName} from 'node:util'

import {type SocketAddon, socketAddon} from '../shared/peer.js'

const READ_CHUNK_BYTES = 64 * 1024

/**
 * A blocking socket connected to `socketPath` (writes give up after `timeoutMs` without progress),
 * or the connect's error as node:net reports it (`code` ENOENT, ECONNREFUSED, EAGAIN when the
 * backlog stayed full for `timeoutMs` …); undefined when the addon is not there to make one.
 */
export function connectFdSocket(socketPath: string, timeoutMs: number): FdSocket | NodeJS.ErrnoException | undefined {
  const addon = socketAddon()
  // An addon built before it had connectUnix (a package updated without `npm rebuild`): node:net.
  if (typeof addon?.connectUnix !== 'function') return undefined
  const fd = addon.connectUnix(socketPath, timeoutMs)
  if (fd >= 0) return new FdSocket(fd, addon)
  const code = getSystemErrorName(fd)
  return Object.assign(new Error(`connect ${code} ${socketPath}`), {code, errno: fd, syscall: 'connect'})
}

export class FdSocket extends EventEmitter {
  private destroyed = false
  private paused = false
  /** A read is in a pool thread: its callback closes the fd once destroyed (closing it under the read could close another file opened meanwhile). */
  private reading = false
  private readonly buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES)

  constructor(
    readonly fd: number,
    private readonly addon: SocketAddon,
  ) {
    super()
    this.readNext()
  }

  write(data: string | Uint8Array): boolean {
    if (this.destroyed) return false
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    try {
      for (let offset = 0; offset < bytes.length;) offset += writeSync(this.fd, bytes, offset)
    } catch (error) {
      // As a stream reports it: after the caller's write() has returned.
      queueMicrotask(() => this.fail(error as Error))
      return false
    }
    return true
  }

  end(): this {
    return this.destroy()
  }

  destroy(): this {
    if (this.destroyed) return this
    this.destroyed = true
    if (this.reading) this.addon.shutdownSocket(this.fd)
    else this.closeFd()
    return this
  }

  pause(): this {
    this.paused = true
    return this
  }

  resume(): this {
    if (!this.paused) return this
    this.paused = false
    if (!this.reading && !this.destroyed) this.readNext()
    return this
  }

  private readNext(): void {
    this.reading = true
    read(this.fd, this.buffer, 0, READ_CHUNK_BYTES, null, (error, bytes) => {
      this.reading = false
      if (this.destroyed) return this.closeFd()
      if (error) return this.fail(error)
      if (bytes === 0) return this.destroy()
      // A copy: the buffer is read into again at once.
      this.emit('data', Buffer.from(this.buffer.subarray(0, bytes)))
      if (!this.destroyed && !this.paused) this.readNext()
    })
  }

  private fail(error: Error): void {
    if (this.destroyed) return
    this.emit('error', error)
    this.destroy()
  }

  private closeFd(): void {
    closeSync(this.fd)
    this.emit('close')
  }
}
