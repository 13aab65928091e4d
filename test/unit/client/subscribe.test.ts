import {expect} from 'chai'

import {type StreamStatus, streamEvents} from '../../../src/client/subscribe.js'
import {ErrorCode, RpcError} from '../../../src/protocol/errors.js'
import type {DaemonEvent, EventType} from '../../../src/protocol/events.js'
import {EventWorld, range} from '../../helpers/event-world.js'
import {waitFor} from '../../helpers/sandbox.js'

/** Streams still open; afterEach aborts them, so a failed test cannot leave one reconnecting forever. */
const open = new Set<AbortController>()

/** Collects what streamEvents yields until `count` events, with a way to stop early. */
function collect(world: EventWorld, options: {since?: number; count: number; statuses?: StreamStatus[]}) {
  const abort = new AbortController()
  open.add(abort)
  const ids: number[] = []
  const done = (async () => {
    const events = streamEvents({
      target: world.socketPath,
      since: options.since,
      signal: abort.signal,
      backoff: {initialMs: 10, maxMs: 100},
      onStatus: (status) => options.statuses?.push(status),
    })
    for await (const event of events) {
      ids.push(event.id)
      if (ids.length === options.count) break
    }
  })().finally(() => open.delete(abort))
  return {ids, done, abort}
}

describe('streamEvents', () => {
  let world: EventWorld

  beforeEach(async () => {
    world = await new EventWorld().start()
  })
  afterEach(async () => {
    for (const abort of open) abort.abort()
    open.clear()
    await world.cleanup()
  })

  it('resumes after a restart from the last event, losing none and repeating none', async () => {
    world.publish(5)
    world.bus.flush()
    const statuses: StreamStatus[] = []
    const run = collect(world, {count: 7, statuses})
    await waitFor(() => statuses.length > 0, 5000, 'the subscription')
    world.publish(3) // 6..8, live
    await waitFor(() => run.ids.length === 3, 5000, 'the first live events')
    await world.restart()
    world.publish(4) // 9..12, published before the client is back
    await run.done
    expect(run.ids).to.deep.equal(range(6, 12))
    expect(statuses.map((status) => status.state)).to.include('disconnected')
  })

  it('replays from since, and starts from the head when nothing was seen before a restart', async () => {
    world.publish(4)
    world.bus.flush()
    const fromTwo = collect(world, {since: 2, count: 2})
    await fromTwo.done
    expect(fromTwo.ids).to.deep.equal([3, 4])

    const statuses: StreamStatus[] = []
    const fromNow = collect(world, {count: 2, statuses})
    await waitFor(() => statuses.length > 0, 5000, 'the subscription')
    await world.restart()
    world.publish(2) // 5, 6: after the head the first subscription saw
    await fromNow.done
    expect(fromNow.ids).to.deep.equal([5, 6])
  })

  it('comes back at once after an overflow cut-off and loses nothing', async () => {
    await world.stop()
    world = await new EventWorld({bufferBytes: 64 * 1024}).start()
    const statuses: StreamStatus[] = []
    const abort = new AbortController()
    const events = streamEvents({
      target: world.socketPath,
      signal: abort.signal,
      backoff: {initialMs: 10},
      onStatus: (s) => statuses.push(s),
    })
    const first = events.next() // subscribes; the consumer then stalls
    await waitFor(() => world.bus.batchListenerCount === 1, 5000, 'the subscription')
    const content = 'y'.repeat(4000)
    const total = 3000
    for (let batch = 0; batch < total / 100; batch++) {
      world.publish(100, (i) => ({
        type: 'conversation_updated',
        data: {session_id: 's', claude_session_id: 'c', event_type: 'message', content_type: 'text', content: `${i}${content}`},
      }))
      await new Promise((resolve) => setImmediate(resolve))
    }
    const ids: number[] = [((await first).value as DaemonEvent).id]
    for await (const event of events) {
      ids.push(event.id)
      if (ids.length === total) break
    }
    expect(ids).to.deep.equal(range(1, total))
    expect(statuses.some((s) => s.state === 'disconnected' && s.reason.includes('fell behind'))).to.equal(true)
  })

  it('fails on bad params instead of retrying', async () => {
    const events = streamEvents({target: world.socketPath, filter: {event_types: 'new_approval' as unknown as EventType[]}})
    let error: unknown
    try {
      await events.next()
    } catch (caught) {
      error = caught
    }
    expect(error).to.be.instanceOf(RpcError)
    expect((error as RpcError).code).to.equal(ErrorCode.InvalidParams)
  })
})
