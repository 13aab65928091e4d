import {expect} from 'chai'

import {HttpHumanLayerApi, HumanLayerApiError, parseApiTimestamp} from '../../../../src/daemon/approvals/cloud-api.js'
import {CloudPoller, type CloudSnapshot} from '../../../../src/daemon/approvals/poller.js'
import {createLogger} from '../../../../src/shared/logger.js'
import {type FakeHumanLayerApi, PENDING_LIST_PATHS, startFakeHumanLayerApi} from '../../../fixtures/fake-humanlayer-api.js'

const log = createLogger('error', {kind: 'none'})

describe('HttpHumanLayerApi', () => {
  let fake: FakeHumanLayerApi
  afterEach(async () => fake.close())

  it('follows the pages of a pending list, with the bearer key', async () => {
    fake = await startFakeHumanLayerApi({pageSize: 2})
    for (let i = 0; i < 5; i++) fake.addFunctionCall({run_id: 'r', fn: 'Write', kwargs: {i}, call_id: `call-${i}`})
    const api = new HttpHumanLayerApi({baseUrl: fake.baseUrl, apiKey: fake.apiKey, timeoutMs: 5000})
    const items = await api.pendingFunctionCalls(new AbortController().signal)
    expect(items.map((item) => item.call_id)).to.deep.equal(['call-0', 'call-1', 'call-2', 'call-3', 'call-4'])
    const gets = fake.requests.filter((r) => r.path === '/agent/function_calls/pending')
    expect(gets).to.have.length(3)
    expect(gets.every((r) => r.authorized && r.headers.authorization === 'Bearer [redacted]')).to.equal(true)
  })

  it('accepts the old bare-array pending list', async () => {
    fake = await startFakeHumanLayerApi()
    fake.addHumanContact({run_id: 'r', msg: 'Which?', call_id: 'human_call-1'})
    fake.useBareArrayPendingList(true)
    const api = new HttpHumanLayerApi({baseUrl: fake.baseUrl, apiKey: fake.apiKey, timeoutMs: 5000})
    expect((await api.pendingHumanContacts(new AbortController().signal)).map((c) => c.call_id)).to.deep.equal(['human_call-1'])
  })

  it('gives up on a request after its timeout', async () => {
    fake = await startFakeHumanLayerApi()
    fake.delayNext(1, 5000, {path: PENDING_LIST_PATHS})
    const api = new HttpHumanLayerApi({baseUrl: fake.baseUrl, apiKey: fake.apiKey, timeoutMs: 100})
    const error = await api.pendingFunctionCalls(new AbortController().signal).catch((e: unknown) => e)
    expect(error).to.be.instanceOf(HumanLayerApiError)
    expect((error as Error).message).to.contain('no answer within 100 ms')
  })

  it('reports the status of a failed respond, 409 as a conflict', async () => {
    fake = await startFakeHumanLayerApi()
    fake.addFunctionCall({run_id: 'r', fn: 'Write', kwargs: {}, call_id: 'call-1'})
    const api = new HttpHumanLayerApi({baseUrl: fake.baseUrl, apiKey: fake.apiKey, timeoutMs: 5000})
    await api.respondFunctionCall('call-1', {approved: true})
    const error = (await api
      .respondFunctionCall('call-1', {approved: false, comment: 'late'})
      .catch((e: unknown) => e)) as HumanLayerApiError
    expect(error.status).to.equal(409)
    expect(error.isConflict).to.equal(true)
    const wrongKey = new HttpHumanLayerApi({baseUrl: fake.baseUrl, apiKey: 'wrong', timeoutMs: 5000})
    expect(
      ((await wrongKey.getFunctionCall('call-1', new AbortController().signal).catch((e: unknown) => e)) as HumanLayerApiError).status,
    ).to.equal(401)
  })
})

describe('HttpHumanLayerApi respond', () => {
  let fake: FakeHumanLayerApi
  afterEach(async () => fake.close())

  it('counts a 2xx with an unreadable body as taken, while a pending list with one fails', async () => {
    fake = await startFakeHumanLayerApi()
    fake.addFunctionCall({run_id: 'r', fn: 'Write', kwargs: {}, call_id: 'call-1'})
    const api = new HttpHumanLayerApi({baseUrl: fake.baseUrl, apiKey: fake.apiKey, timeoutMs: 5000})
    fake.malformedNext(1)
    await api.respondFunctionCall('call-1', {approved: true})
    expect(fake.functionCalls.get('call-1')!.status.approved).to.equal(true)
    fake.malformedNext(1)
    const error = (await api.pendingFunctionCalls(new AbortController().signal).catch((e: unknown) => e)) as HumanLayerApiError
    expect(error.message).to.contain('not JSON')
  })
})

describe('parseApiTimestamp', () => {
  it('reads zone-less timestamps as UTC and keeps explicit offsets', () => {
    expect(new Date(parseApiTimestamp('2025-06-02T10:30:00.123456')!).toISOString()).to.equal('2025-06-02T10:30:00.123Z')
    expect(new Date(parseApiTimestamp('2025-06-02T10:30:00')!).toISOString()).to.equal('2025-06-02T10:30:00.000Z')
    expect(new Date(parseApiTimestamp('2025-06-02T10:30:00+02:00')!).toISOString()).to.equal('2025-06-02T08:30:00.000Z')
    expect(parseApiTimestamp(null)).to.equal(undefined)
    expect(parseApiTimestamp('yesterday')).to.equal(undefined)
  })
})

describe('CloudPoller', () => {
  let fake: FakeHumanLayerApi
  let poller: CloudPoller | undefined
  afterEach(async () => {
    await poller?.stop()
    await fake.close()
  })

  /** A poller whose waits are recorded and end when the test says, so no test sleeps. */
  function recordingPoller(intervalMs: number, maxBackoffMs: number) {
    const delays: number[] = []
    const snapshots: CloudSnapshot[] = []
    let waitStarted: (() => void) | undefined
    let endWait: (() => void) | undefined
    poller = new CloudPoller({
      api: new HttpHumanLayerApi({baseUrl: fake.baseUrl, apiKey: fake.apiKey, timeoutMs: 5000}),
      intervalMs,
      maxBackoffMs,
      log,
      onSnapshot: (snapshot) => void snapshots.push(snapshot),
      wait: (ms, signal) =>
        new Promise<void>((resolve) => {
          delays.push(ms)
          endWait = resolve
          signal.addEventListener('abort', () => resolve(), {once: true})
          waitStarted?.()
        }),
    })
    return {
      delays,
      snapshots,
      /** Resolves once the poller has polled `n` times in all and waits. */
      async polls(n: number): Promise<void> {
        while (delays.length < n) await new Promise<void>((resolve) => (waitStarted = resolve))
      },
      /** Ends the current wait: the poller polls again. */
      release(): void {
        endWait?.()
      },
    }
  }

  it('polls at once, doubles its wait per failure up to the cap, and resets on success', async () => {
    fake = await startFakeHumanLayerApi()
    fake.addFunctionCall({run_id: 'r', fn: 'Write', kwargs: {}, call_id: 'call-1'})
    fake.failNext(4, {path: '/agent/function_calls/pending'})
    const run = recordingPoller(10, 100)
    poller!.start()
    for (let n = 1; n <= 6; n++) {
      await run.polls(n)
      if (n < 6) run.release()
    }
    expect(run.delays).to.deep.equal([20, 40, 80, 100, 10, 10])
    expect(run.snapshots).to.have.length(2)
    expect(run.snapshots[0].functionCalls.map((c) => c.call_id)).to.deep.equal(['call-1'])
    expect(poller!.status()).to.deep.equal({failures: 0})
  })

  it('stops while waiting', async () => {
    fake = await startFakeHumanLayerApi()
    const run = recordingPoller(60_000, 300_000)
    poller!.start()
    await run.polls(1)
    await poller!.stop()
    expect(run.snapshots).to.have.length(1)
  })

  it('keeps polling after a snapshot handler throws, counting it as a failure', async () => {
    fake = await startFakeHumanLayerApi()
    let calls = 0
    const delays: number[] = []
    poller = new CloudPoller({
      api: new HttpHumanLayerApi({baseUrl: fake.baseUrl, apiKey: fake.apiKey, timeoutMs: 5000}),
      intervalMs: 10,
      log,
      onSnapshot: () => {
        calls++
        if (calls === 1) throw new Error('store is busy')
      },
      wait: (ms) => {
        delays.push(ms)
        return Promise.resolve()
      },
    })
    poller.start()
    while (calls < 3) await new Promise((resolve) => setImmediate(resolve))
    await poller.stop()
    expect(delays.slice(0, 2)).to.deep.equal([20, 10])
  })
})
