/**
 * Clients built for the Go hld against this daemon (fake claude, real daemon and socket): the
 * envelope quirks Go clients rely on, sessions decoded as Go's structs, the launch params and
 * MCP wiring Go clients send.
 */
import {existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {DaemonClient} from '../../src/client/index.js'
import {ErrorCode} from '../../src/protocol/errors.js'
import {CreateApproval, GetApproval} from '../../src/protocol/approvals.js'
import {GetSessionState, LaunchSession, ListSessions, type Session} from '../../src/protocol/sessions.js'
import {waitForApproval} from '../helpers/approvals.js'
import {goDecodeErrors} from '../helpers/go-decode.js'
import {RawConnection} from '../helpers/raw-socket.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, recordedRun, waitForStatus} from '../helpers/sessions.js'

interface Reply {
  id: unknown
  result?: Record<string, unknown>
  error?: {code: number; message: string}
}

describe('Go hld clients (fake claude, real daemon)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let client: DaemonClient
  let raw: RawConnection
  let workDir: string
  let recordDir: string

  before(async () => {
    sandbox = new Sandbox()
    recordDir = path.join(sandbox.root, 'runs')
    workDir = path.join(sandbox.root, 'work')
    mkdirSync(workDir, {recursive: true})
    await sandbox.startDaemon({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, FAKE_CLAUDE_RECORD_DIR: recordDir})
    client = await sandbox.client()
  })

  after(async () => {
    client?.close()
    await sandbox.cleanup()
  })

  beforeEach(async () => {
    raw = await RawConnection.open(sandbox.socketPath)
  })

  afterEach(() => raw.close())

  const launch = (query: string, extra: Record<string, unknown> = {}) => client.call(LaunchSession, {query, working_dir: workDir, ...extra})

  describe('the envelope', () => {
    it('takes params: null like absent params (Go marshals a nil params as null)', async () => {
      const health = await raw.request<Reply>({jsonrpc: '2.0', method: 'health', params: null, id: 11})
      expect(health.id).to.equal(11)
      expect(health.result?.status).to.equal('ok')
      const list = await raw.request<Reply>({jsonrpc: '2.0', method: 'listSessions', params: null, id: 'twelve'})
      expect(list.id).to.equal('twelve')
      expect(list.result?.sessions).to.be.an('array')
    })

    it('answers a request whose jsonrpc is not "2.0" with -32600 and its own id', async () => {
      const reply = await raw.request<Reply>({jsonrpc: '1.0', method: 'health', id: 9})
      expect(reply.error?.code).to.equal(ErrorCode.InvalidRequest)
      expect(reply.id).to.equal(9)
      const missing = await raw.request<Reply>({method: 'health', id: 'x'})
      expect(missing.id).to.equal('x')
    })

    it('subscribes with event types and keys it does not know (they never match) instead of an error frame', async () => {
      raw.write(
        `${JSON.stringify({jsonrpc: '2.0', method: 'Subscribe', params: {event_types: ['session_settings_changed', 'from_the_future'], client_name: 'codelayer'}, id: 1})}\n`,
      )
      const confirmation = await raw.next<Reply>()
      expect(confirmation.error).to.equal(undefined)
      expect(confirmation.result?.subscription_id).to.be.a('string')
    })
  })

  describe("sessions decode into Go's session.Info", () => {
    let completed: Session
    let failed: Session

    before(async () => {
      const ok = await launch('decode me [fake:cost=0.5]')
      const bad = await launch('fail me [fake:error]')
      completed = await waitForStatus(client, ok.session_id, 'completed')
      failed = await waitForStatus(client, bad.session_id, 'failed')
    })

    it('listSessions items decode without error, with start_time, end_time, error and result as an object', async () => {
      const {sessions} = await client.call(ListSessions, {})
      expect(sessions.length).to.be.greaterThanOrEqual(2)
      for (const session of sessions) expect(goDecodeErrors(session, 'session.Info'), session.id).to.deep.equal([])
      const ok = sessions.find((s) => s.id === completed.id)!
      expect(ok.start_time).to.equal(ok.created_at)
      expect(ok.end_time).to.equal(ok.completed_at)
      expect(ok.result).to.include({
        type: 'result',
        is_error: false,
        total_cost_usd: 0.5,
        num_turns: 1,
        result: 'Fake reply to: decode me [fake:cost=0.5]',
      })
      expect(ok.result?.session_id).to.equal(ok.claude_session_id)
      expect(ok).to.include({archived: false, auto_accept_edits: false, dangerously_skip_permissions: false, working_dir: workDir})
      const bad = sessions.find((s) => s.id === failed.id)!
      expect(bad.error)
        .to.equal(bad.error_message)
        .and.match(/error_during_execution/)
    })

    it("getSessionState's session decodes as Info and as Go's SessionState, keeping hld's own keys", async () => {
      for (const id of [completed.id, failed.id]) {
        const {session} = await client.call(GetSessionState, {session_id: id})
        expect(goDecodeErrors(session, 'session.Info')).to.deep.equal([])
        expect(goDecodeErrors(session, 'rpc.SessionState')).to.deep.equal([])
        expect(session).to.have.property('approvals_enabled', true)
      }
    })

    it('the decoder catches what broke Go clients before: result as a string, no start_time', () => {
      const before = {...completed, result: 'Fake reply', start_time: undefined}
      delete before.start_time
      expect(goDecodeErrors(before, 'session.Info')).to.deep.equal([
        'session.Info.start_time: missing (Go always sends it)',
        'session.Info.result: Go claudecode.Result cannot take "Fake reply"',
      ])
    })
  })

  describe('launchSession as Go clients call it', () => {
    it('keeps dangerously_skip_permissions with its timeout, custom_instructions, and accepts verbose', async () => {
      const before = Date.now()
      const {session_id} = await launch('settings [fake:slow=60000]', {
        dangerously_skip_permissions: true,
        dangerously_skip_permissions_timeout: 600_000,
        custom_instructions: 'Be brief',
        verbose: true,
      })
      const {session} = await client.call(GetSessionState, {session_id})
      expect(session.dangerously_skip_permissions).to.equal(true)
      const expiresAt = Date.parse(session.dangerously_skip_permissions_expires_at!)
      expect(expiresAt).to.be.within(before + 600_000, Date.now() + 600_000)
      expect(session.custom_instructions).to.equal('Be brief')
      await client.call({name: 'interruptSession'}, {session_id})
      await waitForStatus(client, session_id, 'interrupted')
    })

    it('gives the permission tool mcp__codelayer__request_permission a working server: approve, the tool runs', async () => {
      const cwd = path.join(sandbox.root, 'codelayer')
      mkdirSync(cwd, {recursive: true})
      const {session_id} = await client.call(LaunchSession, {
        query: '[fake:permission] codelayer marker',
        working_dir: cwd,
        permission_prompt_tool: 'mcp__codelayer__request_permission',
      })
      const run = await recordedRun(recordDir, 'codelayer marker')
      expect(Object.keys(run.mcpConfig!.mcpServers)).to.deep.equal(['codelayer'])
      const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === session_id))
      expect((await sandbox.cli(['approvals', 'approve', approval.id])).exitCode).to.equal(0)
      await waitForStatus(client, session_id, 'completed')
      expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(true)
    })

    it("gives user stdio MCP servers the session's identity and the daemon's socket, HTTP ones an X-Session-ID header", async () => {
      const {session_id, run_id} = await launch('mcp identity', {
        mcp_config: {
          mcpServers: {
            docs: {command: 'docs-server', env: {KEEP: 'yes'}},
            web: {type: 'http', url: 'http://127.0.0.1:9/mcp'},
          },
        },
      })
      const run = await recordedRun(recordDir, 'mcp identity')
      expect(run.mcpConfig!.mcpServers.docs.env).to.deep.equal({
        KEEP: 'yes',
        HUMANLAYER_SESSION_ID: session_id,
        HUMANLAYER_RUN_ID: run_id,
        HUMANLAYER_DAEMON_SOCKET: sandbox.socketPath,
      })
      expect(run.mcpConfig!.mcpServers.web).to.deep.include({headers: {'X-Session-ID': session_id}})
      await waitForStatus(client, session_id, 'completed')
    })
  })

  it('createApproval with a tool_use_id takes the session id in run_id, as the Go CLI sends it', async () => {
    const {session_id} = await launch('approval by session id [fake:slow=60000]')
    await waitForStatus(client, session_id, 'running')
    const {approval_id} = await client.call(CreateApproval, {
      run_id: session_id,
      tool_name: 'Write',
      tool_input: {file_path: 'a'},
      tool_use_id: 'toolu_1',
    })
    const {approval} = await client.call(GetApproval, {approval_id})
    expect(approval).to.include({session_id, status: 'pending', tool_use_id: 'toolu_1'})
    await waitFor(
      async () => (await client.call(GetSessionState, {session_id})).session.status === 'waiting_input',
      10_000,
      'waiting_input',
    )
    await client.call({name: 'interruptSession'}, {session_id})
    await waitForStatus(client, session_id, 'interrupted')
  })
})
