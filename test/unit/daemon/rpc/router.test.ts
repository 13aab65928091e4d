import {expect} from 'chai'
import type jayson from 'jayson'
import {z} from 'zod'

import {HealthParams, ShutdownParams} from '../../../../src/protocol/daemon.schema.js'
import {method} from '../../../../src/protocol/method.js'
import {Router, schemasFrom} from '../../../../src/daemon/rpc/router.js'
import {createLogger} from '../../../../src/shared/logger.js'

const Echo = method<{text: string; times?: number}, {said: string}>('echo')
const Ping = method<Record<string, never>, {pong: true}>('ping')
const EchoParams = z.object({text: z.string().min(1), times: z.number().int().positive().optional()}).strict()
const PingParams = z.object({}).strict()

type Reply = {result?: unknown; error?: {code: number; message: string; data?: unknown}}

/** Calls `name` with `params` as the RPC server does (through jayson): the reply it would send, error or result. */
function call(router: Router, name: string, params?: unknown): Promise<Reply> {
  const request = {jsonrpc: '2.0', method: name, id: 1, ...(params === undefined ? {} : {params})} as jayson.JSONRPCRequestLike
  const context = {signal: new AbortController().signal, peer: null, connection: {frames: 1}}
  return new Promise((resolve) =>
    router.dispatcher().call(request, context, (error: unknown, reply: unknown) => resolve((error ?? reply) as Reply)),
  )
}

describe('Router with schemas loaded at first use', () => {
  const log = createLogger('error', {kind: 'none'})
  let loads: number

  beforeEach(() => (loads = 0))

  function routers(): {eager: Router; lazy: Router} {
    const schema = schemasFrom(() => {
      loads++
      return Promise.resolve({EchoParams, PingParams})
    })
    const eager = new Router(log)
      .register(Echo, EchoParams, ({text, times = 1}) => ({said: text.repeat(times)}))
      .register(Ping, PingParams, () => ({pong: true as const}), {noParams: true})
    const lazy = new Router(log)
      .register(Echo, schema('EchoParams'), ({text, times = 1}) => ({said: text.repeat(times)}))
      .register(Ping, schema('PingParams'), () => ({pong: true as const}), {noParams: true})
    return {eager, lazy}
  }

  it('loads a schema at the first call that needs it, once, and validates with it as if it had been given', async () => {
    const {eager, lazy} = routers()
    expect(loads).to.equal(0)
    for (const params of [{text: 'ab', times: 2}, {text: ''}, {text: 'a', extra: 1}, {times: 'x'}, [1, 2], undefined]) {
      expect(await call(lazy, 'echo', params), JSON.stringify(params)).to.deep.equal(await call(eager, 'echo', params))
    }
    expect(loads).to.equal(1)
  })

  it('rejects bad params of a lazily loaded schema with the usual -32602 and its fields', async () => {
    const reply = await call(routers().lazy, 'echo', {text: 'a', verbose: true})
    expect(reply.error?.code).to.equal(-32602)
    expect(reply.error?.message).to.match(/^Invalid params for echo: .*verbose/)
    expect(reply.error?.data)
      .to.have.nested.property('fields[0].message')
      .that.matches(/verbose/)
  })

  it('answers a method without params called without any (or with {}) before its schema loads, and still rejects params it does not take', async () => {
    const {eager, lazy} = routers()
    expect(await call(lazy, 'ping')).to.deep.equal({jsonrpc: '2.0', id: 1, result: {pong: true}})
    expect(await call(lazy, 'ping', {})).to.deep.equal({jsonrpc: '2.0', id: 1, result: {pong: true}})
    expect(loads).to.equal(0)
    for (const params of [{verbose: true}, ['x']]) {
      const reply = await call(lazy, 'ping', params)
      expect(reply, JSON.stringify(params)).to.deep.equal(await call(eager, 'ping', params))
      expect(reply.error?.code).to.equal(-32602)
    }
    expect(loads).to.equal(1)
  })

  it('takes noParams only for schemas that take none: health and shutdown parse no params as {}', () => {
    for (const schema of [HealthParams, ShutdownParams]) {
      expect(schema.safeParse({})).to.deep.include({success: true, data: {}})
      expect(schema.safeParse({verbose: true}).success).to.equal(false)
    }
  })
})
