import {expect} from 'chai'

import {DaemonClient, DaemonNotRunningError} from '../../src/client/index.js'
import {connectOrStart} from '../../src/client/lifecycle.js'
import {loadConfig} from '../../src/config/index.js'
import {Health} from '../../src/protocol/daemon.js'
import {ErrorCode, RpcError} from '../../src/protocol/errors.js'
import {RawConnection} from '../helpers/raw-socket.js'
import {Sandbox} from '../helpers/sandbox.js'

interface Reply {
  jsonrpc: string
  id: unknown
  result?: Record<string, unknown>
  error?: {code: number; message: string; data?: {fields?: {path: string; message: string}[]}}
}

describe('JSON-RPC over the socket (real daemon)', function () {
  this.timeout(60_000)
  const sandbox = new Sandbox({HUMANLAYER_MAX_FRAME_BYTES: String(64 * 1024)})
  let raw: RawConnection

  before(async () => {
    await sandbox.startDaemon()
  })

  after(async () => sandbox.cleanup())

  beforeEach(async () => {
    raw = await RawConnection.open(sandbox.socketPath)
  })

  afterEach(() => raw.close())

  async function healthStillAnswers(): Promise<void> {
    const reply = await raw.request<Reply>({jsonrpc: '2.0', method: 'health', id: 'after'})
    expect(reply.id).to.equal('after')
    expect(reply.result?.status).to.equal('ok')
  }

  it('answers unparseable JSON with -32700 and keeps the connection usable', async () => {
    raw.write('{"jsonrpc":"2.0","method":\n')
    const reply = await raw.next<Reply>()
    expect(reply.error?.code).to.equal(ErrorCode.ParseError)
    expect(reply.id).to.equal(null)
    await healthStillAnswers()
  })

  it('answers binary garbage with -32700', async () => {
    raw.write(Buffer.concat([Buffer.from([0xff, 0x00, 0xc3, 0x28, 0x7b]), Buffer.from('\n')]))
    expect((await raw.next<Reply>()).error?.code).to.equal(ErrorCode.ParseError)
    await healthStillAnswers()
  })

  it('answers a request that is not JSON-RPC 2.0 with -32600', async () => {
    const reply = await raw.request<Reply>({method: 'health', id: 7})
    expect(reply.error?.code).to.equal(ErrorCode.InvalidRequest)
    await healthStillAnswers()
  })

  it('answers an unknown method with -32601, naming it', async () => {
    const reply = await raw.request<Reply>({jsonrpc: '2.0', method: 'launchRocket', id: 3})
    expect(reply.error?.code).to.equal(ErrorCode.MethodNotFound)
    expect(reply.error?.message).to.equal('Method not found: launchRocket')
    expect(reply.id).to.equal(3)
  })

  it('answers methods named after Object.prototype members with -32601, and keeps answering', async () => {
    for (const [id, method] of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'].entries()) {
      const reply = await raw.request<Reply>({jsonrpc: '2.0', method, id})
      expect(reply.error?.code, method).to.equal(ErrorCode.MethodNotFound)
      expect(reply.id).to.equal(id)
    }
    await healthStillAnswers()
  })

  it('answers invalid params with -32602 and the offending fields in data', async () => {
    const reply = await raw.request<Reply>({jsonrpc: '2.0', method: 'health', params: {verbose: true}, id: 4})
    expect(reply.error?.code).to.equal(ErrorCode.InvalidParams)
    expect(reply.error?.message).to.contain('Invalid params for health')
    expect(reply.error?.data?.fields?.[0]?.message).to.match(/verbose/)
  })

  it('answers an oversized frame with an error naming the limit, without closing the connection', async () => {
    raw.write(`{"jsonrpc":"2.0","method":"health","params":{"pad":"${'x'.repeat(200 * 1024)}"},"id":5}\n`)
    const reply = await raw.next<Reply>()
    expect(reply.error?.code).to.equal(ErrorCode.InvalidRequest)
    expect(reply.error?.message).to.match(/exceeds the limit of 65536 bytes \(max_frame_bytes\)/)
    await healthStillAnswers()
  })

  it('answers pipelined requests on one connection in order, ids echoed', async () => {
    const ids = [1, 'two', 3, 'four', 5]
    raw.write(ids.map((id) => JSON.stringify({jsonrpc: '2.0', method: 'health', id})).join('\n') + '\n')
    const replies = []
    for (let i = 0; i < ids.length; i++) replies.push(await raw.next<Reply>())
    expect(replies.map((r) => r.id)).to.deep.equal(ids)
  })

  it('answers a last request without a newline once the client half-closes', async () => {
    raw.write('{"jsonrpc":"2.0","method":"health","id":"eof"}')
    raw.socket.end()
    const reply = await raw.next<Reply>()
    expect(reply.id).to.equal('eof')
    expect(reply.result?.status).to.equal('ok')
  })

  it('sends no reply to a notification', async () => {
    raw.write('{"jsonrpc":"2.0","method":"health"}\n')
    await healthStillAnswers() // the first line on the wire is the reply to the request, not the notification
  })

  it('shrugs off a client that disconnects mid-request', async () => {
    const quitter = await RawConnection.open(sandbox.socketPath)
    quitter.write('{"jsonrpc":"2.0","method":"health","id":1}\n{"jsonrpc":"2.0","meth')
    quitter.close()
    await healthStillAnswers()
  })

  it('serves 50 concurrent connections', async () => {
    const clients = await Promise.all(Array.from({length: 50}, () => DaemonClient.connect(sandbox.socketPath)))
    try {
      const results = await Promise.all(clients.map((client) => Promise.all([client.call(Health, {}), client.call(Health, {})])))
      expect(results.flat().every((health) => health.status === 'ok')).to.equal(true)
      expect(new Set(results.flat().map((health) => health.pid)).size).to.equal(1)
    } finally {
      for (const client of clients) client.close()
    }
  })

  it('gives the client typed errors that keep their code', async () => {
    const client = await DaemonClient.connect(sandbox.socketPath)
    try {
      const error = await client.call({name: 'nope'}, {}).catch((error_: unknown) => error_)
      expect(error).to.be.instanceOf(RpcError)
      expect((error as RpcError).code).to.equal(ErrorCode.MethodNotFound)
    } finally {
      client.close()
    }
  })
})

describe('auto-start', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = new Sandbox()
  })

  afterEach(async () => sandbox.cleanup())

  it('does not start a daemon when HUMANLAYER_NO_AUTOSTART=1, and says how to start one', async () => {
    const env = sandbox.env()
    const error = await connectOrStart(loadConfig({}, env), env).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(DaemonNotRunningError)
    expect((error as Error).message).to.contain('hld daemon start')
  })

  it('starts the daemon when none runs, waiting until it is healthy', async () => {
    const env = sandbox.env({HUMANLAYER_NO_AUTOSTART: undefined})
    const client = await connectOrStart(loadConfig({}, env), env)
    try {
      const health = await client.call(Health, {})
      sandbox.track(health.pid)
      expect(health.socket_path).to.equal(sandbox.socketPath)
    } finally {
      client.close()
    }
  })
})
