/**
 * The whole event path with nothing stubbed: the real claude writes stream-json to its stdout,
 * the daemon parses it, appends events to the durable log, and a `Subscribe` client on its own
 * connection receives them live; a second client that subscribes afterwards with `since`
 * replays exactly the same events from the log.
 */
import path from 'node:path'

import {expect} from 'chai'

import type {DaemonClient} from '../../src/client/index.js'
import {streamEvents} from '../../src/client/subscribe.js'
import type {DaemonEvent} from '../../src/protocol/events.js'
import {LaunchSession} from '../../src/protocol/sessions.js'
import {DEFAULT_FAKE_TEXT, type FakeAnthropicApi, claudeTestEnv, startFakeAnthropicApi} from '../fixtures/fake-anthropic-api.js'
import {REPO_ROOT, Sandbox} from '../helpers/sandbox.js'

const REAL_CLAUDE = path.join(REPO_ROOT, 'node_modules', '.bin', 'claude')

const TERMINAL = ['completed', 'failed', 'interrupted']

/** Events from `since` on (of one session, or of all), until `sessionId()`'s status becomes terminal. */
async function eventsUntilEnd(options: {
  socketPath: string
  since?: number
  sessionId: () => string | undefined
  filter?: {session_id: string}
  signal: AbortSignal
  onSubscribed?: () => void
}): Promise<DaemonEvent[]> {
  const events: DaemonEvent[] = []
  const stream = streamEvents({
    target: options.socketPath,
    since: options.since,
    signal: options.signal,
    filter: options.filter,
    onStatus: (status) => status.state === 'subscribed' && options.onSubscribed?.(),
  })
  for await (const event of stream) {
    events.push(event)
    const ended = event.type === 'session_status_changed' && TERMINAL.includes(event.data.new_status)
    if (ended && event.data.session_id === options.sessionId()) break
  }
  return events
}

describe('e2e: real claude stdout → the event log → Subscribe clients', function () {
  this.timeout(60_000)
  let api: FakeAnthropicApi
  let sandbox: Sandbox
  let client: DaemonClient
  const abort = new AbortController()

  before(async () => {
    api = await startFakeAnthropicApi({kind: 'text'})
    sandbox = new Sandbox()
    await sandbox.startDaemon({HUMANLAYER_CLAUDE_PATH: REAL_CLAUDE, ...claudeTestEnv(api.url, path.join(sandbox.root, 'claude-home'))})
    client = await sandbox.client()
  })

  after(async () => {
    abort.abort()
    client?.close()
    await sandbox?.cleanup()
    await api?.close()
  })

  it('delivers a session live, in order, and a late subscriber replays the same events from the log', async () => {
    // Subscribed before the launch: what arrives is delivered live, not replayed.
    const launched: {id?: string} = {}
    let subscribed!: () => void
    const ready = new Promise<void>((resolve) => (subscribed = resolve))
    const collecting = eventsUntilEnd({
      socketPath: sandbox.socketPath,
      sessionId: () => launched.id,
      signal: abort.signal,
      onSubscribed: subscribed,
    })
    await ready
    const sessionId = (await client.call(LaunchSession, {query: 'Say hello', working_dir: sandbox.root})).session_id
    launched.id = sessionId
    const live = (await collecting).filter((e) => 'session_id' in e.data && e.data.session_id === sessionId)

    const statuses = live.filter((e) => e.type === 'session_status_changed').map((e) => e.data.new_status)
    expect(statuses.at(-1)).to.equal('completed')
    const said = live.flatMap((e) => (e.type === 'conversation_updated' && e.data.role === 'assistant' ? [e.data.content] : []))
    expect(said).to.include(DEFAULT_FAKE_TEXT)
    const ids = live.map((e) => e.id)
    expect(ids).to.deep.equal([...ids].sort((a, b) => a - b))

    // A subscriber that comes afterwards replays the same events from the durable log.
    const replayed = await eventsUntilEnd({
      socketPath: sandbox.socketPath,
      since: 0,
      sessionId: () => launched.id,
      filter: {session_id: sessionId},
      signal: abort.signal,
    })
    expect(replayed.map((e) => [e.id, e.type])).to.deep.equal(live.map((e) => [e.id, e.type]))
  })
})
