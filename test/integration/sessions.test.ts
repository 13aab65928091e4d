import {existsSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import type {DaemonClient} from '../../src/client/index.js'
import {hookSettings} from '../../src/daemon/policy/hook-settings.js'
import {isAlive} from '../../src/shared/procfs.js'
import {ErrorCode} from '../../src/protocol/errors.js'
import {
  ContinueSession,
  GetConversation,
  GetSessionState,
  InterruptSession,
  LaunchSession,
  ListSessions,
} from '../../src/protocol/sessions.js'
import {REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {rejected} from '../helpers/rpc.js'
import {FAKE_CLAUDE, queryDb, recordedRun, waitForStatus} from '../helpers/sessions.js'

const USER_UMASK = 0o002

describe('sessions (fake claude, real daemon)', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  let client: DaemonClient
  let recordDir: string
  let workDir: string

  before(async () => {
    sandbox = new Sandbox()
    recordDir = path.join(sandbox.root, 'runs')
    workDir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'hld-work-')))
    // The user's umask, distinct from both the usual 0022 and the daemon's own 0077.
    const testUmask = process.umask(USER_UMASK)
    await sandbox
      .startDaemon({
        HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE,
        FAKE_CLAUDE_RECORD_DIR: recordDir,
        HUMANLAYER_SESSION_STOP_TIMEOUT_MS: '1000',
        HUMANLAYER_API_KEY: 'hl-secret',
        ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
      })
      .finally(() => process.umask(testUmask))
    client = await sandbox.client()
  })

  after(async () => {
    client?.close()
    await sandbox.cleanup()
    rmSync(workDir, {recursive: true, force: true})
  })

  const launch = (query: string, extra: Record<string, unknown> = {}) => client.call(LaunchSession, {query, working_dir: workDir, ...extra})

  it('launches, lists, and completes with its cost, conversation and raw events stored', async () => {
    const {session_id, run_id} = await launch('hello [fake:cost=0.0123]')
    expect(session_id).to.match(/^[\da-f-]{36}$/)
    expect(run_id)
      .to.match(/^[\da-f-]{36}$/)
      .and.not.equal(session_id)
    const {sessions} = await client.call(ListSessions, {})
    expect(sessions.map((s) => s.id)).to.include(session_id)

    const session = await waitForStatus(client, session_id, 'completed')
    expect(session).to.include({run_id, cost_usd: 0.0123, num_turns: 1, working_dir: workDir})
    expect(session.result?.result).to.equal('Fake reply to: hello [fake:cost=0.0123]')
    expect(session.claude_session_id).to.be.a('string')
    expect(session.model_id).to.equal('claude-opus-4-8[1m]')
    expect(session.completed_at).to.be.a('string')

    const {events} = await client.call(GetConversation, {session_id})
    expect(events.map((e) => [e.sequence, e.event_type, e.role, e.content])).to.deep.equal([
      [1, 'message', 'user', 'hello [fake:cost=0.0123]'],
      [2, 'message', 'assistant', 'Fake reply to: hello [fake:cost=0.0123]'],
    ])
    expect(events.every((e) => e.claude_session_id === session.claude_session_id)).to.equal(true)
    const byClaude = await client.call(GetConversation, {claude_session_id: session.claude_session_id!})
    expect(byClaude.events).to.deep.equal(events)
    // init, assistant, result
    expect(
      queryDb<{n: number}>(sandbox.databasePath, 'SELECT COUNT(*) AS n FROM raw_events WHERE session_id = ?', session_id)[0].n,
    ).to.equal(3)
  })

  it('gives claude the flags, the MCP config with the approvals server, and removes the config when it ends', async () => {
    const {session_id, run_id} = await launch('flags [fake:slow=60000]', {
      model: 'sonnet',
      max_turns: 4,
      allowed_tools: ['Read', 'Grep'],
      additional_directories: ['sub'],
      mcp_config: {mcpServers: {docs: {command: 'docs-server', args: ['--x']}}},
    })
    const run = await recordedRun(recordDir, 'flags')
    expect(run.cwd).to.equal(workDir)
    // claude inherits the daemon's environment, except the HumanLayer API key.
    expect(run.env).to.include({ANTHROPIC_BASE_URL: 'http://127.0.0.1:9', HUMANLAYER_DAEMON_SOCKET: sandbox.socketPath})
    expect(run.env).to.not.have.property('HUMANLAYER_API_KEY')
    // claude waits for its MCP servers, so the permission tool is there before the first tool call.
    expect(run.env).to.include({MCP_CONNECTION_NONBLOCKING: 'false'})
    expect(run.argv.slice(-3)).to.deep.equal(['--print', '--', 'flags [fake:slow=60000]'])
    const flag = (name: string) => run.argv[run.argv.indexOf(name) + 1]
    expect(flag('--model')).to.equal('sonnet')
    expect(flag('--max-turns')).to.equal('4')
    expect(flag('--allowedTools')).to.equal('Read,Grep')
    expect(flag('--add-dir')).to.equal(path.join(workDir, 'sub'))
    expect(flag('--permission-prompt-tool')).to.equal('mcp__approvals__request_permission')
    expect(flag('--output-format')).to.equal('stream-json')
    expect(run.argv).to.include('--verbose')
    const identity = {HUMANLAYER_SESSION_ID: session_id, HUMANLAYER_RUN_ID: run_id, HUMANLAYER_DAEMON_SOCKET: sandbox.socketPath}
    expect(run.mcpConfig).to.deep.equal({
      mcpServers: {
        // Every stdio server learns which session it serves, as under the Go hld; only ours gets the key.
        docs: {command: 'docs-server', args: ['--x'], env: identity},
        approvals: {
          command: process.execPath,
          args: [path.join(REPO_ROOT, 'bin', 'mcp-claude-approvals.js')],
          // The daemon has an api_key, so its approvals server asks the HumanLayer API too.
          env: {...identity, HUMANLAYER_API_KEY: 'hl-secret'},
        },
      },
    })
    const configFile = flag('--mcp-config')
    // The session is still running (slow), so its config must still be there.
    expect(existsSync(configFile)).to.equal(true)
    // The policy's hook comes inline (it holds no secret), not as a file beside the config.
    expect(JSON.parse(flag('--settings'))).to.deep.equal(hookSettings({runId: run_id, socketPath: sandbox.socketPath, reconnectMs: 30_000}))
    expect(readdirSync(path.dirname(configFile))).to.deep.equal(['mcp-config.json'])
    await client.call(InterruptSession, {session_id})
    await waitForStatus(client, session_id, 'interrupted')
    expect(existsSync(configFile)).to.equal(false)
  })

  it('with approvals disabled passes no approvals server and no permission tool', async () => {
    const {session_id} = await launch('no approvals here', {disable_approvals: true})
    const run = await recordedRun(recordDir, 'no approvals here')
    expect(run.argv).to.not.include('--permission-prompt-tool')
    expect(run.argv).to.not.include('--mcp-config')
    const session = await waitForStatus(client, session_id, 'completed')
    expect(session.approvals_enabled).to.equal(false)
  })

  it("runs claude with the umask of whoever started the daemon, not the daemon's own 0077", async () => {
    const {session_id} = await launch('what umask')
    const run = await recordedRun(recordDir, 'what umask')
    await waitForStatus(client, session_id, 'completed')
    expect(run.umask.toString(8)).to.equal(USER_UMASK.toString(8))
    // A file claude wrote with the default mode: group-writable and readable by others, not 0600.
    expect((statSync(path.join(recordDir, `${run.pid}.json`)).mode & 0o777).toString(8)).to.equal('664')
  })

  it('runs 5 concurrent sessions without mixing them up', async () => {
    const launched = await Promise.all([1, 2, 3, 4, 5].map((n) => launch(`concurrent ${n} [fake:events=50]`)))
    expect(new Set(launched.flatMap((l) => [l.session_id, l.run_id])).size).to.equal(10)
    for (const [index, {session_id}] of launched.entries()) {
      const session = await waitForStatus(client, session_id, 'completed')
      expect(session.result?.result).to.equal(`Fake reply to: concurrent ${index + 1} [fake:events=50]`)
      const {events} = await client.call(GetConversation, {session_id})
      expect(events).to.have.length(52)
      expect(events.map((e) => e.sequence)).to.deep.equal(Array.from({length: 52}, (_, i) => i + 1))
      expect(events.every((e) => e.session_id === session_id)).to.equal(true)
    }
  })

  it('interrupts a running session: interrupting, then interrupted', async () => {
    const {session_id} = await launch('wait for me [fake:slow=60000]')
    const run = await recordedRun(recordDir, 'wait for me')
    await waitForStatus(client, session_id, 'running')
    const result = await client.call(InterruptSession, {session_id})
    expect(result).to.deep.equal({success: true, session_id, status: 'interrupting'})
    const session = await waitForStatus(client, session_id, 'interrupted')
    expect(session.completed_at).to.be.a('string')
    expect(isAlive(run.pid)).to.equal(false)
    const again = await rejected(client.call(InterruptSession, {session_id}))
    expect(again.code).to.equal(ErrorCode.Conflict)
    expect(again.message).to.match(/status is interrupted/)
  })

  it('kills a claude that ignores SIGINT once the stop timeout passes', async () => {
    const {session_id} = await launch('stubborn [fake:ignore-sigint]')
    const run = await recordedRun(recordDir, 'stubborn')
    // Its "working" message comes after it started ignoring SIGINT.
    await waitFor(async () => (await client.call(GetConversation, {session_id})).events.length === 2)
    await client.call(InterruptSession, {session_id})
    await waitForStatus(client, session_id, 'interrupted')
    expect(isAlive(run.pid)).to.equal(false)
    expect(readFileSync(sandbox.logFile, 'utf8')).to.match(new RegExp(`claude ignored SIGINT; killing its process group.*${session_id}`))
  })

  it('continues a session as a child that resumes it in the same directory, inheriting settings', async () => {
    const parent = await launch('first question', {system_prompt: 'Be brief.', max_turns: 2, title: 'Thread'})
    const parentState = await waitForStatus(client, parent.session_id, 'completed')
    const child = await client.call(ContinueSession, {session_id: parent.session_id.slice(0, 8), query: 'second question'})
    expect(child).to.include({parent_session_id: parent.session_id, claude_session_id: ''})
    expect(child.session_id).to.not.equal(parent.session_id)
    const childState = await waitForStatus(client, child.session_id, 'completed')
    expect(childState).to.include({parent_session_id: parent.session_id, working_dir: workDir, system_prompt: 'Be brief.', title: 'Thread'})
    expect(childState.max_turns).to.equal(undefined)
    expect(childState.claude_session_id).to.not.equal(parentState.claude_session_id)

    const run = await recordedRun(recordDir, 'second question')
    expect(run.cwd).to.equal(workDir)
    expect(run.argv.slice(0, 3)).to.deep.equal(['--resume', parentState.claude_session_id, '--fork-session'])
    expect(run.argv).to.not.include('--max-turns')

    const {events} = await client.call(GetConversation, {session_id: child.session_id})
    expect(events.map((e) => [e.session_id, e.content])).to.deep.equal([
      [parent.session_id, 'first question'],
      [parent.session_id, 'Fake reply to: first question'],
      [child.session_id, 'second question'],
      [child.session_id, 'Fake reply to: second question'],
    ])
  })

  it('interrupts a running parent before continuing it', async () => {
    const parent = await launch('long task [fake:slow=60000]')
    await recordedRun(recordDir, 'long task')
    // The parent needs its claude session id (from init) before it can be resumed.
    await waitFor(async () => (await client.call(GetSessionState, {session_id: parent.session_id})).session.claude_session_id !== undefined)
    const child = await client.call(ContinueSession, {session_id: parent.session_id, query: 'change of plan'})
    expect((await waitForStatus(client, parent.session_id, 'interrupted')).error_message).to.equal(
      'Interrupted to be continued by a new session.',
    )
    await waitForStatus(client, child.session_id, 'completed')
  })

  it('marks a crash failed with the end of its stderr, and an error result failed with its errors', async () => {
    const crash = await launch('crash now [fake:crash]')
    const crashed = await waitForStatus(client, crash.session_id, 'failed')
    expect(crashed.error_message).to.equal('claude exited with code 3 before sending a result: fake-claude: simulated crash ([fake:crash])')

    const error = await launch('error now [fake:error]')
    const errored = await waitForStatus(client, error.session_id, 'failed')
    expect(errored.error_message).to.match(/error_during_execution: fake-claude: simulated error/)
  })

  it('stores a 12 MiB line whole', async () => {
    const {session_id} = await launch('big [fake:huge=12]')
    await waitForStatus(client, session_id, 'completed', 30_000)
    const rows = queryDb<{len: number}>(
      sandbox.databasePath,
      "SELECT length(content) AS len FROM conversation_events WHERE session_id = ? AND event_type = 'message' ORDER BY sequence",
      session_id,
    )
    expect(rows.map((r) => r.len)).to.include(12 * 1024 * 1024)
  })

  it('rejects a missing working directory, an unknown session, a blank query and /compact with clear errors', async () => {
    const missing = await rejected(client.call(LaunchSession, {query: 'x', working_dir: path.join(workDir, 'nope')}))
    expect(missing.code).to.equal(ErrorCode.InvalidParams)
    expect(missing.message).to.match(/working_dir .*nope is not an existing directory/)
    const unknown = await rejected(client.call(InterruptSession, {session_id: 'no-such-session'}))
    expect(unknown.code).to.equal(ErrorCode.NotFound)
    const blank = await rejected(client.call(LaunchSession, {query: '  '}))
    expect(blank.code).to.equal(ErrorCode.InvalidParams)
    const compact = await rejected(client.call(ContinueSession, {session_id: 'whatever', query: ' /compact'}))
    expect(compact.code).to.equal(ErrorCode.InvalidParams)
    expect(compact.message).to.match(/\/clear and \/compact hang/)
  })
})
