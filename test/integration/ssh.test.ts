/**
 * Another machine's daemon over a real OpenSSH server (test/helpers/sshd.ts): the "remote" is a
 * sandbox with its own HOME, reached through `ssh -F <temp config>` and HUMANLAYER_REMOTE_HLD.
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import type {FetchApprovalsResult, SendDecisionResult} from '../../src/protocol/approvals.js'
import type {DaemonEvent} from '../../src/protocol/events.js'
import {FAKE_CLAUDE} from '../helpers/approvals.js'
import {CLI, type CliResult, Sandbox, waitFor} from '../helpers/sandbox.js'
import {TestSshd, remoteHld} from '../helpers/sshd.js'

describe('daemon dial-stdio', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = new Sandbox()
  })

  afterEach(async () => sandbox.cleanup())

  /** Runs dial-stdio with `input` on stdin (kept open when `input` is undefined). */
  function dial(args: string[], env: Record<string, string | undefined> = {}) {
    const child = spawn(process.execPath, [CLI, 'daemon', 'dial-stdio', ...args], {env: sandbox.env(env), stdio: ['pipe', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<{code: number | null; stdout: string; stderr: string}>((resolve) =>
      child.once('close', (code) => resolve({code, stdout, stderr})),
    )
    return {child, exited, stdout: () => stdout}
  }

  it('answers pipelined requests and exits 0 once stdin ends, after the last reply', async () => {
    await sandbox.startDaemon()
    const {child, exited} = dial([])
    child.stdin.end(
      [
        '{"jsonrpc":"2.0","method":"health","id":1}',
        '{"jsonrpc":"2.0","method":"fetchApprovals","params":{},"id":2}',
        // dial-stdio said where this connection comes from, first: whoever writes to it cannot say otherwise.
        '{"jsonrpc":"2.0","method":"connectionOrigin","params":{"ssh_connection":"192.0.2.1 1 192.0.2.2 22"},"id":3}',
        '',
      ].join('\n'),
    )
    const {code, stdout} = await exited
    expect(code).to.equal(0)
    const replies = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {id: number; result: unknown; error?: {message: string}})
    expect(replies.map((r) => r.id)).to.deep.equal([1, 2, 3])
    expect(replies[1].result).to.deep.equal({approvals: []})
    expect(replies[2].error?.message).to.contain("connectionOrigin is accepted only as a connection's first frame")
  })

  it('exits 0 when the daemon goes away while stdin is still open', async () => {
    await sandbox.startDaemon()
    const {child, exited, stdout} = dial([])
    child.stdin.write('{"jsonrpc":"2.0","method":"health","id":1}\n')
    await waitFor(() => stdout().includes('"id":1'), 10_000, 'the health reply')
    expect((await sandbox.cli(['daemon', 'stop'])).exitCode).to.equal(0)
    expect((await exited).code).to.equal(0)
    child.stdin.destroy()
  })

  it('exits 3 with one plain line when no daemon runs and auto-start is off, and starts one otherwise', async () => {
    const refused = await dial(['--no-autostart'], {HUMANLAYER_NO_AUTOSTART: undefined}).exited
    expect(refused.code).to.equal(3)
    expect(refused.stderr).to.equal(
      `hld daemon dial-stdio: No hld daemon is running at ${sandbox.socketPath}. Start one with \`hld daemon start\`.\n`,
    )

    const started = dial([], {HUMANLAYER_NO_AUTOSTART: undefined})
    started.child.stdin.end('{"jsonrpc":"2.0","method":"health","id":1}\n')
    const {code, stdout} = await started.exited
    expect(code).to.equal(0)
    sandbox.track((JSON.parse(stdout) as {result: {pid: number}}).result.pid)
    expect((await sandbox.cli(['daemon', 'status'])).exitCode).to.equal(0)
  })
})

describe('--host ssh:// (real sshd on 127.0.0.1)', function () {
  this.timeout(90_000)
  let sshd: TestSshd
  let local: Sandbox
  let remote: Sandbox

  before(async () => {
    sshd = new TestSshd()
    await sshd.start()
  })

  after(async () => sshd.stop())

  beforeEach(async () => {
    local = new Sandbox()
    remote = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    await remote.startDaemon()
  })

  afterEach(async () => {
    await local.cleanup()
    await remote.cleanup()
  })

  /** The local CLI, reaching the remote sandbox's daemon over ssh. */
  function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
    return local.cli(args, {env: {HUMANLAYER_SSH_COMMAND: sshd.sshCommand, HUMANLAYER_REMOTE_HLD: remoteHld(remote.env()), ...env}})
  }

  it('lists, launches and approves on the remote: its claude gets the decision', async () => {
    const work = path.join(remote.root, 'work')
    mkdirSync(work)
    const launched = await cli(['session', 'launch', '--host', sshd.url(), '-w', work, '--json', '[fake:permission] create the marker'])
    expect(launched.exitCode, launched.stderr).to.equal(0)
    const {session_id: sessionId} = Sandbox.json<{session_id: string}>(launched)

    let approvalId = ''
    await waitFor(
      async () => {
        // Flags before the command work too, as in `hld --host devbox approvals list`.
        const list = Sandbox.json<FetchApprovalsResult>(await cli(['--host', sshd.url(), 'approvals', 'list', '--json']))
        approvalId = list.approvals.find((a) => a.session_id === sessionId)?.id ?? ''
        return approvalId !== ''
      },
      20_000,
      'the remote approval',
    )
    const approved = await cli(['approvals', 'approve', approvalId, '--host', sshd.url()])
    expect(approved.exitCode, approved.stderr).to.equal(0)
    expect(approved.stdout).to.contain(`Approved ${approvalId}`)
    await waitFor(
      async () =>
        Sandbox.json<{session: {status: string}}>(await cli(['session', 'show', sessionId, '--host', sshd.url(), '--json'])).session
          .status === 'completed',
      30_000,
      'the remote session to complete',
    )
    expect(existsSync(path.join(work, 'marker.txt')), 'the approved tool ran on the remote').to.equal(true)
    expect(existsSync(path.join(local.root, 'd.sock')), 'no local daemon was involved').to.equal(false)
  })

  it('records where a decision over ssh came from; an agent on the remote cannot approve its own call through dial-stdio', async () => {
    // What an agent there would run from its Bash tool: find its approval, then send the decision
    // through its own `hld daemon dial-stdio`, claiming an ssh origin of its choosing on the way.
    const hld = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)}`
    const firstId = `${JSON.stringify(process.execPath)} -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>{const a=JSON.parse(s).approvals;if(a.length)console.log(a[0].id)})'`
    const frame = (id: number, method: string, params: string): string =>
      `{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${params}}`
    const selfApprove = [
      `for i in $(seq 1 300); do id=$(${hld} approvals list --json | ${firstId}); [ -n "$id" ] && break; sleep 0.05; done`,
      `printf '%s\\n%s\\n' '${frame(1, 'sendDecision', '{"approval_id":"\'"$id"\'","decision":"approve"}')}' ` +
        `'${frame(2, 'connectionOrigin', '{"ssh_connection":"192.0.2.1 1 192.0.2.2 22"}')}' | SSH_CONNECTION='192.0.2.1 1 192.0.2.2 22' ${hld} daemon dial-stdio`,
    ].join('\n')
    await remote.cleanup()
    remote = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, FAKE_CLAUDE_TOOL_COMMAND: selfApprove})
    await remote.startDaemon()
    const work = path.join(remote.root, 'work')
    mkdirSync(work)
    const launched = await cli([
      'session',
      'launch',
      '--host',
      sshd.url(),
      '-w',
      work,
      '--json',
      '[fake:permission] [fake:tool-command] create the marker',
    ])
    expect(launched.exitCode, launched.stderr).to.equal(0)
    const {session_id: sessionId} = Sandbox.json<{session_id: string}>(launched)
    const toolFile = path.join(work, 'tool-command.json')
    await waitFor(() => existsSync(toolFile), 30_000, 'the tool command to finish')

    const replies = (JSON.parse(readFileSync(toolFile, 'utf8')) as {stdout: string}).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {id: number; error?: {code: number; message: string}})
    expect(replies.map((r) => r.id)).to.deep.equal([1, 2])
    expect(replies[0].error?.message).to.contain(`inside session ${sessionId}`).and.contain('cannot approve its own requests')
    expect(replies[1].error?.message).to.contain('first frame')
    const pending = Sandbox.json<FetchApprovalsResult>(await cli(['approvals', 'list', '--host', sshd.url(), '--json'])).approvals
    expect(pending.map((a) => [a.session_id, a.status])).to.deep.equal([[sessionId, 'pending']])

    // The person here, over ssh: the far side's dial-stdio is outside every session there.
    const approved = await cli(['approvals', 'approve', pending[0].id, '--host', sshd.url(), '--json'])
    expect(approved.exitCode, approved.stderr).to.equal(0)
    const decidedBy = Sandbox.json<SendDecisionResult>(approved).approval.decided_by!
    expect(decidedBy).to.include({channel: 'ssh', uid: process.getuid!(), user: os.userInfo().username, host: os.hostname()})
    expect(decidedBy.ssh_connection).to.match(new RegExp(`^127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${sshd.port}$`))
    expect(decidedBy.command).to.equal(`${process.execPath} ${CLI} daemon dial-stdio`)
    const shown = await cli(['approvals', 'show', pending[0].id, '--host', sshd.url()])
    expect(shown.stdout).to.contain(`via ssh (uid ${process.getuid!()}`).and.contain(`ssh 127.0.0.1 `)
    await waitFor(
      async () =>
        Sandbox.json<{session: {status: string}}>(await cli(['session', 'show', sessionId, '--host', sshd.url(), '--json'])).session
          .status === 'completed',
      30_000,
      'the remote session to complete',
    )
    expect(existsSync(path.join(work, 'marker.txt'))).to.equal(true)
  })

  it("reports ssh failures as such, with ssh's own words, exit 3", async () => {
    const refused = await cli(['approvals', 'list', '--host', sshd.url()], {HUMANLAYER_SSH_COMMAND: `${sshd.sshCommand} -o Port=1`})
    expect(refused.exitCode).to.equal(3)
    expect(refused.stderr).to.contain('Cannot reach the hld daemon on ssh://').and.contain('Connection refused')

    // Our key is authorized for this user only: anyone else is refused by ssh's authentication.
    const refusedKey = await cli(['approvals', 'list', '--host', 'ssh://hld-no-such-user@devbox'])
    expect(refusedKey.exitCode).to.equal(3)
    expect(refusedKey.stderr).to.contain('Permission denied (publickey)')

    const noHld = await cli(['approvals', 'list', '--host', sshd.url()], {HUMANLAYER_REMOTE_HLD: 'hld-is-not-installed-here'})
    expect(noHld.exitCode).to.equal(3)
    expect(noHld.stderr).to.contain('Is hld installed there').and.contain('hld-is-not-installed-here')

    expect((await remote.cli(['daemon', 'stop'])).exitCode).to.equal(0)
    const down = await cli(['daemon', 'status', '--host', sshd.url()])
    expect(down.exitCode, 'daemon status does not start the remote daemon').to.equal(3)
    expect(down.stderr).to.contain('No hld daemon is running at').and.contain(remote.socketPath)
  })

  it('names hosts in daemon.json; HUMANLAYER_HOST picks one; daemon start/stop refuse to act on another machine', async () => {
    mkdirSync(path.join(local.home, '.config', 'humanlayer'), {recursive: true})
    writeFileSync(path.join(local.home, '.config', 'humanlayer', 'daemon.json'), JSON.stringify({hosts: {devbox: sshd.url()}}))
    for (const env of [{HUMANLAYER_HOST: sshd.url()}, {HUMANLAYER_HOST: 'devbox'}]) {
      const status = await cli(['daemon', 'status', '--json'], env)
      expect(status.exitCode, status.stderr).to.equal(0)
      expect(Sandbox.json<{socket_path: string}>(status).socket_path).to.equal(remote.socketPath)
    }
    const unknown = await cli(['approvals', 'list', '--host', 'laptop'])
    expect(unknown.exitCode).to.equal(2)
    expect(unknown.stderr).to.contain('no host named "laptop"').and.contain('(devbox)')
    // `local` is this machine, whatever HUMANLAYER_HOST says.
    const here = await cli(['daemon', 'status', '--host', 'local'], {HUMANLAYER_HOST: 'devbox'})
    expect(here.exitCode).to.equal(3)
    expect(here.stderr).to.contain(local.socketPath)
    const stop = await cli(['daemon', 'stop', '--host', sshd.url()])
    expect(stop.exitCode).to.equal(2)
    expect(stop.stderr).to.contain('works on this machine only')
    expect((await remote.cli(['daemon', 'status'])).exitCode).to.equal(0)
  })

  it('watch follows the remote event stream over ssh', async () => {
    const watch = cli(['watch', '--host', sshd.url(), '--json', '--since', '0', '--until', 'new_approval', '--timeout', '45000'])
    const work = path.join(remote.root, 'work')
    mkdirSync(work)
    expect((await cli(['session', 'launch', '--host', sshd.url(), '-w', work, '[fake:permission] create the marker'])).exitCode).to.equal(0)
    const result = await watch
    expect(result.exitCode, result.stderr).to.equal(0)
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as DaemonEvent)
    expect(events.at(-1)?.type).to.equal('new_approval')
  })

  it('watch over ssh notices the remote daemon stopping, and resumes once it is back', async () => {
    expect((await cli(['session', 'launch', '--host', sshd.url(), '-w', remote.root, 'hello'])).exitCode).to.equal(0)
    const watch = spawn(process.execPath, [CLI, 'watch', '--host', sshd.url(), '--json', '--since', '0'], {
      env: local.env({HUMANLAYER_SSH_COMMAND: sshd.sshCommand, HUMANLAYER_REMOTE_HLD: remoteHld(remote.env())}),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    local.track(watch.pid!)
    let stdout = ''
    let stderr = ''
    watch.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    watch.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => watch.once('close', resolve))
    try {
      // Subscribed: the launch's events are replayed.
      await waitFor(() => stdout.includes('"session_status_changed"'), 30_000, 'the replayed events')
      expect((await remote.cli(['daemon', 'stop'])).exitCode).to.equal(0)
      // ssh exits 0 once the far side's dial-stdio sees its daemon close: that ends the subscription too.
      await waitFor(() => stderr.includes('reconnecting in'), 30_000, 'watch to notice the daemon went away')
      await remote.startDaemon()
      await waitFor(() => stderr.includes('subscribed again'), 30_000, 'watch to subscribe again')
    } finally {
      watch.kill('SIGINT')
    }
    expect(await exited).to.equal(0)
  })
})
