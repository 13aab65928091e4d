import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {isAlive} from '../../src/client/lifecycle.js'
import {Health} from '../../src/protocol/daemon.js'
import {ErrorCode} from '../../src/protocol/errors.js'
import {GetConversation, GetSessionState, LaunchSession} from '../../src/protocol/sessions.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'
import {rejected} from '../helpers/rpc.js'
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

  it('after a SIGKILL of the daemon, a restart fails the orphaned session and kills its claude', async () => {
    const {pid: daemonPid} = await sandbox.startDaemon({FAKE_CLAUDE_RECORD_DIR: recordDir()})
    let client = await sandbox.client()
    const {session_id} = await client.call(LaunchSession, {query: 'orphan me [fake:slow=60000]', working_dir: sandbox.root})
    const run = await recordedRun(recordDir(), 'orphan me')
    await waitForStatus(client, session_id, 'running')
    // Past its last write before the long wait: a claude killed by the daemon's death
    // (SIGPIPE on a write) would prove nothing about the restart.
    await waitFor(
      async () => (await client.call(GetConversation, {session_id})).events.some((event) => event.content?.includes('Working on it')),
      10_000,
      'fake claude to start its wait',
    )
    client.close()

    process.kill(daemonPid, 'SIGKILL')
    await waitFor(() => !isAlive(daemonPid), 5000, 'the daemon to die')
    expect(isAlive(run.pid), 'claude outlives a SIGKILLed daemon').to.equal(true)

    await sandbox.startDaemon()
    client = await sandbox.client()
    try {
      const {session} = await client.call(GetSessionState, {session_id})
      expect(session.status).to.equal('failed')
      expect(session.error_message).to.match(/daemon stopped while the session was running/)
      await waitFor(() => !isAlive(run.pid), 5000, 'the orphaned claude to be killed')
      expect(existsSync(run.argv[run.argv.indexOf('--mcp-config') + 1]), 'its MCP config file').to.equal(false)
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
    expect(readFileSync(sandbox.logFile, 'utf8')).to.match(new RegExp(`claude ignored SIGINT; killing its process group.*${stubborn.session_id}`))

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
