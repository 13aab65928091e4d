import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {
  CallTimeoutError,
  DaemonClient,
  DaemonNotRunningError,
  DaemonUnreachableError,
  openSocket,
  socketEndpoint,
} from '../../../src/client/index.js'
import {FdSocket} from '../../../src/client/fd-socket.js'
import {Health} from '../../../src/protocol/daemon.js'
import {ListSessions} from '../../../src/protocol/sessions.js'

/** The lean entry's transport (client/fd-socket.ts): a blocking socket, read when libuv's poll handle says it is readable. */
describe('DaemonClient over the fd transport', () => {
  let dir: string
  let socketPath: string
  let server: net.Server | undefined
  const clients: DaemonClient[] = []

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hld-fd-'))
    socketPath = path.join(dir, 'd.sock')
  })

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    if (server) await new Promise((resolve) => server!.close(resolve))
    server = undefined
    rmSync(dir, {recursive: true, force: true})
  })

  /** A peer that runs `answer` on each request line. */
  async function serve(answer: (request: {id: number; method: string}, socket: net.Socket) => void): Promise<void> {
    server = net.createServer((socket) => {
      socket.on('error', () => {})
      let buffer = ''
      socket.on('data', (chunk) => {
        buffer += chunk.toString()
        for (let index; (index = buffer.indexOf('\n')) !== -1;) {
          answer(JSON.parse(buffer.slice(0, index)) as {id: number; method: string}, socket)
          buffer = buffer.slice(index + 1)
        }
      })
    })
    await new Promise<void>((resolve) => server!.listen(socketPath, resolve))
  }

  async function connect(): Promise<DaemonClient> {
    const client = await DaemonClient.connect(socketEndpoint(socketPath, 'fd'))
    clients.push(client)
    return client
  }

  it('matches concurrent calls to their replies, however the bytes are cut', async () => {
    // Replies in reverse order, each a little over two of the transport's 64 KiB reads, written a few bytes at a time at first.
    const pending: {id: number; method: string}[] = []
    await serve((request, socket) => {
      pending.push(request)
      if (pending.length < 3) return
      for (const {id, method} of pending.reverse()) {
        const frame = `${JSON.stringify({jsonrpc: '2.0', id, result: {sessions: [], total: id, method, pad: 'x'.repeat(140_000)}})}\n`
        socket.write(frame.slice(0, 5))
        socket.write(frame.slice(5))
      }
    })
    const client = await connect()
    const results = await Promise.all([1, 2, 3].map(() => client.call(ListSessions, {})))
    expect(results.map((result) => result.total)).to.deep.equal([1, 2, 3])
  })

  it('times a call out while it waits for the reply, and closing frees the socket', async () => {
    await serve(() => {}) // never answers
    const endpoint = socketEndpoint(socketPath, 'fd')
    const connection = await endpoint.open()
    expect(connection).to.be.instanceOf(FdSocket)
    const closed = new Promise<void>((resolve) => connection.on('close', resolve))
    const client = await DaemonClient.connect({label: socketPath, open: () => Promise.resolve(connection)})
    clients.push(client)
    const error = await client.call(Health, {}, {timeoutMs: 200}).catch((error: unknown) => error)
    expect(error).to.be.instanceOf(CallTimeoutError)
    client.close()
    await closed
  })

  it('fails a waiting call when the daemon closes the connection', async () => {
    await serve((_request, socket) => socket.destroy())
    const client = await connect()
    const error = await client.call(Health, {}, {timeoutMs: 10_000}).catch((error: unknown) => error)
    expect(error).to.be.instanceOf(DaemonUnreachableError)
    expect((error as Error).message).to.include('closed the connection')
  })

  it('says no daemon is running where nothing listens: no socket, or one left behind', async () => {
    const missing = await openSocket(socketPath, 'fd').catch((error: unknown) => error)
    expect(missing).to.be.instanceOf(DaemonNotRunningError)
    // A socket file whose listener is gone (ECONNREFUSED): bound by a process that then exited.
    const bound = spawnSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', socketPath])
    expect(bound.status, String(bound.stderr)).to.equal(0)
    const refused = await openSocket(socketPath, 'fd').catch((error: unknown) => error)
    expect(refused).to.be.instanceOf(DaemonNotRunningError)
  })
})
