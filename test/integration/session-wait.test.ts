/**
 * Scripts waiting on sessions: short ids in every flag, `hld session wait`, and what
 * `launch --wait` prints (the id first, approvals with the commands that decide them, NDJSON,
 * Ctrl-C). Real daemon, real socket, fake claude.
 */
import path from 'node:path'

import {expect} from 'chai'
import {execa} from 'execa'

import type {Session} from '../../src/protocol/sessions.js'
import {GetSessionState} from '../../src/protocol/sessions.js'
import type {SessionLaunchResult} from '../../src/commands/session/launch.js'
import type {ApprovalsListResult} from '../../src/commands/approvals/list.js'
import {CLI, Sandbox, waitFor} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, recordedRun, waitForStatus} from '../helpers/sessions.js'

const unwrap = (text: string): string => text.replaceAll(/\s*\n\s*›\s*/g, ' ')

describe('waiting on sessions from the CLI', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  before(async () => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    await sandbox.startDaemon()
  })

  after(async () => {
    // A graceful stop interrupts the slow sessions' claude processes too.
    await sandbox.cli(['daemon', 'stop', '--force'])
    await sandbox.cleanup()
  })

  const launch = async (query: string): Promise<string> => {
    const result = await sandbox.cli(['session', 'launch', '--json', '-w', sandbox.root, query])
    expect(result.exitCode, result.stderr).to.equal(0)
    return Sandbox.json<SessionLaunchResult>(result).session_id
  }

  /** The built CLI as a child whose stderr a test reads while it runs. */
  const spawn = (args: string[]) => {
    const child = execa(process.execPath, [CLI, ...args], {
      env: sandbox.env(),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: 50_000,
    })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    return {child, stderr: () => stderr}
  }

  it('session and approval flags take unique prefixes; an unknown session exits 4, in watch too', async () => {
    const id = await launch('[fake:permission] create the marker')
    const prefix = id.slice(0, 6)
    const waiting = await sandbox.cli(['session', 'wait', prefix, '--until', 'waiting_input', '--json'])
    expect(waiting.exitCode, waiting.stderr).to.equal(0)
    expect(Sandbox.json<Session>(waiting)).to.include({id, status: 'waiting_input'})

    const listed = Sandbox.json<ApprovalsListResult>(await sandbox.cli(['approvals', 'list', '--session', prefix, '--json']))
    expect(listed.approvals.map((a) => a.session_id)).to.deep.equal([id])
    const watched = await sandbox.cli(['watch', '--session', prefix, '--since', '0', '--type', 'new_approval', '--count', '1', '--json'])
    expect(watched.exitCode, watched.stderr).to.equal(0)
    expect((JSON.parse(watched.stdout) as {data: unknown}).data).to.include({session_id: id, approval_id: listed.approvals[0].id})

    const approved = await sandbox.cli(['approvals', 'approve', listed.approvals[0].id.slice('local-'.length, 'local-'.length + 8)])
    expect(approved.exitCode, approved.stderr).to.equal(0)
    const done = await sandbox.cli(['session', 'wait', prefix, '--json'])
    expect(done.exitCode, done.stderr).to.equal(0)
    expect(Sandbox.json<Session>(done)).to.include({id, status: 'completed'})

    for (const args of [
      ['watch', '--session', 'ffff0000'],
      ['approvals', 'list', '--session', 'ffff0000'],
      ['session', 'wait', 'ffff0000'],
    ]) {
      const unknown = await sandbox.cli(args, {timeoutMs: 15_000})
      expect([args.join(' '), unknown.exitCode]).to.deep.equal([args.join(' '), 4])
      expect(unwrap(unknown.stderr)).to.include('No session has the id ffff0000')
    }
  })

  it('session wait exits 1 on a failed session, 8 on --timeout, and 3 when the daemon is not running', async () => {
    const crashed = await launch('crash [fake:crash]')
    const failed = await sandbox.cli(['session', 'wait', crashed])
    expect(failed.exitCode).to.equal(1)
    expect(failed.stdout).to.include(`Session ${crashed} failed: `).and.include('simulated crash')
    // --until ended: only a failure is a failure.
    expect((await sandbox.cli(['session', 'wait', crashed, '--until', 'ended'])).exitCode).to.equal(1)

    const slow = await launch('slow [fake:slow=20000]')
    const timedOut = await sandbox.cli(['session', 'wait', slow.slice(0, 8), '--timeout', '300', '--json'])
    expect(timedOut.exitCode).to.equal(8)
    expect((JSON.parse(timedOut.stdout) as {error: unknown}).error).to.include({name: 'WaitTimeoutError', exitCode: 8})
    const client = await sandbox.client()
    try {
      expect((await client.call(GetSessionState, {session_id: slow})).session.status).to.equal('running')
    } finally {
      client.close()
    }

    const absent = new Sandbox()
    try {
      expect((await absent.cli(['session', 'wait', slow])).exitCode).to.equal(3)
    } finally {
      await absent.cleanup()
    }
  })

  it('session wait exits 3 when the daemon dies while it waits', async () => {
    const own = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    try {
      const {pid} = await own.startDaemon({FAKE_CLAUDE_RECORD_DIR: path.join(own.root, 'runs')})
      const launched = await own.cli(['session', 'launch', '--json', '-w', own.root, 'doomed [fake:slow=20000]'])
      const id = Sandbox.json<SessionLaunchResult>(launched).session_id
      own.track((await recordedRun(path.join(own.root, 'runs'), 'doomed')).pid)
      const child = execa(process.execPath, [CLI, 'session', 'wait', id], {
        env: own.env(),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        timeout: 30_000,
      })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      await waitFor(() => stderr.includes('running'), 15_000, 'session wait to report running')
      process.kill(pid, 'SIGKILL')
      const result = await child
      expect(result.exitCode).to.equal(3)
      expect(unwrap(String(result.stderr))).to.include('went away while session')
    } finally {
      await own.cleanup()
    }
  })

  it('launch --wait prints the id first, then each approval with the commands that decide it', async () => {
    const {child, stderr} = spawn(['session', 'launch', '--wait', '-w', sandbox.root, '[fake:permission] hinted'])
    await waitFor(() => /hld approvals approve \w+/.test(stderr()), 20_000, 'the approve command on stderr')
    expect(stderr()).to.match(/^Session [\da-f-]{36} launched \(run [\da-f-]{36}\)\n/)
    const approve = /hld (approvals approve \w+)/.exec(stderr())![1]
    expect(stderr()).to.include(`hld approvals deny ${approve.split(' ')[2]} --comment "<why>"`)
    expect(stderr()).to.match(/waits on approval \w{8}: Bash: touch marker\.txt/)
    const approved = await sandbox.cli(approve.split(' '))
    expect(approved.exitCode, approved.stderr).to.equal(0)
    const result = await child
    expect(result.exitCode, stderr()).to.equal(0)
    // stdout carries the outcome only.
    expect(String(result.stdout).trim()).to.match(/^Session [\da-f-]{36} completed$/)
  })

  it('launch --wait --json prints NDJSON: the launch at once, then the ended session', async () => {
    const {child} = spawn(['session', 'launch', '--wait', '--json', '-w', sandbox.root, 'json [fake:slow=1000]'])
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    await waitFor(() => stdout.includes('\n'), 20_000, 'the first NDJSON line')
    const first = JSON.parse(stdout.split('\n')[0]) as SessionLaunchResult
    const client = await sandbox.client()
    try {
      // Printed while the session still runs.
      expect((await client.call(GetSessionState, {session_id: first.session_id})).session.status).to.be.oneOf(['starting', 'running'])
    } finally {
      client.close()
    }
    const result = await child
    expect(result.exitCode).to.equal(0)
    const lines = String(result.stdout)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as SessionLaunchResult)
    expect(lines).to.have.length(2)
    expect(lines[0]).to.deep.equal({session_id: first.session_id, run_id: first.run_id})
    expect(lines[1].session).to.include({id: first.session_id, status: 'completed'})
  })

  it('Ctrl-C during launch --wait says the session goes on and how to follow it', async () => {
    const {child, stderr} = spawn(['session', 'launch', '--wait', '-w', sandbox.root, 'interrupted wait [fake:slow=20000]'])
    await waitFor(() => stderr().includes('  running'), 20_000, 'launch --wait to report running')
    const id = /Session ([\da-f-]{36}) launched/.exec(stderr())![1]
    child.kill('SIGINT')
    const result = await child
    expect(result.exitCode).to.equal(130)
    expect(unwrap(stderr()))
      .to.include(`session ${id.slice(0, 8)} goes on`)
      .and.include(`hld session wait ${id.slice(0, 8)}`)
    const client = await sandbox.client()
    try {
      await waitForStatus(client, id, 'running', 5000)
    } finally {
      client.close()
    }
  })
})
