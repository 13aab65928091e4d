/**
 * The official `humanlayer` CLI (npm humanlayer@0.17.2-npm, the Go hld's companion) as a real
 * client of this daemon: its `launch` (which names mcp__codelayer__request_permission) and its
 * `mcp claude_approvals` server, with the real claude against the fake Messages API asking for
 * a Bash `touch`. The CLI finds the daemon through HUMANLAYER_DAEMON_SOCKET (its config
 * resolver's env var for `daemon_socket`), and its MCP server through the same variable plus
 * HUMANLAYER_SESSION_ID, which the daemon gives every stdio MCP server.
 */
import {existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'
import {execa} from 'execa'

import {claudeTestEnv, type FakeAnthropicApi, startFakeAnthropicApi} from '../fixtures/fake-anthropic-api.js'
import {waitForApproval} from '../helpers/approvals.js'
import {REPO_ROOT, Sandbox} from '../helpers/sandbox.js'
import {waitForStatus} from '../helpers/sessions.js'
import {LaunchSession} from '../../src/protocol/sessions.js'

const CLAUDE = path.join(REPO_ROOT, 'node_modules', '.bin', 'claude')
const HUMANLAYER = path.join(REPO_ROOT, 'node_modules', 'humanlayer', 'dist', 'index.js')

describe('e2e: the official humanlayer CLI against hld', function () {
  this.timeout(90_000)
  let sandbox: Sandbox
  let api: FakeAnthropicApi
  let cwd: string

  beforeEach(async () => {
    api = await startFakeAnthropicApi({
      kind: 'tool-then-text',
      tool: {name: 'Bash', input: {command: 'touch marker.txt', description: 'Create marker'}},
      text: 'Done.',
    })
    sandbox = new Sandbox()
    const claudeEnv = claudeTestEnv(api.url, path.join(sandbox.root, 'claude'))
    delete (claudeEnv as Record<string, string | undefined>).HOME
    await sandbox.startDaemon({...claudeEnv, HUMANLAYER_CLAUDE_PATH: CLAUDE})
    cwd = path.join(sandbox.root, 'work')
    mkdirSync(cwd, {recursive: true})
  })

  afterEach(async () => {
    await sandbox.cleanup()
    await api.close()
  })

  async function approveAndComplete(sessionId: string): Promise<void> {
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === sessionId), 'the Bash approval', 60_000)
    expect(approval).to.include({tool_name: 'Bash', status: 'pending'})
    expect((await sandbox.cli(['approvals', 'approve', approval.id])).exitCode).to.equal(0)
    const client = await sandbox.client()
    try {
      await waitForStatus(client, sessionId, 'completed', 60_000)
    } finally {
      client.close()
    }
    expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(true)
  }

  it('`humanlayer launch … -w DIR`: the approval appears, hld approves it, the tool runs and the session completes', async () => {
    const launched = await execa(process.execPath, [HUMANLAYER, 'launch', 'Create the marker file', '-w', cwd], {
      env: sandbox.env(),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: 30_000,
    })
    expect(launched.exitCode, `${launched.stdout}\n${launched.stderr}`).to.equal(0)
    const sessionId = /Session ID: (\S+)/.exec(launched.stdout)?.[1]
    expect(sessionId, launched.stdout).to.be.a('string')
    await approveAndComplete(sessionId!)
  })

  it("its `mcp claude_approvals` server as a session's permission tool works the same way", async () => {
    const client = await sandbox.client()
    let sessionId: string
    try {
      ;({session_id: sessionId} = await client.call(LaunchSession, {
        query: 'Create the marker file',
        working_dir: cwd,
        mcp_config: {mcpServers: {official: {command: process.execPath, args: [HUMANLAYER, 'mcp', 'claude_approvals']}}},
        permission_prompt_tool: 'mcp__official__request_permission',
      }))
    } finally {
      client.close()
    }
    await approveAndComplete(sessionId)
  })
})
