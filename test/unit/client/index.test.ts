import {mkdtempSync, rmSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {DaemonClient, MAX_REPLY_BYTES, ReplyTooLargeError} from '../../../src/client/index.js'
import {Health} from '../../../src/protocol/daemon.js'

describe('DaemonClient', () => {
  let dir: string
  let server: net.Server

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hld-client-'))
  })

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve))
    rmSync(dir, {recursive: true, force: true})
  })

  it('fails the calls at once with ReplyTooLargeError when a reply is over its limit, instead of waiting for a timeout', async () => {
    const socketPath = path.join(dir, 'd.sock')
    // A peer that answers every request with one frame just over the client's limit.
    server = net.createServer((socket) => {
      socket.on('error', () => {})
      socket.once('data', () => {
        socket.write(`{"jsonrpc":"2.0","id":1,"result":"${'x'.repeat(MAX_REPLY_BYTES)}"}\n`)
      })
    })
    await new Promise<void>((resolve) => server.listen(socketPath, resolve))
    const client = await DaemonClient.connect(socketPath)
    try {
      const error = await client.call(Health, {}, {timeoutMs: 60_000}).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(error).to.be.instanceOf(ReplyTooLargeError)
      expect((error as Error).message)
        .to.include('MiB')
        .and.include('--limit')
    } finally {
      client.close()
    }
  })
})
