/**
 * End to end with the real Claude Code CLI launched by the daemon as a session, against the fake
 * Messages API asking for a Bash `touch` (echo is auto-allowed and would not ask). Needs the
 * daemon, its sessions service and `hld mcp claude-approvals`, all real.
 */
import {existsSync, mkdirSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {execa, type ResultPromise} from 'execa'

import {expect} from 'chai'

import {claudeTestEnv, type FakeAnthropicApi, startFakeAnthropicApi} from '../fixtures/fake-anthropic-api.js'
import {waitForApproval} from '../helpers/approvals.js'
import {REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {FetchApprovals, SendDecision} from '../../src/protocol/approvals.js'
import {GetSessionState, LaunchSession, type Session} from '../../src/protocol/sessions.js'

const CLAUDE = path.join(REPO_ROOT, 'node_modules', '.bin', 'claude')

describe('real claude sessions ask for approval', function () {
  this.timeout(90_000)
  let sandbox: Sandbox
  let api: FakeAnthropicApi

  beforeEach(async () => {
    api = await startFakeAnthropicApi({
      kind: 'tool-then-text',
      tool: {name: 'Bash', input: {command: 'touch marker.txt', description: 'Create marker'}},
      text: 'Done.',
    })
    sandbox = new Sandbox()
    const claudeEnv = claudeTestEnv(api.url, path.join(sandbox.root, 'claude'))
    // The daemon keeps the sandbox HOME; claude gets its own config dir.
    delete (claudeEnv as Record<string, string | undefined>).HOME
    await sandbox.startDaemon({...claudeEnv, HUMANLAYER_CLAUDE_PATH: CLAUDE})
  })

  afterEach(async () => {
    await sandbox.cleanup()
    await api.close()
  })

  async function launch(name = 'work'): Promise<{session_id: string; cwd: string}> {
    const cwd = path.join(sandbox.root, name)
    mkdirSync(cwd, {recursive: true})
    const client = await sandbox.client()
    try {
      return {...(await client.call(LaunchSession, {query: 'Create the marker file', working_dir: cwd})), cwd}
    } finally {
      client.close()
    }
  }

  async function waitForStatus(sessionId: string, status: string): Promise<void> {
    await waitFor(
      async () => {
        const client = await sandbox.client()
        try {
          return (await client.call(GetSessionState, {session_id: sessionId})).session.status === status
        } finally {
          client.close()
        }
      },
      60_000,
      `session ${status}`,
    )
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

  it('several sessions at once under CPU load all get their permission tool and complete', async () => {
    // Claude Code connects MCP servers in the background unless told to wait; a slow approvals
    // server then misses the first tool call: "MCP tool mcp__approvals__request_permission … not found".
    const burners: ResultPromise[] = []
    try {
      // Bounded busy loops, two per core, for the whole test (killed in finally; 120 s at most).
      for (let i = 0; i < 2 * os.availableParallelism(); i++) {
        burners.push(
          execa(process.execPath, ['-e', 'const end = Date.now() + 120000; while (Date.now() < end) {}'], {reject: false, stdin: 'ignore'}),
        )
      }
      const sessions = await Promise.all([1, 2, 3].map((n) => launch(`work-${n}`)))
      for (const session of sessions) {
        const client = await sandbox.client()
        try {
          // Its approval, unless the session ends first (the failure this test is about).
          let approvalId: string | undefined
          let ended: Session | undefined
          await waitFor(
            async () => {
              approvalId = (await client.call(FetchApprovals, {})).approvals.find((a) => a.session_id === session.session_id)?.id
              const state = (await client.call(GetSessionState, {session_id: session.session_id})).session
              if (['completed', 'failed', 'interrupted'].includes(state.status)) ended = state
              return approvalId !== undefined || ended !== undefined
            },
            60_000,
            `the approval of ${session.session_id}`,
          )
          expect(ended, `session ${session.session_id} ended before asking: ${ended?.error_message}`).to.equal(undefined)
          await client.call(SendDecision, {approval_id: approvalId!, decision: 'approve'})
        } finally {
          client.close()
        }
      }
      for (const session of sessions) {
        await waitForStatus(session.session_id, 'completed')
        expect(existsSync(path.join(session.cwd, 'marker.txt')), `marker of ${session.session_id}`).to.equal(true)
      }
      expect(api.toolResults.filter((r) => r.isError).map((r) => r.content)).to.deep.equal([])
    } finally {
      for (const burner of burners) burner.kill('SIGKILL')
      await Promise.all(burners)
    }
  })
})
