/**
 * The policy engine end to end: the real Claude Code CLI, launched by the daemon, runs hld's
 * PreToolUse hook before its tool call (scripted per test through the fake Messages API), and the
 * daemon decides it by rule, by a human through the CLI, or by a timeout.
 */
import {existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'
import {expect} from 'chai'

import {claudeTestEnv, type FakeAnthropicApi, startFakeAnthropicApi} from '../fixtures/fake-anthropic-api.js'
import {waitForApproval} from '../helpers/approvals.js'
import {REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {FetchApprovals} from '../../src/protocol/approvals.js'
import {ListAudit} from '../../src/protocol/policy.js'
import {GetSessionState, LaunchSession} from '../../src/protocol/sessions.js'
import {isAlive} from '../../src/shared/procfs.js'

const CLAUDE = path.join(REPO_ROOT, 'node_modules', '.bin', 'claude')

describe('policy: real claude tool calls decided by rules, humans and timeouts', function () {
  this.timeout(120_000)
  let sandbox: Sandbox
  let api: FakeAnthropicApi | undefined
  let cwd: string

  beforeEach(() => {
    sandbox = new Sandbox()
    cwd = path.join(sandbox.root, 'work')
    mkdirSync(cwd, {recursive: true})
  })

  afterEach(async () => {
    await sandbox.cleanup()
    await api?.close()
    api = undefined
  })

  /** Starts the fake model (asking for one Bash command) and the daemon. */
  async function start(command: string, daemonEnv: Record<string, string> = {}): Promise<void> {
    api = await startFakeAnthropicApi({
      kind: 'tool-then-text',
      tool: {name: 'Bash', input: {command, description: 'Run it'}},
      text: 'Done.',
    })
    const claudeEnv: Record<string, string | undefined> = claudeTestEnv(api.url, path.join(sandbox.root, 'claude'))
    delete claudeEnv.HOME // the daemon keeps the sandbox HOME; claude gets its own config dir
    await sandbox.startDaemon({...claudeEnv, HUMANLAYER_CLAUDE_PATH: CLAUDE, ...daemonEnv})
  }

  async function call<T>(fn: (client: Awaited<ReturnType<Sandbox['client']>>) => Promise<T>): Promise<T> {
    const client = await sandbox.client()
    try {
      return await fn(client)
    } finally {
      client.close()
    }
  }

  async function launch(params: Record<string, unknown> = {}): Promise<string> {
    return (await call((c) => c.call(LaunchSession, {query: 'Do it', working_dir: cwd, ...params}))).session_id
  }

  async function ended(sessionId: string): Promise<string> {
    let status = ''
    await waitFor(
      async () => {
        status = (await call((c) => c.call(GetSessionState, {session_id: sessionId}))).session.status
        return ['completed', 'failed', 'interrupted'].includes(status)
      },
      90_000,
      'the session to end',
    )
    return status
  }

  const approvalsOf = (sessionId: string) =>
    call((c) => c.call(FetchApprovals, {session_id: sessionId, include_decided: true})).then((r) => r.approvals)
  const auditOf = (sessionId: string) => call((c) => c.call(ListAudit, {session_id: sessionId})).then((r) => r.entries)
  const marker = (name = 'marker.txt') => existsSync(path.join(cwd, name))

  it('a deny rule blocks the call, the model reads the reason, and no approval is made', async () => {
    await start('touch marker.txt')
    const id = await launch({deny: ['Bash(touch *)']})
    expect(await ended(id)).to.equal('completed')
    expect(marker()).to.equal(false)
    const result = api!.toolResults.at(-1)!
    expect(result.isError).to.equal(true)
    expect(result.content).to.contain('Bash(touch *)').and.contain('launch --deny')
    expect(await approvalsOf(id)).to.deep.equal([])
    const [entry] = await auditOf(id)
    expect(entry).to.include({tool_name: 'Bash', decision: 'deny', decided_by: 'policy', rule: 'Bash(touch *)'})
    expect(entry.tool_input).to.deep.include({command: 'touch marker.txt'})
  })

  it('an allow rule runs the call with no approval', async () => {
    await start('touch marker.txt')
    const id = await launch({allow: ['Bash(touch marker.txt)']})
    expect(await ended(id)).to.equal('completed')
    expect(marker()).to.equal(true)
    expect(await approvalsOf(id)).to.deep.equal([])
    expect(await auditOf(id))
      .to.have.lengthOf(1)
      .and.to.have.nested.property('[0].decision', 'allow')
  })

  it('a compound command with one unallowed part asks; approved from the CLI, it runs', async () => {
    await start('touch marker.txt && touch other.txt')
    const id = await launch({allow: ['Bash(touch marker.txt)']})
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === id), 'the compound approval')
    expect((await call((c) => c.call(GetSessionState, {session_id: id}))).session.status).to.equal('waiting_input')
    expect(marker()).to.equal(false)
    expect((await sandbox.cli(['approvals', 'approve', approval.id])).exitCode).to.equal(0)
    expect(await ended(id)).to.equal('completed')
    expect(marker() && marker('other.txt')).to.equal(true)
    expect(await approvalsOf(id)).to.have.lengthOf(1)
    expect((await auditOf(id)).map((e) => [e.decision, e.decided_by, e.approval_id])).to.deep.equal([['allow', 'human', approval.id]])
  })

  it('an ask denied from the CLI does not run, and the model reads the comment', async () => {
    await start('touch marker.txt')
    const id = await launch()
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === id), 'the approval')
    expect((await sandbox.cli(['approvals', 'deny', approval.id, '--comment', 'Not in this repo'])).exitCode).to.equal(0)
    expect(await ended(id)).to.equal('completed')
    expect(marker()).to.equal(false)
    expect(api!.toolResults.at(-1)).to.include({content: 'Not in this repo', isError: true})
    expect(await approvalsOf(id)).to.have.lengthOf(1)
  })

  for (const verdict of ['deny', 'allow'] as const) {
    it(`an approval left unanswered past --approval-timeout gets the --on-timeout verdict (${verdict})`, async () => {
      await start('touch marker.txt')
      const id = await launch({approval_timeout_ms: 1500, on_timeout: verdict})
      expect(await ended(id)).to.equal('completed')
      expect(marker()).to.equal(verdict === 'allow')
      const [approval] = await approvalsOf(id)
      expect(approval.status).to.equal('timed_out')
      expect(approval.decided_by).to.deep.equal({channel: 'timeout', verdict})
      expect(approval.comment).to.contain('timed out')
      if (verdict === 'deny') expect(api!.toolResults.at(-1)!.content).to.contain('timed out').and.contain('1500ms')
      expect((await auditOf(id)).map((e) => [e.decision, e.decided_by, e.provenance])).to.deep.equal([
        [verdict, 'timeout', {channel: 'timeout', verdict}],
      ])
    })
  }

  it('a daemon killed while the hook waits, and not restarted: the call never runs', async () => {
    await start('touch marker.txt', {HUMANLAYER_APPROVAL_RECONNECT_MS: '1500'})
    const id = await launch()
    await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === id), 'the approval')
    const db = new Database(sandbox.databasePath, {readonly: true})
    const {pid: claudePid} = db.prepare('SELECT pid FROM sessions WHERE id = ?').get(id) as {pid: number}
    db.close()
    const daemonPid = await sandbox.waitHealthy()
    process.kill(daemonPid, 'SIGKILL')
    sandbox.track(claudePid)
    try {
      await waitFor(() => api!.toolResults.length > 0, 60_000, 'the blocked tool call to reach the model')
      expect(api!.toolResults[0].isError).to.equal(true)
      expect(api!.toolResults[0].content).to.contain('unreachable').and.contain(sandbox.socketPath)
      await waitFor(() => !isAlive(claudePid), 60_000, 'claude to finish')
      expect(marker()).to.equal(false)
    } finally {
      if (isAlive(claudePid)) process.kill(-claudePid, 'SIGKILL')
    }
  })
})
