/**
 * The real Claude Code CLI asks `hld mcp claude-approvals` through --permission-prompt-tool, with
 * the fake Messages API asking for a Bash `touch` (echo is auto-allowed and would not ask). claude
 * runs directly here, with the daemon in this process and a sessions double; the same flow through
 * launchSession is in claude-approvals.test.ts.
 */
import {existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'
import {execa} from 'execa'

import {claudeTestEnv, type FakeAnthropicApi, startFakeAnthropicApi} from '../fixtures/fake-anthropic-api.js'
import {approvalsMcpConfig, InProcessDaemon, PERMISSION_TOOL, waitForApproval} from '../helpers/approvals.js'
import {FakeSessions} from '../helpers/fake-sessions.js'
import {REPO_ROOT, Sandbox} from '../helpers/sandbox.js'

const CLAUDE = path.join(REPO_ROOT, 'node_modules', '.bin', 'claude')

describe('real claude asks hld mcp claude-approvals', function () {
  this.timeout(90_000)
  let sandbox: Sandbox
  let api: FakeAnthropicApi
  let daemon: InProcessDaemon

  beforeEach(async () => {
    sandbox = new Sandbox()
    api = await startFakeAnthropicApi({kind: 'tool-then-text', tool: {name: 'Bash', input: {command: 'touch marker.txt', description: 'Create marker'}}, text: 'Done.'})
    const sessions = new FakeSessions()
    sessions.add({id: 'sess-e2e', run_id: 'run-e2e', title: 'e2e'})
    daemon = new InProcessDaemon(sandbox, sessions)
    await daemon.start()
  })

  afterEach(async () => {
    await daemon.stop()
    await api.close()
    await sandbox.cleanup()
  })

  function runClaude(cwd: string) {
    mkdirSync(cwd, {recursive: true})
    const child = execa(
      CLAUDE,
      ['--output-format', 'stream-json', '--verbose', '--mcp-config', approvalsMcpConfig(sandbox, 'run-e2e'), '--permission-prompt-tool', PERMISSION_TOOL, '--print', '--', 'Create the marker file'],
      {cwd, env: {...sandbox.env(), ...claudeTestEnv(api.url, path.join(sandbox.root, 'claude'))}, extendEnv: false, reject: false, stdin: 'ignore', timeout: 80_000},
    )
    if (child.pid) sandbox.track(child.pid)
    return child
  }

  it('approve: the command runs and claude finishes', async () => {
    const cwd = path.join(sandbox.root, 'work')
    const claude = runClaude(cwd)
    const approval = await waitForApproval(sandbox, (list) => list[0], 'the Bash approval')
    expect(approval.tool_name).to.equal('Bash')
    expect(approval.tool_input).to.deep.include({command: 'touch marker.txt'})
    expect(approval.tool_use_id, 'claude sends the tool_use_id').to.match(/^toolu_fake_/)
    expect((await sandbox.cli(['approvals', 'approve', approval.id])).exitCode).to.equal(0)
    const result = await claude
    expect(result.exitCode, String(result.stderr)).to.equal(0)
    expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(true)
  })

  it('deny with a comment: the model receives the comment, and the file does not exist', async () => {
    const cwd = path.join(sandbox.root, 'work')
    const claude = runClaude(cwd)
    const approval = await waitForApproval(sandbox, (list) => list[0], 'the Bash approval')
    expect((await sandbox.cli(['approvals', 'deny', approval.id, '--comment', 'Use /tmp for markers'])).exitCode).to.equal(0)
    const result = await claude
    expect(result.exitCode, String(result.stderr)).to.equal(0)
    expect(api.toolResults.map((r) => [r.content, r.isError])).to.deep.include(['Use /tmp for markers', true])
    expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(false)
  })
})
