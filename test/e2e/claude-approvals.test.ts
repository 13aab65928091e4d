/**
 * End to end with the real Claude Code CLI launched by the daemon as a session, against the fake
 * Messages API asking for a Bash `touch` (echo is auto-allowed and would not ask). Needs the
 * daemon, its sessions service and `hld mcp claude-approvals`, all real.
 */
import {existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {claudeTestEnv, type FakeAnthropicApi, startFakeAnthropicApi} from '../fixtures/fake-anthropic-api.js'
import {waitForApproval} from '../helpers/approvals.js'
import {REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {GetSessionState, LaunchSession} from '../../src/protocol/sessions.js'

const CLAUDE = path.join(REPO_ROOT, 'node_modules', '.bin', 'claude')

describe('real claude sessions ask for approval', function () {
  this.timeout(90_000)
  let sandbox: Sandbox
  let api: FakeAnthropicApi

  beforeEach(async () => {
    api = await startFakeAnthropicApi({kind: 'tool-then-text', tool: {name: 'Bash', input: {command: 'touch marker.txt', description: 'Create marker'}}, text: 'Done.'})
    sandbox = new Sandbox()
    const claudeEnv = claudeTestEnv(api.url, path.join(sandbox.root, 'claude'))
    // The daemon keeps the sandbox HOME; claude gets its own config dir.
    delete (claudeEnv as Record<string, string | undefined>).HOME
    // claude 2.1.197 connects MCP servers without waiting; on a loaded machine the permission
    // server may not be up when the first tool call needs it ("tool … not found"). Make claude wait.
    await sandbox.startDaemon({...claudeEnv, HUMANLAYER_CLAUDE_PATH: CLAUDE, MCP_CONNECTION_NONBLOCKING: 'false'})
  })

  afterEach(async () => {
    await sandbox.cleanup()
    await api.close()
  })

  async function launch(): Promise<{session_id: string; cwd: string}> {
    const cwd = path.join(sandbox.root, 'work')
    mkdirSync(cwd, {recursive: true})
    const client = await sandbox.client()
    try {
      return {...(await client.call(LaunchSession, {query: 'Create the marker file', working_dir: cwd})), cwd}
    } finally {
      client.close()
    }
  }

  async function waitForStatus(sessionId: string, status: string): Promise<void> {
    await waitFor(async () => {
      const client = await sandbox.client()
      try {
        return (await client.call(GetSessionState, {session_id: sessionId})).session.status === status
      } finally {
        client.close()
      }
    }, 60_000, `session ${status}`)
  }

  it('lists the request under its session; approve: the file exists and the session completes', async () => {
    const session = await launch()
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === session.session_id), 'the Bash approval')
    const list = await sandbox.cli(['approvals', 'list'])
    expect(list.stdout).to.contain('touch marker.txt').and.contain(session.session_id.slice(0, 8))
    expect((await sandbox.cli(['approvals', 'approve', approval.id])).exitCode).to.equal(0)
    await waitForStatus(session.session_id, 'completed')
    expect(existsSync(path.join(session.cwd, 'marker.txt'))).to.equal(true)
  })

  it('deny with a comment: the model receives the comment, and the file does not exist', async () => {
    const session = await launch()
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === session.session_id), 'the Bash approval')
    expect((await sandbox.cli(['approvals', 'deny', approval.id, '--comment', 'Use /tmp for markers'])).exitCode).to.equal(0)
    await waitForStatus(session.session_id, 'completed')
    expect(api.toolResults.map((r) => [r.content, r.isError])).to.deep.include(['Use /tmp for markers', true])
    expect(existsSync(path.join(session.cwd, 'marker.txt'))).to.equal(false)
  })
})
