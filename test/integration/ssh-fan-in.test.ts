/**
 * One inbox for three machines: two "remote" daemons (alpha, beta), each in its own sandbox and
 * reached over a real sshd on its own port (test/helpers/sshd.ts), plus the local daemon.
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import path from 'node:path'

import {expect} from 'chai'

import type {Approval} from '../../src/protocol/approvals.js'
import type {DaemonEvent} from '../../src/protocol/events.js'
import type {AuditEntry} from '../../src/protocol/policy.js'
import type {Session} from '../../src/protocol/sessions.js'
import {type FakeHumanLayerApi, startFakeHumanLayerApi} from '../fixtures/fake-humanlayer-api.js'
import {FAKE_CLAUDE} from '../helpers/approvals.js'
import {CLI, type CliResult, REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {TestSshd, remoteHldByHost, writeRemoteEnv} from '../helpers/sshd.js'

describe('--hosts: one inbox over ssh (real sshd, two remote daemons and the local one)', function () {
  this.timeout(120_000)
  let sshd: TestSshd
  let local: Sandbox
  let alpha: Sandbox
  let beta: Sandbox
  /** beta also polls the HumanLayer API (this fake), for an approval that only `respond` answers. */
  let cloud: FakeHumanLayerApi
  /** Accepts TCP connections and never says a word: an ssh server that hangs. */
  let silent: net.Server
  const silentSockets = new Set<net.Socket>()

  before(async () => {
    cloud = await startFakeHumanLayerApi()
    local = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    alpha = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    beta = new Sandbox({
      HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE,
      HUMANLAYER_API_KEY: cloud.apiKey,
      HUMANLAYER_API_BASE_URL: cloud.baseUrl,
      HUMANLAYER_POLL_INTERVAL_MS: '200',
    })
    sshd = new TestSshd()
    for (const [name, sandbox] of [
      ['alpha', alpha],
      ['beta', beta],
    ] as const) {
      sshd.addHost(name, sandbox.root)
      writeRemoteEnv(sandbox.root, sandbox.env())
    }
    await sshd.start()
    silent = net.createServer((socket) => {
      silentSockets.add(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const user = new URL(sshd.url()).username
    mkdirSync(path.join(local.home, '.config', 'humanlayer'), {recursive: true})
    writeFileSync(
      path.join(local.home, '.config', 'humanlayer', 'daemon.json'),
      JSON.stringify({
        hosts: {
          alpha: `ssh://${user}@alpha`,
          beta: `ssh://${user}@beta`,
          // Nothing listens on port 1: ssh's "Connection refused".
          down: `ssh://${user}@down:1`,
          hang: `ssh://${user}@hang:${(silent.address() as net.AddressInfo).port}`,
        },
      }),
    )
    await Promise.all([local.startDaemon(), alpha.startDaemon(), beta.startDaemon()])
  })

  after(async () => {
    for (const socket of silentSockets) socket.destroy()
    await new Promise((resolve) => silent.close(resolve))
    await Promise.all([local.cleanup(), alpha.cleanup(), beta.cleanup()])
    await sshd.stop()
    await cloud.close()
  })

  const sshEnv = (): Record<string, string> => ({HUMANLAYER_SSH_COMMAND: sshd.sshCommand, HUMANLAYER_REMOTE_HLD: remoteHldByHost()})

  function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    return local.cli(args, {env: {...sshEnv(), ...env}})
  }

  /** Launches `[fake:permission]` on a host and waits for its approval; returns both ids. */
  async function pendingApproval(host: string, sandbox: Sandbox): Promise<{sessionId: string; approvalId: string; work: string}> {
    const work = path.join(sandbox.root, `work-${Date.now()}`)
    mkdirSync(work)
    const launched = await cli(['session', 'launch', '--host', host, '-w', work, '--json', '[fake:permission] create the marker'])
    expect(launched.exitCode, launched.stderr).to.equal(0)
    const sessionId = Sandbox.json<{session_id: string}>(launched).session_id
    let approvalId = ''
    await waitFor(
      async () => {
        const list = Sandbox.json<{approvals: Approval[]}>(await cli(['approvals', 'list', '--host', host, '--json']))
        approvalId = list.approvals.find((a) => a.session_id === sessionId)?.id ?? ''
        return approvalId !== ''
      },
      30_000,
      `the approval on ${host}`,
    )
    return {sessionId, approvalId, work}
  }

  async function statusOn(host: string, sessionId: string): Promise<string> {
    return Sandbox.json<{session: Session}>(await cli(['session', 'show', `${host}:${sessionId}`, '--json'])).session.status
  }

  it('lists every host with a HOST column; approves by host-qualified id and by a prefix unique across hosts', async () => {
    const onAlpha = await pendingApproval('alpha', alpha)
    const onLocal = await pendingApproval('local', local)

    const listed = await cli(['approvals', 'list', '--hosts', 'alpha,beta,local', '--json'])
    expect(listed.exitCode, listed.stderr).to.equal(0)
    const {approvals, errors} = Sandbox.json<{approvals: (Approval & {host: string})[]; errors: unknown[]}>(listed)
    expect(errors).to.deep.equal([])
    expect(approvals.map((a) => [a.host, a.id])).to.deep.include.members([
      ['alpha', onAlpha.approvalId],
      ['local', onLocal.approvalId],
    ])
    expect(approvals.every((a) => a.host !== 'beta')).to.equal(true)
    const table = await cli(['approvals', 'list'], {HUMANLAYER_HOSTS: 'alpha,beta,local'})
    expect(table.stdout.split('\n')[0]).to.match(/^HOST\s+ID\s+SESSION/)
    expect(table.stdout)
      .to.match(/^alpha\s/m)
      .and.match(/^local\s/m)

    const sessions = Sandbox.json<{sessions: (Session & {host: string})[]; errors: unknown[]}>(
      await cli(['session', 'list', '--hosts', 'alpha,beta,local', '--json']),
    )
    expect(sessions.sessions.map((s) => [s.host, s.id])).to.deep.include.members([
      ['alpha', onAlpha.sessionId],
      ['local', onLocal.sessionId],
    ])

    // Qualified: alpha's approval by its short id; alpha's fake claude gets the decision.
    const short = onAlpha.approvalId.replace(/^local-/, '').slice(0, 8)
    const approved = await cli(['approvals', 'approve', `alpha:${short}`])
    expect(approved.exitCode, approved.stderr).to.equal(0)
    await waitFor(async () => (await statusOn('alpha', onAlpha.sessionId)) === 'completed', 30_000, 'alpha session completed')
    expect(existsSync(path.join(onAlpha.work, 'marker.txt'))).to.equal(true)

    // Unqualified: the prefix is found on exactly one of the hosts asked, and decided there.
    const denied = await cli([
      'approvals',
      'deny',
      onLocal.approvalId.slice(0, 14),
      '--comment',
      'not today',
      '--hosts',
      'alpha,beta,local',
    ])
    expect(denied.exitCode, denied.stderr).to.equal(0)
    await waitFor(async () => (await statusOn('local', onLocal.sessionId)) === 'completed', 30_000, 'local session completed')
    expect(existsSync(path.join(onLocal.work, 'marker.txt'))).to.equal(false)

    const missing = await cli(['session', 'show', 'ffffffff', '--hosts', 'alpha,beta,local'])
    expect(missing.exitCode).to.equal(4)
    expect(missing.stderr).to.contain('No session ffffffff on alpha, beta, local')
  })

  it('a host that is down or silent never hides the others: its error goes to stderr and errors, exit 0', async () => {
    for (const [host, sandbox] of [
      ['alpha', alpha],
      ['local', local],
    ] as const) {
      const launched = await cli(['session', 'launch', '--host', host, '-w', sandbox.root, 'hello'])
      expect(launched.exitCode, launched.stderr).to.equal(0)
    }
    const result = await cli(['session', 'list', '--hosts', 'alpha,down,hang,local', '--json'], {HUMANLAYER_HOST_TIMEOUT_MS: '5000'})
    expect(result.exitCode, result.stderr).to.equal(0)
    const {sessions, errors} = Sandbox.json<{sessions: (Session & {host: string})[]; errors: {host: string; error: string}[]}>(result)
    expect(new Set(sessions.map((s) => s.host))).to.deep.equal(new Set(['alpha', 'local']))
    expect(errors.map((e) => e.host).sort()).to.deep.equal(['down', 'hang'])
    expect(errors.find((e) => e.host === 'down')?.error).to.contain('Connection refused')
    expect(errors.find((e) => e.host === 'hang')?.error).to.contain('did not answer within 5000 ms')
    expect(result.stderr).to.contain('hld: down: ').and.contain('hld: hang: ')

    const allDown = await cli(['approvals', 'list', '--hosts', 'down'])
    expect(allDown.exitCode).to.equal(3)
    expect(allDown.stderr).to.contain('No host answered').and.contain('Connection refused')
  })

  it("audit --hosts merges every machine's decisions with their host; approvals show finds an approval by its host-qualified id", async () => {
    // One tool call on alpha and one here, as claude's PreToolUse hook sends them: each audited by its own daemon.
    for (const [host, sandbox, file] of [
      ['alpha', alpha, 'on-alpha'],
      ['local', local, 'on-local'],
    ] as const) {
      const launched = await cli(['session', 'launch', '--host', host, '-w', sandbox.root, '--json', 'wait [fake:slow=60000]'])
      expect(launched.exitCode, launched.stderr).to.equal(0)
      const {run_id: runId} = Sandbox.json<{run_id: string}>(launched)
      const input = JSON.stringify({
        session_id: 'claude-sid',
        hook_event_name: 'PreToolUse',
        tool_name: 'Read',
        tool_input: {file_path: path.join(sandbox.root, file)},
        tool_use_id: `toolu_${file}`,
        cwd: sandbox.root,
      })
      const hook = spawnSync(
        process.execPath,
        [path.join(REPO_ROOT, 'bin', 'hook.cjs'), 'pre-tool-use', '--socket', sandbox.socketPath, '--run-id', runId],
        {input, encoding: 'utf8', env: {PATH: process.env.PATH}, timeout: 30_000},
      )
      expect(hook.stdout, hook.stderr).to.contain('"permissionDecision":"allow"')
    }
    const audited = await cli(['audit', '--hosts', 'alpha,beta,down,local', '--json'])
    expect(audited.exitCode, audited.stderr).to.equal(0)
    const {entries, errors} = Sandbox.json<{entries: (AuditEntry & {host: string})[]; errors: {host: string}[]}>(audited)
    const reads = entries.filter((e) => e.tool_name === 'Read').map((e) => [e.host, (e.tool_input as {file_path: string}).file_path])
    expect(reads).to.deep.equal([
      ['alpha', path.join(alpha.root, 'on-alpha')],
      ['local', path.join(local.root, 'on-local')],
    ])
    expect(errors.map((e) => e.host)).to.deep.equal(['down'])
    expect(audited.stderr).to.contain('hld: down: ')
    const table = await cli(['audit'], {HUMANLAYER_HOSTS: 'alpha,local'})
    expect(table.stdout.split('\n')[0]).to.match(/^HOST\s+TIME\s+SESSION/)
    expect(table.stdout)
      .to.match(/^alpha\s.*Read: /m)
      .and.match(/^local\s.*Read: /m)

    const onBeta = await pendingApproval('beta', beta)
    const short = onBeta.approvalId.replace(/^local-/, '').slice(0, 8)
    const shown = await cli(['approvals', 'show', `beta:${short}`, '--json'])
    expect(shown.exitCode, shown.stderr).to.equal(0)
    expect(Sandbox.json<{approval: Approval}>(shown).approval.id).to.equal(onBeta.approvalId)
    // Unqualified with --hosts: found on the one host that has it.
    const found = await cli(['approvals', 'show', onBeta.approvalId.slice(0, 14), '--hosts', 'alpha,beta,local'])
    expect(found.exitCode, found.stderr).to.equal(0)
    expect(found.stdout).to.contain(`Approval ${onBeta.approvalId}`)
    const missing = await cli(['approvals', 'show', 'local-ffffffff', '--hosts', 'alpha,beta,local'])
    expect(missing.exitCode).to.equal(4)
    expect(missing.stderr).to.contain('No approval local-ffffffff on alpha, beta, local')
    expect((await cli(['approvals', 'deny', `beta:${short}`, '--comment', 'shown, not wanted'])).exitCode).to.equal(0)
  })

  it('decides several ids at once, each on the host that owns it, and --all --session on every host asked', async () => {
    const [onAlpha, onBeta, onLocal] = await Promise.all([
      pendingApproval('alpha', alpha),
      pendingApproval('beta', beta),
      pendingApproval('local', local),
    ])
    const short = (id: string) => id.replace(/^local-/, '').slice(0, 8)
    type Outcome = {approval_id: string; host?: string; success: boolean; error?: string}

    // alpha's by qualified short id, beta's by a prefix unique across the hosts asked, and one on a
    // host that cannot be reached: the two are decided, the third is reported and sets the exit status.
    // ssh runs through a wrapper that logs each connection: one per host, however many ids go there.
    const connections = path.join(local.root, 'ssh-connections.log')
    const counted = `sh -c 'echo "$*" >> ${connections}; exec ${sshd.sshCommand} "$@"' ssh`
    const approved = await cli(
      [
        'approvals',
        'approve',
        `alpha:${short(onAlpha.approvalId)}`,
        onBeta.approvalId.slice(0, 14),
        'down:0123abcd',
        '--hosts',
        'alpha,beta,local',
        '--json',
      ],
      {HUMANLAYER_SSH_COMMAND: counted},
    )
    expect(approved.exitCode, approved.stderr).to.equal(3)
    const hostsDialled = readFileSync(connections, 'utf8')
      .trim()
      .split('\n')
      .map((line) => /@(\w+) --/.exec(line)?.[1])
    expect(hostsDialled.sort()).to.deep.equal(['alpha', 'beta', 'down'])
    // --json: the failure, with every outcome beside it.
    const {error} = Sandbox.json<{error: {exitCode: number; data: {results: Outcome[]}}}>(approved)
    expect(error.exitCode).to.equal(3)
    const {results} = error.data
    expect(results.map((r) => [r.host, r.approval_id, r.success])).to.deep.equal([
      ['alpha', onAlpha.approvalId, true],
      ['beta', onBeta.approvalId, true],
      ['down', '0123abcd', false],
    ])
    expect(results[2].error).to.contain('Connection refused')
    await waitFor(async () => (await statusOn('alpha', onAlpha.sessionId)) === 'completed', 30_000, 'alpha session completed')
    await waitFor(async () => (await statusOn('beta', onBeta.sessionId)) === 'completed', 30_000, 'beta session completed')
    expect(existsSync(path.join(onAlpha.work, 'marker.txt'))).to.equal(true)
    expect(existsSync(path.join(onBeta.work, 'marker.txt'))).to.equal(true)

    // --all --session over --hosts: every host is asked for that session's pending approvals; a
    // host that is down is reported as the list commands do, and the rest is decided (exit 0).
    const onAlpha2 = await pendingApproval('alpha', alpha)
    // A session lives on one host: the others have none of its approvals, which is no error of theirs.
    const ofSession = await cli(['approvals', 'list', '--session', onAlpha2.sessionId.slice(0, 8), '--hosts', 'alpha,beta,local', '--json'])
    expect(ofSession.exitCode, ofSession.stderr).to.equal(0)
    const listed = Sandbox.json<{approvals: (Approval & {host: string})[]; errors: unknown[]}>(ofSession)
    expect(listed.approvals.map((a) => [a.host, a.id])).to.deep.equal([['alpha', onAlpha2.approvalId]])
    expect(listed.errors).to.deep.equal([])
    const nowhere = await cli(['approvals', 'list', '--session', 'ffffffff', '--hosts', 'alpha,beta,local'])
    expect(nowhere.exitCode).to.equal(4)
    expect(nowhere.stderr).to.contain('No session ffffffff on alpha, beta, local')
    const denied = await cli([
      'approvals',
      'deny',
      '--all',
      '--session',
      onLocal.sessionId.slice(0, 8),
      '--comment',
      'not today',
      '--hosts',
      'alpha,beta,down,local',
      '--json',
    ])
    expect(denied.exitCode, denied.stderr).to.equal(0)
    const all = Sandbox.json<{results: Outcome[]; errors: {host: string; error: string}[]}>(denied)
    expect(all.results.map((r) => [r.host, r.approval_id, r.success])).to.deep.equal([['local', onLocal.approvalId, true]])
    expect(all.errors.map((e) => e.host)).to.deep.equal(['down'])
    expect(denied.stderr).to.contain('hld: down: ')
    await waitFor(async () => (await statusOn('local', onLocal.sessionId)) === 'completed', 30_000, 'local session completed')
    expect(existsSync(path.join(onLocal.work, 'marker.txt'))).to.equal(false)
    expect(await statusOn('alpha', onAlpha2.sessionId)).to.not.equal('completed')

    // A qualified --session goes to its host only; with people's output, each line says its host.
    const table = await cli(['approvals', 'approve', '--all', '--session', `alpha:${onAlpha2.sessionId.slice(0, 8)}`])
    expect(table.exitCode, table.stderr).to.equal(0)
    expect(table.stdout).to.contain(`Approved alpha:${onAlpha2.approvalId}: Bash: touch marker.txt`)
    await waitFor(async () => (await statusOn('alpha', onAlpha2.sessionId)) === 'completed', 30_000, 'alpha session 2 completed')

    // No host answered: as a list, exit 3 with every host's error.
    const none = await cli(['approvals', 'deny', '--all', '--session', 'abcd', '--comment', 'no', '--hosts', 'down'])
    expect(none.exitCode).to.equal(3)
    expect(none.stderr).to.contain('No host answered').and.contain('Connection refused')
  })

  it('respond, session wait and session interrupt go to the host a qualified id names', async () => {
    // A question asked through the HumanLayer API reaches beta's daemon; it is answered from here.
    const contact = cloud.addHumanContact({run_id: 'run-on-beta', msg: 'Which region?'})
    await waitFor(
      async () =>
        Sandbox.json<{approvals: Approval[]}>(await cli(['approvals', 'list', '--host', 'beta', '--json'])).approvals.some(
          (a) => a.id === contact.call_id,
        ),
      30_000,
      "beta's human contact",
    )
    const responded = await cli(['approvals', 'respond', `beta:${contact.call_id}`, 'eu-west-1'])
    expect(responded.exitCode, responded.stderr).to.equal(0)
    expect(cloud.humanContacts.get(contact.call_id)!.status?.response).to.equal('eu-west-1')

    // A wait on alpha's session, from here, sees the interrupt sent from here too.
    const launched = await cli(['session', 'launch', '--host', 'alpha', '-w', alpha.root, '--json', 'wait [fake:slow=60000]'])
    expect(launched.exitCode, launched.stderr).to.equal(0)
    const sessionId = Sandbox.json<{session_id: string}>(launched).session_id
    const qualified = `alpha:${sessionId.slice(0, 8)}`
    await waitFor(async () => (await statusOn('alpha', sessionId)) === 'running', 30_000, "alpha's session running")
    const waiting = cli(['session', 'wait', qualified, '--until', 'ended', '--json'])
    await waitFor(async () => (await cli(['session', 'interrupt', qualified])).exitCode === 0, 30_000, 'the interrupt to be taken')
    const waited = await waiting
    expect(waited.exitCode, waited.stderr).to.equal(0)
    expect(Sandbox.json<Session>(waited)).to.include({id: sessionId, status: 'interrupted'})
  })

  it('watch --hosts labels each line with its host and follows a remote daemon through its restart without a gap', async () => {
    const watch: ChildProcess = spawn(process.execPath, [CLI, 'watch', '--hosts', 'alpha,beta', '--json', '--since', '0'], {
      env: local.env(sshEnv()),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    local.track(watch.pid!)
    let stdout = ''
    let stderr = ''
    watch.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    watch.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => watch.once('close', resolve))
    const lines = (): (DaemonEvent & {host: string})[] =>
      stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as DaemonEvent & {host: string})
    try {
      // Replayed from both logs (since 0): the earlier tests' events.
      await waitFor(() => lines().some((e) => e.host === 'alpha'), 30_000, 'events from alpha')

      expect((await beta.cli(['daemon', 'stop'])).exitCode).to.equal(0)
      await waitFor(() => stderr.includes('hld watch: beta: '), 30_000, 'watch to notice beta went away')
      await beta.startDaemon()
      // Made while watch may still be backing off: it must arrive all the same, through `since`.
      const onBeta = await pendingApproval('beta', beta)
      await waitFor(
        () => lines().some((e) => e.host === 'beta' && e.type === 'new_approval' && e.data.approval_id === onBeta.approvalId),
        30_000,
        "beta's new approval",
      )
      await cli(['approvals', 'deny', `beta:${onBeta.approvalId}`, '--comment', 'done'])
      await waitFor(() => lines().some((e) => e.host === 'beta' && e.type === 'approval_resolved'), 30_000, "beta's decision")
    } finally {
      watch.kill('SIGINT')
    }
    expect(await exited).to.equal(0)
    expect(stderr).to.contain('beta: subscribed again')
    // No gap and no repeat: beta's ids run 1, 2, 3, … with every one present once.
    const betaIds = lines()
      .filter((e) => e.host === 'beta')
      .map((e) => e.id)
    expect(betaIds).to.deep.equal(betaIds.map((_, index) => index + 1))
    const alphaIds = lines()
      .filter((e) => e.host === 'alpha')
      .map((e) => e.id)
    expect(alphaIds).to.deep.equal(alphaIds.map((_, index) => index + 1))
  })
})
