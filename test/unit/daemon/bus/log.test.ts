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

  describe('events published inside a write', () => {
    /** What the test's writes store beside their events: a daemon_meta row. */
    const putMeta = (key: string) => world.store.sqlite.prepare('INSERT INTO daemon_meta (key, value) VALUES (?, ?)').run(key, 'v')
    /** Another connection's view: only what is committed. */
    const committed = (): {events: number[]; meta: string[]} => {
      const other = new Database(world.databasePath, {readonly: true})
      try {
        const events = other.prepare('SELECT id FROM events ORDER BY id').pluck().all() as number[]
        const meta = other.prepare("SELECT key FROM daemon_meta WHERE key LIKE 't-%' ORDER BY key").pluck().all() as string[]
        return {events, meta}
      } finally {
        other.close()
      }
    }

    it('are stored in its transaction and reach stream listeners at its commit, before it resolves, with what it wrote', async () => {
      const seen: {batch: number[]; committed: ReturnType<typeof committed>; inTransaction: boolean}[] = []
      world.bus.onBatch((batch) => {
        seen.push({batch: batch.map((event) => event.id), committed: committed(), inTransaction: world.store.sqlite.inTransaction})
      })
      world.publish(1) // published outside: queued, and stored with the next commit
      for (const durable of [true, false]) {
        const before = seen.length
        await world.store.write(
          () => {
            putMeta(`t-${durable}`)
            world.publish(2)
            expect(seen, 'nothing is delivered before the commit').to.have.length(before)
          },
          {durable},
        )
      }
      // No turn of the event loop has passed (a flush runs on one): delivered at the commits.
      expect(seen).to.deep.equal([
        {batch: [1, 2, 3], committed: {events: [1, 2, 3], meta: ['t-true']}, inTransaction: false},
        {batch: [4, 5], committed: {events: [1, 2, 3, 4, 5], meta: ['t-false', 't-true']}, inTransaction: false},
      ])
      expect(world.bus.flushedId).to.equal(5)
      // A synchronous transaction of the store (claude's output) does the same.
      world.bus.storeWith(() => world.publish(1))
      expect(seen.at(-1)?.batch).to.deep.equal([6])
    })

    it('stay queued, in order, when the database refuses them: the write commits without them and a flush stores them later', async () => {
      const batches: number[][] = []
      world.bus.onBatch((batch) => batches.push(batch.map((event) => event.id)))
      // A refusal that ends the statement, not the transaction (a full disk may end both: see the next test).
      world.store.sqlite.exec("CREATE TEMP TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'refused'); END")
      await world.store.write(() => {
        putMeta('t-refused')
        world.publish(2)
      })
      expect(committed()).to.deep.equal({events: [], meta: ['t-refused']})
      expect(batches).to.deep.equal([])
      world.store.sqlite.exec('DROP TRIGGER refuse')
      await world.store.write(() => world.publish(1))
      expect(batches, 'the held events go first, with the next commit').to.deep.equal([[1, 2, 3]])
      expect(committed().events).to.deep.equal([1, 2, 3])
    })

    it('fail the write when storing them ended its transaction, and stay queued for the next flush', async () => {
      const batches: number[][] = []
      world.bus.onBatch((batch) => batches.push(batch.map((event) => event.id)))
      // ROLLBACK inside a trigger is not allowed; a failing COMMIT of the events stands in for a
      // full disk that rolled the transaction back: the write fails, and nothing of it is stored.
      world.store.sqlite.exec("CREATE TEMP TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ROLLBACK, 'disk full'); END")
      const failed = await world.store
        .write(() => {
          putMeta('t-failed')
          world.publish(1)
        })
        .then(
          () => undefined,
          (error: unknown) => error as Error,
        )
      expect(failed?.message).to.match(/disk full/)
      expect(committed()).to.deep.equal({events: [], meta: []})
      world.store.sqlite.exec('DROP TRIGGER refuse')
      await new Promise((resolve) => setImmediate(resolve))
      expect(batches).to.deep.equal([[1]])
    })

    it('of a write that fails stay queued and go with the next flush, as before', async () => {
      const batches: number[][] = []
      world.bus.onBatch((batch) => batches.push(batch.map((event) => event.id)))
      await world.store
        .write(() => {
          putMeta('t-rolled-back')
          world.publish(1)
          throw new Error('no')
        })
        .catch(() => {})
      expect(batches).to.deep.equal([])
      await new Promise((resolve) => setImmediate(resolve))
      expect(batches).to.deep.equal([[1]])
      expect(committed()).to.deep.equal({events: [1], meta: []})
    })
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
