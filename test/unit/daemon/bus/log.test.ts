import {expect} from 'chai'
import Database from 'better-sqlite3'

import type {LoggedEvent} from '../../../../src/daemon/bus/log.js'
import type {DaemonEvent} from '../../../../src/protocol/events.js'
import {EventWorld, range, statusEvent} from '../../../helpers/event-world.js'

describe('EventLog', () => {
  let world: EventWorld

  beforeEach(async () => {
    world = await new EventWorld().start()
  })
  afterEach(() => world.cleanup())

  it('stamps monotonic ids and timestamps, and calls in-process listeners synchronously', () => {
    const seen: DaemonEvent[] = []
    world.bus.subscribe((event) => seen.push(event))
    const first = world.bus.publish(statusEvent(0))
    const second = world.bus.publish({type: 'new_approval', data: {approval_id: 'a1', session_id: 's', run_id: 'r', tool_name: 'Bash'}})
    expect([first.id, second.id]).to.deep.equal([1, 2])
    expect(new Date(first.timestamp).toISOString()).to.equal(first.timestamp)
    expect(seen.map((event) => event.id)).to.deep.equal([1, 2])
  })

  it('hands stream listeners a batch only once it is in the log', async () => {
    const batches: number[][] = []
    let readBack: number[] = []
    world.bus.onBatch((batch) => {
      batches.push(batch.map((event) => event.id))
      readBack = world.bus.readPage(0, {}, 100).map((event) => event.id)
    })
    world.publish(5)
    expect(batches).to.deep.equal([]) // not before the flush
    await new Promise((resolve) => setImmediate(resolve))
    expect(batches).to.deep.equal([range(1, 5)])
    expect(readBack).to.deep.equal(range(1, 5))
    expect(world.bus.flushedId).to.equal(5)
  })

  it('keeps the wire form of each event, and filters pages by type, session and run', () => {
    world.publish(6)
    world.bus.publish({type: 'new_approval', data: {approval_id: 'a1', session_id: null, run_id: null, tool_name: 'Bash'}})
    world.bus.flush()
    const [event] = world.bus.readPage(0, {}, 1)
    if (event.lost) expect.fail('an event, not a marker of lost ones')
    const parsed = JSON.parse(event.json) as DaemonEvent
    expect(Object.keys(parsed)).to.deep.equal(['id', 'type', 'timestamp', 'data'])
    expect(parsed.data).to.deep.equal(statusEvent(0).data)

    const ids = (events: LoggedEvent[]) => events.map((e) => e.id)
    expect(ids(world.bus.readPage(0, {types: new Set(['new_approval'])}, 100))).to.deep.equal([7])
    expect(ids(world.bus.readPage(0, {sessionId: 's-1'}, 100))).to.deep.equal([2, 5])
    expect(ids(world.bus.readPage(0, {runId: 'r-2'}, 100))).to.deep.equal([3, 6])
    expect(ids(world.bus.readPage(2, {}, 3))).to.deep.equal([3, 4, 5])
  })

  it('flushes on close, and continues the ids after a restart, even when retention emptied the log', async () => {
    world.publish(3)
    await world.restart()
    expect(world.bus.flushedId).to.equal(3)
    expect(world.bus.publish(statusEvent(3)).id).to.equal(4)
    world.bus.flush()
    world.store.sqlite.prepare('DELETE FROM events').run()
    await world.restart()
    expect(world.bus.prunedThrough).to.equal(4)
    expect(world.bus.publish(statusEvent(4)).id).to.equal(5)
  })

  it('prunes by count and by age in bounded steps', async () => {
    await world.stop()
    world = await new EventWorld({retention: {maxCount: 2500, maxAgeMs: 60_000}}).start()
    world.publish(6000)
    world.bus.flush()
    // The first step looks at 2000 rows only; a second one reaches the count limit.
    expect(world.bus.pruneStep()).to.equal(true)
    expect(world.bus.prunedThrough).to.equal(2000)
    while (world.bus.pruneStep());
    expect(world.bus.prunedThrough).to.equal(3500)
    expect(world.bus.readPage(0, {}, 1)[0].id).to.equal(3501)
    // An hour later everything is over the age limit.
    while (world.bus.pruneStep(Date.now() + 3600_000));
    expect(world.bus.readPage(0, {}, 1)).to.deep.equal([])
    expect(world.bus.prunedThrough).to.equal(6000)
  })

  it('gives up on events the database refuses past 64 MiB, and stores one marker of their ids, found by every filter, once it takes writes again', () => {
    world.publish(2)
    world.bus.flush()
    const other = new Database(world.databasePath)
    other.exec('BEGIN IMMEDIATE')
    const big = 'x'.repeat(1024 * 1024)
    try {
      // Two give-ups while the lock lasts: the second marker takes in the first.
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 70; i++) world.bus.publish({type: 'session_status_changed', data: {session_id: 's-0', note: big}} as never)
        world.bus.flush()
      }
    } finally {
      other.exec('COMMIT')
      other.close()
    }
    expect(world.bus.flushedId, 'nothing is delivered before the marker is stored').to.equal(2)
    world.bus.flush()
    expect(world.bus.flushedId).to.equal(142)
    const lost = {from: 3, through: 142}
    for (const filter of [{}, {sessionId: 's-1'}, {runId: 'r-1'}, {types: new Set(['new_approval'])}, {types: new Set(['events_lost'])}]) {
      const page = world.bus.readPage(0, filter, 100)
      expect(page.at(-1), JSON.stringify(filter)).to.deep.include({id: 142, type: 'events_lost'})
      expect(page.at(-1)!.lost).to.deep.include(lost)
      expect(page.filter((event) => event.lost)).to.have.length(1)
    }
    // A full filtered page ends before the marker: it comes with the page that reaches it.
    expect(world.bus.readPage(0, {sessionId: 's-1'}, 1).map((e) => e.id)).to.deep.equal([2])
    expect(world.bus.readPage(2, {sessionId: 's-1'}, 1).map((e) => e.id)).to.deep.equal([142])
  })
})
