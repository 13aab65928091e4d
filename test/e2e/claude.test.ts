import path from 'node:path'

import {expect} from 'chai'

import type {DaemonClient} from '../../src/client/index.js'
import {ContinueSession, GetConversation, LaunchSession} from '../../src/protocol/sessions.js'
import {DEFAULT_FAKE_TEXT, type FakeAnthropicApi, claudeTestEnv, startFakeAnthropicApi} from '../fixtures/fake-anthropic-api.js'
import {REPO_ROOT, Sandbox} from '../helpers/sandbox.js'
import {waitForStatus} from '../helpers/sessions.js'

const REAL_CLAUDE = path.join(REPO_ROOT, 'node_modules', '.bin', 'claude')

describe('e2e: the real Claude Code CLI against a fake Anthropic API', function () {
  this.timeout(60_000)
  let api: FakeAnthropicApi
  let sandbox: Sandbox
  let client: DaemonClient

  before(async () => {
    api = await startFakeAnthropicApi({kind: 'text'})
    sandbox = new Sandbox()
    // The daemon's environment is claude's: fake API, isolated config dir and HOME, no telemetry.
    await sandbox.startDaemon({HUMANLAYER_CLAUDE_PATH: REAL_CLAUDE, ...claudeTestEnv(api.url, path.join(sandbox.root, 'claude-home'))})
    client = await sandbox.client()
  })

  after(async () => {
    client?.close()
    await sandbox?.cleanup()
    await api?.close()
  })

  it('completes a session and stores the fake model answer in its conversation', async () => {
    const {session_id} = await client.call(LaunchSession, {query: 'Say hello', working_dir: sandbox.root})
    const session = await waitForStatus(client, session_id, ['completed', 'failed'], 45_000)
    expect(session.status, session.error_message).to.equal('completed')
    expect(session.result?.result).to.equal(DEFAULT_FAKE_TEXT)
    expect(session.cost_usd).to.be.a('number')
    expect(session.claude_session_id).to.match(/^[\da-f-]{36}$/)

    const {events} = await client.call(GetConversation, {session_id})
    expect(events[0]).to.include({event_type: 'message', role: 'user', content: 'Say hello'})
    expect(events.map((e) => e.content)).to.include(DEFAULT_FAKE_TEXT)
    const posts = api.requests.filter((r) => r.method === 'POST')
    expect(posts.length).to.be.greaterThan(0)
    expect(posts[0].headers['x-claude-code-session-id']).to.equal(session.claude_session_id)
  })

  it('continues a session: claude resumes the conversation under a new claude session id', async () => {
    const parent = await client.call(LaunchSession, {query: 'Remember the word kumquat', working_dir: sandbox.root})
    const parentState = await waitForStatus(client, parent.session_id, ['completed', 'failed'], 45_000)
    expect(parentState.status, parentState.error_message).to.equal('completed')
    const child = await client.call(ContinueSession, {session_id: parent.session_id, query: 'Which word?'})
    const childState = await waitForStatus(client, child.session_id, ['completed', 'failed'], 45_000)
    expect(childState.status, childState.error_message).to.equal('completed')
    expect(childState.claude_session_id).to.be.a('string').and.not.equal(parentState.claude_session_id)
    // The resumed request carries the parent's turn: resume found the conversation.
    const last = api.requests.filter((r) => r.method === 'POST').at(-1)!
    expect(JSON.stringify(last.body)).to.include('Remember the word kumquat')
    const {events} = await client.call(GetConversation, {session_id: child.session_id})
    expect(
      events
        .map((e) => e.content)
        .filter((c) => c !== undefined)
        .slice(0, 1),
    ).to.deep.equal(['Remember the word kumquat'])
  })
})
