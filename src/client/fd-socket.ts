/**
 * A connection to the daemon's socket without node:net: a blocking socket from hld's native addon
 * (connectUnix in native/peercred.c), written with fs.writeSync, and read with fs.readSync when
 * libuv's poll handle says it is readable (watchReadable): what node:net does underneath its
 * streams, without them.
 *
 * Why: loading node:net (and the streams under it) and making a Socket cost a short command such
 * as `hld approvals list --json` ~5 ms, a fifth of starting node itself. The lean entry's commands
 * use it (DaemonAccess.socketTransport); the daemon and oclif's commands keep node:net.
 *
 * It is the part of a Duplex that DaemonClient and Subscription use: 'data', 'error' and 'close'
 * events, write, end, destroy, pause and resume.
 */
import {EventEmitter} from 'node:events'
import {closeSync, readSync, writeSync} from 'node:fs'
import {getSystemErrorName} from 'node:util'

import {type ReadableWatch, type SocketAddon, socketAddon} from '../shared/peer.js'

const READ_CHUNK_BYTES = 64 * 1024

/**
 * A blocking socket connected to `socketPath` (writes give up after `timeoutMs` without progress),
 * or the connect's error as node:net reports it (`code` ENOENT, ECONNREFUSED, EAGAIN when the
 * backlog stayed full for `timeoutMs` …); undefined when the addon is not there to make one.
 */
export function connectFdSocket(socketPath: string, timeoutMs: number): FdSocket | NodeJS.ErrnoException | undefined {
  const addon = socketAddon()
  // An addon built before it had these (a package updated without `npm rebuild`): node:net.
  if (typeof addon?.connectUnix !== 'function' || typeof addon.watchReadable !== 'function') return undefined
  const fd = addon.connectUnix(socketPath, timeoutMs)
  if (fd >= 0) return new FdSocket(fd, addon)
  return errnoError(fd, 'connect', socketPath)
}

function errnoError(errno: number, syscall: string, socketPath?: string): NodeJS.ErrnoException {
  const code = getSystemErrorName(errno)
  return Object.assign(new Error(`${syscall} ${code}${socketPath ? ` ${socketPath}` : ''}`), {code, errno, syscall})
}

export class FdSocket extends EventEmitter {
  private destroyed = false
  private watch: ReadableWatch | undefined
  private readonly buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES)

  constructor(
    readonly fd: number,
    private readonly addon: SocketAddon,
  ) {
    super()
    this.resume()
  }

  write(data: string | Uint8Array): boolean {
    if (this.destroyed) return false
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    try {
      for (let offset = 0; offset < bytes.length;) offset += writeSync(this.fd, bytes, offset)
    } catch (error) {
      // As a stream reports it: after the caller's write() has returned.
      process.nextTick(() => this.fail(error as Error))
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
    this.pause()
    closeSync(this.fd)
    // As a net.Socket does: after the caller's destroy() has returned.
    process.nextTick(() => this.emit('close'))
    return this
  }

  /** Reads no more until resume(): what the daemon sends waits in the socket. */
  pause(): this {
    if (this.watch) this.addon.unwatch(this.watch)
    this.watch = undefined
    return this
  }

  resume(): this {
    if (!this.watch && !this.destroyed) this.watch = this.addon.watchReadable(this.fd, (status) => this.onReadable(status))
    return this
  }

  private onReadable(status: number): void {
    if (this.destroyed) return
    if (status < 0) return this.fail(errnoError(status, 'read'))
    let bytes: number
    try {
      bytes = readSync(this.fd, this.buffer, 0, READ_CHUNK_BYTES, null)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN') return // woken for nothing: wait again
      return this.fail(error as Error)
    }
    if (bytes === 0) {
      this.destroy() // the daemon closed its end
      return
    }
    // A copy: the buffer is read into again.
    this.emit('data', Buffer.from(this.buffer.subarray(0, bytes)))
  }

  private fail(error: Error): void {
    if (this.destroyed) return
    this.emit('error', error)
    this.destroy()
  }
}
