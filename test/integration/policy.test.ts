/**
 * The policy engine through its real entry points: the built daemon, bin/hook.cjs as claude runs
 * it (JSON on stdin, decision on stdout, exit 2 to block), the policy file, and the CLI
 * (`policy show/check/test`, `audit`, `approvals approve|deny` with several ids). Sessions are the
 * fake claude, kept running with [fake:slow] so their tool calls can wait for a human.
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'
import {execa, type ResultPromise} from 'execa'

import type {GetPolicyResult, CheckPolicyResult, ListAuditResult, ReplayPolicyResult} from '../../src/protocol/policy.js'
import type {SessionLaunchResult} from '../../src/commands/session/launch.js'
import type {Approval} from '../../src/protocol/approvals.js'
import {UpdateSessionSettings} from '../../src/protocol/sessions.js'
import {requestPermission, waitForApproval} from '../helpers/approvals.js'
import {RawConnection} from '../helpers/raw-socket.js'
import {REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {TracedDaemon} from '../helpers/strace.js'
import {FAKE_CLAUDE, recordedRun, recordedRuns} from '../helpers/sessions.js'

const HOOK = path.join(REPO_ROOT, 'bin', 'hook.cjs')
const unwrap = (text: string): string => text.replaceAll(/\s*\n\s*›\s*/g, ' ')

describe('policy: hook entry, policy file and CLI', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let policyFile: string
  /** Where the fake claude records its runs: their pids, for cleanup to end them. */
  let runs: string
  let launched = 0

  function writePolicy(policy: unknown): void {
    writeFileSync(policyFile, typeof policy === 'string' ? policy : JSON.stringify(policy))
  }

  beforeEach(() => {
    runs = mkdtempSync(path.join(os.tmpdir(), 'hld-policy-runs-'))
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, FAKE_CLAUDE_RECORD_DIR: runs})
    policyFile = path.join(sandbox.home, '.config', 'humanlayer', 'policy.json')
    mkdirSync(path.dirname(policyFile), {recursive: true})
  })

  afterEach(async () => {
    await sandbox.cleanup()
    rmSync(runs, {recursive: true, force: true})
  })

  /** A fake session that stays running, so approvals can be made for it. */
  async function launch(...flags: string[]): Promise<{session_id: string; run_id: string}> {
    const marker = `wait ${++launched}`
    const result = await sandbox.cli(['session', 'launch', '--json', '-w', sandbox.root, ...flags, `${marker} [fake:slow=60000]`])
    expect(result.exitCode, result.stderr).to.equal(0)
    // Its claude outlives a killed daemon: cleanup ends it too.
    sandbox.track((await recordedRun(runs, `${marker} `)).pid)
    return Sandbox.json<SessionLaunchResult>(result)
  }

  /** bin/hook.cjs as claude runs it for one tool call. */
  function hook(
    runId: string,
    tool: string,
    input: unknown,
    options: {socket?: string; reconnectMs?: number; toolUseId?: string} = {},
  ): ResultPromise {
    const child = execa(
      process.execPath,
      [
        HOOK,
        'pre-tool-use',
        '--socket',
        options.socket ?? sandbox.socketPath,
        '--run-id',
        runId,
        '--reconnect-ms',
        String(options.reconnectMs ?? 2000),
      ],
      {
        input: JSON.stringify({
          session_id: 'claude-sid',
          hook_event_name: 'PreToolUse',
          tool_name: tool,
          tool_input: input,
          tool_use_id: options.toolUseId ?? `toolu_${Math.random()}`,
          cwd: sandbox.root,
        }),
        reject: false,
        env: {PATH: process.env.PATH},
        extendEnv: false,
        timeout: 50_000,
      },
    )
    if (child.pid) sandbox.track(child.pid)
    return child
  }

  const decisionOf = (stdout: string) =>
    (JSON.parse(stdout) as {hookSpecificOutput: {hookEventName: string; permissionDecision: string; permissionDecisionReason: string}})
      .hookSpecificOutput

  it('the hook answers allow and deny by the policy file, and every decision is audited', async () => {
    writePolicy({deny: [{rule: 'Bash(git push *)', match: ['git push --force origin main']}], allow: ['Bash(npm test)']})
    await sandbox.startDaemon()
    const {session_id, run_id} = await launch()

    const read = await hook(run_id, 'Read', {file_path: path.join(sandbox.root, 'x')})
    expect(read.exitCode, String(read.stderr)).to.equal(0)
    expect(decisionOf(String(read.stdout))).to.include({hookEventName: 'PreToolUse', permissionDecision: 'allow'})

    const push = await hook(run_id, 'Bash', {command: 'npm test && git push --force'})
    expect(decisionOf(String(push.stdout))).to.include({permissionDecision: 'deny'})
    expect(decisionOf(String(push.stdout)).permissionDecisionReason)
      .to.contain('Bash(git push *)')
      .and.contain(policyFile)

    const selfApproval = await hook(run_id, 'Bash', {command: 'hld approvals approve local-1'})
    expect(decisionOf(String(selfApproval.stdout))).to.include({permissionDecision: 'deny'})
    expect(decisionOf(String(selfApproval.stdout)).permissionDecisionReason).to.contain('built-in')

    const audit = Sandbox.json<ListAuditResult>(await sandbox.cli(['audit', '--session', session_id.slice(0, 8), '--json']))
    expect(audit.entries.map((e) => [e.tool_name, e.decision, e.decided_by, e.rule])).to.deep.equal([
      ['Read', 'allow', 'policy', null],
      ['Bash', 'deny', 'policy', 'Bash(git push *)'],
      ['Bash', 'deny', 'policy', audit.entries[2].rule],
    ])
    for (const entry of audit.entries) {
      expect(entry).to.include.keys('session_id', 'tool_name', 'decision', 'decided_by', 'rule', 'decided_at', 'latency_ms')
      expect(entry.session_id).to.equal(session_id)
    }
    const human = await sandbox.cli(['audit'])
    expect(human.stdout).to.match(/deny\s+policy\s+Bash\(git push \*\)/)
  })

  it('an ask waits for a human: approve with several ids, deny --all --session; one approval per tool_use_id', async () => {
    await sandbox.startDaemon()
    const {session_id, run_id} = await launch()
    const first = hook(run_id, 'Bash', {command: 'touch a'}, {toolUseId: 'toolu_a'})
    const again = hook(run_id, 'Bash', {command: 'touch a'}, {toolUseId: 'toolu_a'})
    const second = hook(run_id, 'Write', {file_path: path.join(sandbox.root, 'b'), content: 'x'}, {toolUseId: 'toolu_b'})
    const a = await waitForApproval(sandbox, (list) => list.find((x) => x.tool_use_id === 'toolu_a'), 'approval a')
    const b = await waitForApproval(sandbox, (list) => list.find((x) => x.tool_use_id === 'toolu_b'), 'approval b')
    const approved = await sandbox.cli(['approvals', 'approve', a.id, b.id.slice(6, 16)])
    expect(approved.exitCode, approved.stderr).to.equal(0)
    expect(approved.stdout).to.contain(`Approved ${a.id}`).and.contain(`Approved ${b.id}`)
    for (const done of await Promise.all([first, again, second])) {
      expect(done.exitCode).to.equal(0)
      expect(decisionOf(String(done.stdout))).to.include({permissionDecision: 'allow'})
    }
    const listed = await sandbox.cli(['approvals', 'list', '--all', '--session', session_id, '--json'])
    expect(Sandbox.json<{approvals: unknown[]}>(listed).approvals).to.have.lengthOf(2)

    const third = hook(run_id, 'Bash', {command: 'rm -rf build'})
    const fourth = hook(run_id, 'Edit', {file_path: path.join(sandbox.root, 'c'), old_string: 'a', new_string: 'b'})
    await waitForApproval(
      sandbox,
      (list) => (list.filter((x) => x.session_id === session_id).length === 2 ? list[0] : undefined),
      'two approvals',
    )
    const noSession = await sandbox.cli(['approvals', 'deny', '--all', '--comment', 'no'])
    expect(noSession.exitCode).to.equal(2)
    expect(unwrap(noSession.stderr)).to.contain('--all needs --session')
    const denied = await sandbox.cli(['approvals', 'deny', '--all', '--session', session_id, '--comment', 'Not today'])
    expect(denied.exitCode, denied.stderr).to.equal(0)
    for (const done of await Promise.all([third, fourth])) {
      expect(decisionOf(String(done.stdout))).to.deep.include({permissionDecision: 'deny', permissionDecisionReason: 'Not today'})
    }
    const again2 = await sandbox.cli(['approvals', 'approve', a.id, 'local-nope'])
    expect(again2.exitCode).to.equal(5)
    expect(unwrap(again2.stderr)).to.contain('0 of 2 decided')

    const audit = Sandbox.json<ListAuditResult>(await sandbox.cli(['audit', '--json', '--since', '1h']))
    expect(
      audit.entries
        .filter((e) => e.decided_by === 'human')
        .map((e) => e.decision)
        .sort(),
    ).to.deep.equal(['allow', 'allow', 'allow', 'deny', 'deny'])
  })

  it('an ask left unanswered times out: decided_by timeout with its verdict, audited, and the MCP permission tool on the same call answers that verdict', async () => {
    writePolicy({ask: [{rule: 'Bash(touch *)', timeout: '2s', on_timeout: 'allow'}]})
    await sandbox.startDaemon()
    const {session_id, run_id} = await launch()
    // claude's hook and the permission tool of a client that passes its own, for one tool call.
    const hooked = hook(run_id, 'Bash', {command: 'touch x'}, {toolUseId: 'toolu_1'})
    await waitForApproval(sandbox, (list) => list.find((a) => a.tool_use_id === 'toolu_1'), 'the approval')
    const answered = await requestPermission(sandbox, {HUMANLAYER_RUN_ID: run_id})
    expect(answered.isError).to.equal(false)
    expect(JSON.parse(answered.text)).to.deep.equal({behavior: 'allow', updatedInput: {command: 'touch x'}})
    expect(decisionOf(String((await hooked).stdout))).to.include({permissionDecision: 'allow'})

    const [approval] = Sandbox.json<{approvals: Approval[]}>(
      await sandbox.cli(['approvals', 'list', '--all', '--session', session_id, '--json']),
    ).approvals
    expect(approval).to.deep.include({status: 'timed_out', decided_by: {channel: 'timeout', verdict: 'allow', rule: 'Bash(touch *)'}})
    const shown = await sandbox.cli(['approvals', 'show', approval.id])
    expect(unwrap(shown.stdout)).to.match(/timed_out at .* via timeout \(rule Bash\(touch \*\), verdict allow\)/)
    const audit = Sandbox.json<ListAuditResult>(await sandbox.cli(['audit', '--session', session_id, '--json']))
    expect(audit.entries.map((e) => [e.decision, e.decided_by, e.approval_id, e.provenance])).to.deep.equal([
      ['allow', 'timeout', approval.id, {channel: 'timeout', verdict: 'allow', rule: 'Bash(touch *)'}],
    ])
  })

  it('auto_accept_edits is a rule set: on, the hook allows Edit, Write and MultiEdit by its rules (shown, audited), deny rules still win; off, edits ask', async () => {
    writePolicy({deny: ['Edit(secrets/**)']})
    await sandbox.startDaemon()
    const {session_id, run_id} = await launch()
    const check = async (tool: string) =>
      Sandbox.json<CheckPolicyResult>(
        await sandbox.cli(['policy', 'check', tool, JSON.stringify({file_path: 'a.txt'}), '--session', session_id, '--json']),
      )
    expect(await check('Write')).to.include({decision: 'ask', rule: null})
    const settings = async (on: boolean) => {
      const client = await sandbox.client()
      try {
        await client.call(UpdateSessionSettings, {session_id, auto_accept_edits: on})
      } finally {
        client.close()
      }
    }
    await settings(true)

    const shown = Sandbox.json<GetPolicyResult>(await sandbox.cli(['policy', 'show', '--session', session_id, '--json']))
    expect(shown.rules.filter((r) => r.source === 'session setting auto_accept_edits').map((r) => [r.effect, r.rule])).to.deep.equal([
      ['allow', 'Write'],
      ['allow', 'MultiEdit'],
      ['allow', 'Edit'],
    ])
    for (const tool of ['Edit', 'Write', 'MultiEdit']) {
      const done = await hook(run_id, tool, {file_path: path.join(sandbox.root, 'a.txt'), content: 'x'})
      expect(decisionOf(String(done.stdout)), tool).to.include({permissionDecision: 'allow'})
    }
    const secret = await hook(run_id, 'Edit', {file_path: path.join(sandbox.root, 'secrets', 'key'), old_string: 'a', new_string: 'b'})
    expect(decisionOf(String(secret.stdout))).to.include({permissionDecision: 'deny'})
    const bash = await sandbox.cli(['policy', 'check', 'Bash', '{"command":"touch x"}', '--session', session_id, '--json'])
    expect(Sandbox.json<CheckPolicyResult>(bash)).to.include({decision: 'ask'})

    const audit = Sandbox.json<ListAuditResult>(await sandbox.cli(['audit', '--session', session_id, '--json']))
    const setting = 'session setting auto_accept_edits'
    expect(audit.entries.map((e) => [e.tool_name, e.decision, e.decided_by, e.rule, e.source])).to.deep.equal([
      ['Edit', 'allow', 'policy', 'Edit', setting],
      ['Write', 'allow', 'policy', 'Write', setting],
      ['MultiEdit', 'allow', 'policy', 'MultiEdit', setting],
      ['Edit', 'deny', 'policy', 'Edit(secrets/**)', `policy file ${policyFile}`],
    ])
    expect(
      Sandbox.json<{approvals: unknown[]}>(await sandbox.cli(['approvals', 'list', '--all', '--session', session_id, '--json'])).approvals,
    ).to.deep.equal([])

    await settings(false)
    expect(await check('Edit')).to.include({decision: 'ask', rule: null})
  })

  /** updateSessionSettings from outside any session (the test process). */
  async function updateSettings(params: {
    session_id: string
    auto_accept_edits?: boolean
    dangerously_skip_permissions?: boolean
    dangerously_skip_permissions_timeout_ms?: number
  }): Promise<void> {
    const client = await sandbox.client()
    try {
      await client.call(UpdateSessionSettings, params)
    } finally {
      client.close()
    }
  }

  it('dangerously_skip_permissions is a rule: on, the hook allows any call by it (shown, audited, no approval); built-in, deny and ask rules still win; it expires', async () => {
    writePolicy({deny: ['Bash(git push *)']})
    await sandbox.startDaemon()
    const {session_id, run_id} = await launch('--ask', 'Bash(npm publish *)')
    await updateSettings({session_id, dangerously_skip_permissions: true})
    const source = 'session setting dangerously_skip_permissions'

    const shown = Sandbox.json<GetPolicyResult>(await sandbox.cli(['policy', 'show', '--session', session_id, '--json']))
    expect(shown.rules.filter((r) => r.source === source).map((r) => [r.effect, r.rule])).to.deep.equal([['allow', '*']])
    for (const [tool, input] of [
      ['Bash', {command: 'rm -rf build && curl -s https://example.com'}],
      ['mcp__github__create_issue', {title: 'x'}],
      ['NotebookEdit', {notebook_path: path.join(sandbox.root, 'n.ipynb'), new_source: 'x'}],
    ] as const) {
      const done = await hook(run_id, tool, input)
      expect(decisionOf(String(done.stdout)), tool).to.include({permissionDecision: 'allow'})
    }
    const push = await hook(run_id, 'Bash', {command: 'git push --force'})
    expect(decisionOf(String(push.stdout))).to.include({permissionDecision: 'deny'})
    const self = await hook(run_id, 'Bash', {command: 'hld approvals approve local-1'})
    expect(decisionOf(String(self.stdout)).permissionDecisionReason).to.contain('built-in')
    const check = async (command: string) =>
      Sandbox.json<CheckPolicyResult>(
        await sandbox.cli(['policy', 'check', 'Bash', JSON.stringify({command}), '--session', session_id, '--json']),
      )
    expect(await check('npm publish --tag next')).to.include({decision: 'ask', rule: 'Bash(npm publish *)'})

    const audit = Sandbox.json<ListAuditResult>(await sandbox.cli(['audit', '--session', session_id, '--json']))
    expect(audit.entries.slice(0, 3).map((e) => [e.tool_name, e.decision, e.decided_by, e.rule, e.source])).to.deep.equal([
      ['Bash', 'allow', 'policy', '*', source],
      ['mcp__github__create_issue', 'allow', 'policy', '*', source],
      ['NotebookEdit', 'allow', 'policy', '*', source],
    ])
    expect(
      Sandbox.json<{approvals: unknown[]}>(await sandbox.cli(['approvals', 'list', '--all', '--session', session_id, '--json'])).approvals,
    ).to.deep.equal([])

    await updateSettings({session_id, dangerously_skip_permissions: true, dangerously_skip_permissions_timeout_ms: 300})
    // It was on (allow above): once it expires, the same call asks again.
    await waitFor(async () => (await check('rm -rf build')).decision === 'ask', 10_000, 'the setting to expire')
  })

  it('an explicit ask rule beats auto_accept_edits, and NotebookEdit is an edit, on both paths: the hook and the MCP permission tool', async () => {
    await sandbox.startDaemon()
    const {session_id, run_id} = await launch('--ask', 'Edit(docs/**)')
    await updateSettings({session_id, auto_accept_edits: true})
    const docs = path.join(sandbox.root, 'docs', 'a.md')
    expect(
      Sandbox.json<CheckPolicyResult>(
        await sandbox.cli(['policy', 'check', 'Edit', JSON.stringify({file_path: docs}), '--session', session_id, '--json']),
      ),
    ).to.include({decision: 'ask', rule: 'Edit(docs/**)'})
    const denyWhenAsked = (toolUseId: string) => async () => {
      const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.tool_use_id === toolUseId), `approval ${toolUseId}`)
      expect(approval.status).to.equal('pending')
      expect((await sandbox.cli(['approvals', 'deny', approval.id, '--comment', 'asked, as the rule says'])).exitCode).to.equal(0)
    }

    // The hook: the ask rule makes an approval, which a setting does not approve.
    const hooked = hook(run_id, 'Edit', {file_path: docs, old_string: 'a', new_string: 'b'}, {toolUseId: 'toolu_hook'})
    await denyWhenAsked('toolu_hook')()
    expect(decisionOf(String((await hooked).stdout))).to.include({permissionDecision: 'deny'})

    // The MCP permission tool (a client that passes its own permission_prompt_tool): the same.
    const env = {HUMANLAYER_RUN_ID: run_id}
    const edit = {tool_name: 'Edit', input: {file_path: docs, old_string: 'a', new_string: 'b'}, tool_use_id: 'toolu_mcp'}
    const asked = await requestPermission(sandbox, env, denyWhenAsked('toolu_mcp'), edit)
    expect(JSON.parse(asked.text)).to.include({behavior: 'deny'})

    // NotebookEdit is an edit: allowed by the setting's Edit rule on both paths.
    const notebook = {notebook_path: path.join(sandbox.root, 'n.ipynb'), new_source: 'x'}
    const byHook = await hook(run_id, 'NotebookEdit', notebook)
    expect(decisionOf(String(byHook.stdout))).to.include({permissionDecision: 'allow'})
    const byTool = await requestPermission(sandbox, env, undefined, {tool_name: 'NotebookEdit', input: notebook, tool_use_id: 'toolu_nb'})
    expect(JSON.parse(byTool.text)).to.include({behavior: 'allow'})
    const [approved] = Sandbox.json<{approvals: Approval[]}>(
      await sandbox.cli(['approvals', 'list', '--all', '--session', session_id, '--json']),
    ).approvals.filter((a) => a.tool_use_id === 'toolu_nb')
    expect(approved).to.deep.include({status: 'approved', decided_by: {channel: 'policy', rule: 'auto_accept_edits'}})
  })

  it("built-in rules deny reading hld's secrets through the hook, whatever the policy allows: the REST token, daemon.json, the session's MCP config", async () => {
    writePolicy({allow: ['Bash(cat *)', 'Bash(cd *)', 'Bash(grep *)']})
    await sandbox.startDaemon()
    const {session_id, run_id} = await launch()
    const argv = recordedRuns(runs).find((run) => run.env.HUMANLAYER_RUN_ID === run_id)?.argv ?? []
    const mcpConfig = argv[argv.indexOf('--mcp-config') + 1]
    expect(mcpConfig, argv.join(' ')).to.match(/mcp-config\.json$/)
    const token = path.join(sandbox.home, '.humanlayer', 'http-token')
    const daemonJson = path.join(sandbox.home, '.config', 'humanlayer', 'daemon.json')
    for (const [tool, input] of [
      ['Read', {file_path: token}],
      ['Read', {file_path: '~/.humanlayer/http-token'}],
      ['Bash', {command: 'cat ~/.humanlayer/http-token'}],
      ['Bash', {command: 'cd ~/.humanlayer && cat http-token'}],
      ['Read', {file_path: daemonJson}],
      ['Bash', {command: `grep api_key ${daemonJson}`}],
      ['Read', {file_path: mcpConfig}],
      ['Bash', {command: `cat ${mcpConfig}`}],
    ] as const) {
      const done = await hook(run_id, tool, input)
      const decision = decisionOf(String(done.stdout))
      expect(decision, `${tool} ${JSON.stringify(input)}`).to.include({permissionDecision: 'deny'})
      expect(decision.permissionDecisionReason).to.match(/^hld denied .*\(built-in\)$/)
    }
    expect(decisionOf(String((await hook(run_id, 'Bash', {command: 'cat README.md'})).stdout))).to.include({permissionDecision: 'allow'})

    const shown = Sandbox.json<GetPolicyResult>(await sandbox.cli(['policy', 'show', '--session', session_id, '--json']))
    const builtIn = shown.rules.filter((r) => r.source === 'built-in').map((r) => `${r.effect} ${r.rule}`)
    expect(builtIn).to.include.members([`deny Read(/${token})`, `deny Read(/${daemonJson})`])
  })

  it('durability per call: a call a rule decides is answered without a sync; a human decision is synced before the hook hears it', async () => {
    const daemon = await TracedDaemon.start(sandbox)
    const connections: RawConnection[] = []
    try {
      const {run_id} = await launch()
      const rpc = async <T>(id: number, method: string, params: object): Promise<T> => {
        const connection = await RawConnection.open(sandbox.socketPath)
        connections.push(connection)
        const reply = await connection.request<{result: T}>({jsonrpc: '2.0', method, params, id}, 30_000)
        expect(reply, JSON.stringify(reply)).to.have.property('result')
        return reply.result
      }
      // Ids of their own: the CLI's requests (the launch, the health checks) are id 1.
      await rpc(901, 'health', {})
      const read = await rpc<{decision: string}>(902, 'decideToolUse', {run_id, tool_name: 'Read', tool_input: {file_path: '/etc/hosts'}})
      expect(read.decision).to.equal('allow')
      expect(await daemon.syncsBetween(901, 902), 'no sync before answering a call a rule decided').to.deep.equal([])

      const asked = rpc<{decision: string; decided_by: string}>(903, 'decideToolUse', {
        run_id,
        tool_name: 'Bash',
        tool_input: {command: 'touch durable'},
        tool_use_id: 'toolu_durable',
      })
      const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.tool_use_id === 'toolu_durable'), 'the approval')
      await rpc(904, 'sendDecision', {approval_id: approval.id, decision: 'approve'})
      expect(await asked).to.include({decision: 'allow', decided_by: 'human'})
      // Three commits are synced before the hook's answer: the approval as it is made, the human's
      // decision, and the audit row of that decision (the last two in either order with the
      // decision's reply, so counted from the first answer on).
      expect(await daemon.syncsBetween(902, 903), 'the approval, the decision and its audit row synced').to.have.length.of.at.least(3)
    } finally {
      for (const connection of connections) connection.close()
      await daemon.stop()
    }
  })

  it('the hook blocks the call (exit 2) when the daemon is unreachable past --reconnect-ms', async () => {
    const result = await hook('run-x', 'Bash', {command: 'touch x'}, {socket: path.join(sandbox.root, 'none.sock'), reconnectMs: 300})
    expect(result.exitCode).to.equal(2)
    expect(String(result.stdout)).to.equal('')
    expect(String(result.stderr)).to.contain('unreachable').and.contain('none.sock')
  })

  it('policy show and check: rules with their sources, decisions with their rule', async () => {
    writePolicy({
      deny: ['Bash(git push *)'],
      ask: [{rule: 'Bash(npm publish *)', timeout: '5m', on_timeout: 'deny'}],
      approval_timeout: '10m',
    })
    await sandbox.startDaemon()
    const {session_id} = await launch('--allow', 'Bash(npm test)', '--deny', 'WebFetch')
    const shown = Sandbox.json<GetPolicyResult>(await sandbox.cli(['policy', 'show', '--session', session_id, '--json']))
    const sources = shown.rules.map((r) => [r.effect, r.rule, r.source])
    expect(sources).to.deep.include.members([
      ['deny', 'Bash(git push *)', `policy file ${policyFile}`],
      ['deny', 'WebFetch', 'launch --deny'],
      ['ask', 'Bash(npm publish *)', `policy file ${policyFile}`],
      ['allow', 'Bash(npm test)', 'launch --allow'],
    ])
    expect(shown.rules[0].source).to.equal('built-in')
    expect(shown.approval_timeout_ms).to.equal(600_000)
    const human = await sandbox.cli(['policy', 'show'])
    expect(human.stdout).to.contain('Bash(git push *)').and.contain('everything else').and.not.contain('launch --allow')

    const check = await sandbox.cli(['policy', 'check', 'Bash', '{"command":"git push --force"}'])
    expect(check.exitCode).to.equal(0)
    expect(check.stdout)
      .to.match(/^deny: /)
      .and.contain(`rule: Bash(git push *) (policy file ${policyFile})`)
    const inSession = Sandbox.json<CheckPolicyResult>(
      await sandbox.cli(['policy', 'check', 'Bash', '{"command":"npm test"}', '--session', session_id.slice(0, 6), '--json']),
    )
    expect(inSession).to.include({decision: 'allow', rule: 'Bash(npm test)', source: 'launch --allow'})
    const outside = Sandbox.json<CheckPolicyResult>(await sandbox.cli(['policy', 'check', 'Bash', '{"command":"npm test"}', '--json']))
    expect(outside).to.include({decision: 'ask', rule: null})
    const publish = Sandbox.json<CheckPolicyResult>(
      await sandbox.cli(['policy', 'check', 'Bash', '{"command":"npm publish --tag x"}', '--json']),
    )
    expect(publish).to.include({decision: 'ask', timeout_ms: 300_000, on_timeout: 'deny'})
    const bad = await sandbox.cli(['policy', 'check', 'Bash', '{command'])
    expect(bad.exitCode).to.equal(2)
    const unknown = await sandbox.cli(['policy', 'show', '--session', 'zz-none'])
    expect(unknown.exitCode).to.equal(4)
    expect(unwrap(unknown.stderr)).to.contain('No session with a policy has the id zz-none; `hld session list` lists them.')
  })

  it('policy test replays recorded calls against the current policy', async () => {
    await sandbox.startDaemon()
    const {run_id} = await launch()
    expect(decisionOf(String((await hook(run_id, 'Read', {file_path: '/etc/hosts'})).stdout)).permissionDecision).to.equal('allow')
    writePolicy({deny: ['Read(//etc/**)']})
    const replay = await sandbox.cli(['policy', 'test', '--since', '1h'])
    expect(replay.exitCode, replay.stderr).to.equal(0)
    expect(replay.stdout)
      .to.contain('Read: /etc/hosts')
      .and.contain('was allow; now deny by Read(//etc/**)')
      .and.contain('1 of 1 recorded call(s)')
    const json = Sandbox.json<ReplayPolicyResult>(await sandbox.cli(['policy', 'test', '--json']))
    expect(json.changes[0].now.decision).to.equal('deny')
  })

  it('a policy that does not load stops the daemon from starting, with the rule and what is wrong', async () => {
    writePolicy({allow: [{rule: 'Bash(npm test *)', match: ['npm tests']}]})
    const result = await sandbox.cli(['daemon', 'start', '--json'])
    expect(result.exitCode).to.not.equal(0)
    // The reason reaches the user through the daemon log's last lines (JSON, so quotes come escaped).
    expect(unwrap(result.stdout + result.stderr))
      .to.contain(policyFile)
      .and.contain('Bash(npm test *)')
      .and.contain('does not match its match example')
    writePolicy({deny: ['Bash(git push']})
    const syntax = await sandbox.cli(['daemon', 'start', '--json'])
    expect(unwrap(syntax.stdout + syntax.stderr))
      .to.contain('Bash(git push')
      .and.contain('(deny), at position 14: expected')
  })

  it('a bad rule at launch is refused before anything runs, naming the rule and the position', async () => {
    await sandbox.startDaemon()
    const result = await sandbox.cli(['session', 'launch', '-w', sandbox.root, '--deny', 'Bash(rm -rf', 'hi'])
    expect(result.exitCode).to.equal(2)
    expect(unwrap(result.stderr)).to.contain('deny[0]').and.contain('Rule "Bash(rm -rf" (deny), at position 12')
    const timeout = await sandbox.cli(['session', 'launch', '-w', sandbox.root, '--approval-timeout', 'soon', 'hi'])
    expect(timeout.exitCode).to.equal(2)
    expect(unwrap(timeout.stderr)).to.contain('--approval-timeout takes a duration')
  })
})
