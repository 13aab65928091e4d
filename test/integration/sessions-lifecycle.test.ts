import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {isAlive} from '../../src/shared/procfs.js'
import {FetchApprovals, SendDecision} from '../../src/protocol/approvals.js'
import {Health} from '../../src/protocol/daemon.js'
import {ErrorCode} from '../../src/protocol/errors.js'
import {GetConversation, GetSessionState, LaunchSession} from '../../src/protocol/sessions.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'
import {rejected} from '../helpers/rpc.js'
import {waitForApproval} from '../helpers/approvals.js'
import {FAKE_CLAUDE, recordedRun, waitForStatus} from '../helpers/sessions.js'

describe('sessions across daemon restarts', function () {
  this.timeout(30_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, HUMANLAYER_SESSION_STOP_TIMEOUT_MS: '1000'})
  })

  afterEach(async () => {
    await sandbox.cleanup()
  })

  const recordDir = () => path.join(sandbox.root, 'runs')

  it('without claude still starts, reports claude unavailable, and refuses launches saying how to fix it', async () => {
    await sandbox.startDaemon({HUMANLAYER_CLAUDE_PATH: undefined, PATH: '/nonexistent'})
    const client = await sandbox.client()
    try {
      const health = await client.call(Health, {})
      expect(health.components.claude.available).to.equal(false)
      expect(health.components.claude.detail).to.match(/HUMANLAYER_CLAUDE_PATH/)
      const error = await rejected(client.call(LaunchSession, {query: 'hi', working_dir: sandbox.root}))
      expect(error.code).to.equal(ErrorCode.Unavailable)
      expect(error.message).to.match(/claude was not found.*HUMANLAYER_CLAUDE_PATH/)
    } finally {
      client.close()
    }
    const cli = await sandbox.cli(['session', 'launch', 'hi'], {env: {HUMANLAYER_CLAUDE_PATH: undefined, PATH: '/nonexistent'}})
    expect(cli.exitCode).to.equal(6)
    expect(cli.stderr).to.match(/HUMANLAYER_CLAUDE_PATH/)
  })

  /** Launches `query` and waits until fake claude sits in its [fake:hold] wait, its "working" event stored. */
  async function launchHeld(query: string, workDir = sandbox.root): Promise<{session_id: string; pid: number}> {
    const client = await sandbox.client()
    try {
      const {session_id} = await client.call(LaunchSession, {query, working_dir: workDir})
      const run = await recordedRun(recordDir(), query)
      await waitFor(
        async () => (await client.call(GetConversation, {session_id})).events.some((event) => event.content?.includes('Working on it')),
        10_000,
        'fake claude to start its wait',
      )
      return {session_id, pid: run.pid}
    } finally {
      client.close()
    }
  }

  async function killDaemon(pid: number): Promise<void> {
    process.kill(pid, 'SIGKILL')
    await waitFor(() => !isAlive(pid), 5000, 'the daemon to die')
  }

  it('after a SIGKILL of the daemon, claude runs on; the restarted daemon adopts it, reads the rest of its output, and it completes', async () => {
    const {pid: daemonPid} = await sandbox.startDaemon({FAKE_CLAUDE_RECORD_DIR: recordDir()})
    const {session_id, pid} = await launchHeld('adopt me [fake:hold]')
    await killDaemon(daemonPid)
    expect(isAlive(pid), 'claude outlives a SIGKILLed daemon').to.equal(true)

    await sandbox.startDaemon()
    const client = await sandbox.client()
    try {
      expect((await client.call(GetSessionState, {session_id})).session.status, 'adopted, still running').to.equal('running')
      expect(isAlive(pid)).to.equal(true)
      // Output written after the restart reaches the store: claude finishes only now.
      writeFileSync(path.join(sandbox.root, 'hld-release'), '')
      const session = await waitForStatus(client, session_id, 'completed')
      expect(session.result?.result).to.equal('Fake reply to: adopt me [fake:hold]')
      const {events} = await client.call(GetConversation, {session_id})
      expect(events.map((e) => [e.sequence, e.content])).to.deep.equal([
        [1, 'adopt me [fake:hold]'],
        [2, 'Working on it…'],
        [3, 'Fake reply to: adopt me [fake:hold]'],
      ])
      await waitFor(() => !isAlive(pid), 5000, 'claude to exit')
      expect(readdirSync(path.join(sandbox.root, 'sessions')), 'output files once stored').to.deep.equal([])
    } finally {
      client.close()
    }
  })

  it('a claude that finished while no daemon ran ends with its real status, its last output stored', async () => {
    const {pid: daemonPid} = await sandbox.startDaemon({FAKE_CLAUDE_RECORD_DIR: recordDir()})
    const {session_id, pid} = await launchHeld('finish alone [fake:hold]')
    await killDaemon(daemonPid)
    writeFileSync(path.join(sandbox.root, 'hld-release'), '')
    await waitFor(() => !isAlive(pid), 10_000, 'claude to finish on its own')

    await sandbox.startDaemon()
    const client = await sandbox.client()
    try {
      const {session} = await client.call(GetSessionState, {session_id})
      expect(session.status, session.error_message ?? '').to.equal('completed')
      expect(session.result?.result).to.equal('Fake reply to: finish alone [fake:hold]')
      expect((await client.call(GetConversation, {session_id})).events).to.have.length(3)
    } finally {
      client.close()
    }
  })

  it('a pending approval stays pending across a SIGKILL of the daemon, and a decision after the restart reaches claude', async () => {
    const workDir = path.join(sandbox.root, 'work')
    mkdirSync(workDir)
    const {pid: daemonPid} = await sandbox.startDaemon({FAKE_CLAUDE_RECORD_DIR: recordDir()})
    let client = await sandbox.client()
    const {session_id} = await client.call(LaunchSession, {query: '[fake:permission] across a restart', working_dir: workDir})
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === session_id), 'the Bash approval')
    await waitForStatus(client, session_id, 'waiting_input')
    client.close()
    await killDaemon(daemonPid)

    await sandbox.startDaemon()
    client = await sandbox.client()
    try {
      const {approvals} = await client.call(FetchApprovals, {})
      expect(approvals.map((a) => [a.id, a.status])).to.deep.include([approval.id, 'pending'])
      expect((await client.call(GetSessionState, {session_id})).session.status).to.equal('waiting_input')
      await client.call(SendDecision, {approval_id: approval.id, decision: 'approve'})
      await waitForStatus(client, session_id, 'completed')
      expect(existsSync(path.join(workDir, 'marker.txt')), 'the approved command ran').to.equal(true)
    } finally {
      client.close()
    }
  })

  it('kills the orphaned process group of a claude that died with the daemon, down to its last process, and fails the session', async () => {
    const {pid: daemonPid} = await sandbox.startDaemon({FAKE_CLAUDE_RECORD_DIR: recordDir()})
    const {session_id, pid} = await launchHeld('leave a child [fake:grandchild] [fake:hold]')
    const grandchild = Number(readFileSync(path.join(recordDir(), `${pid}.grandchild`), 'utf8'))
    sandbox.track(grandchild)
    await killDaemon(daemonPid)
    // The group's leader goes; its tool lives on in the group.
    process.kill(pid, 'SIGKILL')
    await waitFor(() => !isAlive(pid), 5000, 'claude to die')
    expect(isAlive(grandchild)).to.equal(true)

    await sandbox.startDaemon()
    const client = await sandbox.client()
    try {
      const {session} = await client.call(GetSessionState, {session_id})
      expect(session.status).to.equal('failed')
      expect(session.error_message).to.match(/claude ended .* before sending a result/)
      await waitFor(() => !isAlive(grandchild), 5000, 'the orphaned group to be killed')
    } finally {
      client.close()
    }
  })

  it('on graceful shutdown interrupts running sessions, kills those that ignore it, and leaves no child', async () => {
    await sandbox.startDaemon({FAKE_CLAUDE_RECORD_DIR: recordDir()})
    let client = await sandbox.client()
    const polite = await client.call(LaunchSession, {query: 'polite [fake:slow=60000]', working_dir: sandbox.root})
    const stubborn = await client.call(LaunchSession, {query: 'stubborn [fake:ignore-sigint]', working_dir: sandbox.root})
    const runs = [await recordedRun(recordDir(), 'polite'), await recordedRun(recordDir(), 'stubborn')]
    // Each says it is working once its signal handling is in place.
    for (const {session_id} of [polite, stubborn]) {
      await waitFor(async () => (await client.call(GetConversation, {session_id})).events.length === 2)
    }
    client.close()

    const stop = await sandbox.cli(['daemon', 'stop'])
    expect(stop.exitCode, stop.stderr).to.equal(0)
    for (const run of runs) expect(isAlive(run.pid), `claude ${run.pid} after shutdown`).to.equal(false)
    expect(readFileSync(sandbox.logFile, 'utf8')).to.match(
      new RegExp(`claude ignored SIGINT; killing its process group.*${stubborn.session_id}`),
    )

    await sandbox.startDaemon()
    client = await sandbox.client()
    try {
      for (const {session_id} of [polite, stubborn]) {
        const {session} = await client.call(GetSessionState, {session_id})
        expect(session.status).to.equal('interrupted')
        expect(session.error_message).to.equal('Interrupted because the daemon shut down.')
      }
    } finally {
      client.close()
    }
  })
})
