/** A bare newline-JSON peer for the socket, as `nc -U` would be: no client library involved. */
import net from 'node:net'

export class RawConnection {
  private buffer = ''
  private readonly lines: string[] = []
  private waiters: (() => void)[] = []
  closed = false

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      let index
      while ((index = this.buffer.indexOf('\n')) !== -1) {
        this.lines.push(this.buffer.slice(0, index))
        this.buffer = this.buffer.slice(index + 1)
      }
      this.wake()
    })
    socket.on('close', () => {
      this.closed = true
      this.wake()
    })
    socket.on('error', () => {})
  }

  static open(socketPath: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({path: socketPath}, () => resolve(new RawConnection(socket)))
      socket.once('error', reject)
    })
  }

  write(data: string | Buffer): void {
    this.socket.write(data)
  }

  /** The next line the daemon sent, parsed; rejects on close or timeout. */
  async next<T = Record<string, unknown>>(timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('connection closed before a reply')
      const remaining = deadline - Date.now()
      if (remaining <= 0) throw new Error(`no reply within ${timeoutMs} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
    return JSON.parse(this.lines.shift()!) as T
  }

  async request<T = Record<string, unknown>>(message: unknown, timeoutMs?: number): Promise<T> {
    this.write(`${JSON.stringify(message)}\n`)
    return this.next<T>(timeoutMs)
  }

  close(): void {
    this.socket.destroy()
  }

  private wake(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}
