import {expect} from 'chai'

import {ErrorCode} from '../../../../src/protocol/errors.js'
import {RawConnection} from '../../../helpers/raw-socket.js'
import {EventWorld, range, readEvents, statusEvent} from '../../../helpers/event-world.js'
import {waitFor} from '../../../helpers/sandbox.js'

describe('Subscribe stream', () => {
  let world: EventWorld

  afterEach(() => world.cleanup())

  describe('with defaults', () => {
    beforeEach(async () => {
      world = await new EventWorld().start()
    })

    it('confirms as hld does, then sends each event in an hld event frame', async () => {
      world.publish(2)
      world.bus.flush()
      const connection = await RawConnection.open(world.socketPath)
      connection.write(`${JSON.stringify({jsonrpc: '2.0', method: 'Subscribe', id: 3})}\n`)
      const confirmation = await connection.next()
      expect(confirmation).to.deep.equal({
        jsonrpc: '2.0',
        result: {
          subscription_id: (confirmation.result as {subscription_id: string}).subscription_id,
          message: 'Subscription established. Waiting for events...',
          last_event_id: 2,
        },
        id: null,
      })
      expect((confirmation.result as {subscription_id: string}).subscription_id).to.match(/^\d{14}-[0-9a-f]{16}$/)

      const published = world.bus.publish(statusEvent(7))
      const frame = await connection.next()
      expect(frame).to.deep.equal({jsonrpc: '2.0', result: {event: published}, id: null})
      connection.close()
    })

    it('filters by event type, session and run; events without the key are left out', async () => {
      const byType = await world.subscribe({event_types: ['new_approval']})
      const bySession = await world.subscribe({session_id: 's-1'})
      const byRun = await world.subscribe({run_id: 'r-2', event_types: ['session_status_changed']})
      world.publish(6) // ids 1..6, sessions s-0 s-1 s-2 s-0 s-1 s-2
      world.bus.publish({type: 'new_approval', data: {approval_id: 'a', session_id: null, run_id: null, tool_name: 'Bash'}}) // 7
      world.bus.publish({type: 'new_approval', data: {approval_id: 'b', session_id: 's-1', run_id: 'r-2', tool_name: 'Edit'}}) // 8
      expect(await readEvents(byType.connection, 2)).to.deep.equal([7, 8])
      expect(await readEvents(bySession.connection, 3)).to.deep.equal([2, 5, 8])
      expect(await readEvents(byRun.connection, 2)).to.deep.equal([3, 6])
    })

    it('answers bad params with one -32602 frame (id null) and closes', async () => {
      // Unknown event types and keys are not bad params (Go clients send them); wrong types of known keys are.
      for (const params of [{event_types: 'new_approval'}, {since: -1}, {session_id: 7}]) {
        const connection = await RawConnection.open(world.socketPath)
        const frame = await connection.request<{error: {code: number; message: string}; id: null}>({
          jsonrpc: '2.0',
          method: 'Subscribe',
          params,
          id: 1,
        })
        expect(frame.error.code).to.equal(ErrorCode.InvalidParams)
        expect(frame.id).to.equal(null)
        await waitFor(() => connection.closed, 5000, 'the daemon to close the connection')
      }
    })

    for (const subscribers of [10, 200]) {
      it(`delivers every event, in order and once, to ${subscribers} concurrent subscribers`, async () => {
        const connections = await Promise.all(Array.from({length: subscribers}, () => world.subscribe()))
        const ids = world.publish(300)
        const received = await Promise.all(connections.map(({connection}) => readEvents(connection, 300)))
        for (const got of received) expect(got).to.deep.equal(ids)
      })
    }

    it('replays from the log with since, then goes live with no gap and no duplicate at the seam', async () => {
      world.publish(1700)
      world.bus.flush()
      const {connection, confirmation} = await world.subscribe({since: 100})
      expect(confirmation.last_event_id).to.equal(1700)
      // Keep publishing while the replay is under way, so the switch to live happens mid-stream.
      let published = 1700
      const more = setInterval(() => {
        if (published < 2700) published = world.publish(50).at(-1)!
      }, 1)
      try {
        expect(await readEvents(connection, 2600)).to.deep.equal(range(101, 2700))
      } finally {
        clearInterval(more)
      }
    })

    it('tells a subscriber whose since is older than retention kept where the gap ends', async () => {
      world.publish(10)
      world.bus.flush()
      world.store.sqlite.prepare('DELETE FROM events WHERE id <= 4').run()
      await world.restart()
      const {connection, confirmation} = await world.subscribe({since: 2})
      expect(confirmation.pruned_through).to.equal(4)
      expect(await readEvents(connection, 6)).to.deep.equal(range(5, 10))
      expect((await world.subscribe({since: 4})).confirmation).not.to.have.property('pruned_through')
    })

    it('replays with filters too', async () => {
      world.publish(30)
      world.bus.flush()
      const {connection} = await world.subscribe({since: 20, session_id: 's-0'})
      world.publish(3) // 31 (s-0), 32, 33
      expect(await readEvents(connection, 4)).to.deep.equal([22, 25, 28, 31])
    })

    it('notices a disconnect at once and frees the subscriber, also on a half-close', async () => {
      const {connection} = await world.subscribe()
      const halfClosed = await world.subscribe()
      await waitFor(() => world.bus.batchListenerCount === 2, 5000, 'two subscribers')
      connection.close()
      halfClosed.connection.socket.end()
      await waitFor(() => world.bus.batchListenerCount === 0 && world.server.connectionCount === 0, 5000, 'the subscribers to be freed')
    })
  })

  it('sends a heartbeat after the idle interval', async () => {
    world = await new EventWorld({heartbeatIntervalMs: 200}).start()
    const {connection} = await world.subscribe()
    const heartbeat = await connection.next(5000)
    expect(heartbeat).to.deep.equal({jsonrpc: '2.0', result: {type: 'heartbeat', message: 'Connection alive'}, id: null})
  })

  it('cuts off a stalled subscriber with a final frame, without delaying the others; it resumes losing nothing', async () => {
    world = await new EventWorld({bufferBytes: 256 * 1024}).start()
    const stalled = await world.subscribe()
    stalled.connection.socket.pause()
    const others = await Promise.all(Array.from({length: 5}, () => world.subscribe()))
    const padding = 'x'.repeat(2000)
    const batches = 10
    const perBatch = 200
    const total = batches * perBatch
    // Batch after batch, each one once the readers have it: the stalled peer falls further behind.
    for (let batch = 0; batch < batches; batch++) {
      const ids = world.publish(perBatch, (i) => ({
        type: 'conversation_updated',
        data: {
          session_id: 's',
          claude_session_id: 'c',
          event_type: 'message',
          content_type: 'text',
          role: 'assistant',
          content: `${i} ${padding}`,
        },
      }))
      for (const {connection} of others) expect(await readEvents(connection, perBatch)).to.deep.equal(ids)
    }

    await waitFor(() => world.bus.batchListenerCount === 5, 5000, 'the stalled subscriber to be cut off')
    stalled.connection.socket.resume()
    const got: number[] = []
    let final: {code: number; data: {last_event_id: number}} | undefined
    while (!final) {
      const frame = await stalled.connection.next<{result?: {event: {id: number}}; error?: {code: number; data: {last_event_id: number}}}>()
      if (frame.result) got.push(frame.result.event.id)
      else final = frame.error
    }
    expect(final.code).to.equal(ErrorCode.SubscriberOverflow)
    expect(final.data.last_event_id).to.equal(got.at(-1))
    expect(got).to.deep.equal(range(1, got.length))
    expect(got.length).to.be.below(total)
    await waitFor(() => stalled.connection.closed, 5000, 'the stalled connection to close')

    const resumed = await world.subscribe({since: final.data.last_event_id})
    expect(await readEvents(resumed.connection, total - got.length)).to.deep.equal(range(got.length + 1, total))
  })
})
