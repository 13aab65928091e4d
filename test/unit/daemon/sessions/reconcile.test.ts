import {type ChildProcess, spawn} from 'node:child_process'

import {expect} from 'chai'

import {MemoryBus} from '../../../../src/daemon/bus/index.js'
import {createLogger} from '../../../../src/shared/logger.js'
import {reconcileSessions} from '../../../../src/daemon/sessions/reconcile.js'
import {SessionRepository} from '../../../../src/daemon/sessions/repository.js'
import {SessionService} from '../../../../src/daemon/sessions/service.js'
import {type Store, openStore} from '../../../../src/daemon/store/index.js'
import type {DaemonEvent} from '../../../../src/protocol/events.js'
import {waitFor} from '../../../helpers/sandbox.js'
import {isAlive} from '../../../../src/shared/procfs.js'

describe('reconcileSessions', () => {
  let store: Store
  let service: SessionService
  let repo: SessionRepository
  let events: DaemonEvent[]
  const children: ChildProcess[] = []

  beforeEach(() => {
    store = openStore(':memory:')
    const bus = new MemoryBus()
    events = []
    bus.subscribe((event) => events.push(event))
    const log = createLogger('error', {kind: 'none'})
    service = new SessionService({
      store,
      bus,
      log,
      socketPath: '/tmp/unused.sock',
      outputDir: '/nonexistent/hld-sessions',
      stopTimeoutMs: 1000,
      locateClaude: () => ({available: false, reason: 'unused'}),
    })
    repo = new SessionRepository(store)
  })

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL')
    store.close()
  })

  /** A live process in its own group whose command line is `node -e … [extra]`, with `env` added to ours. */
  function sleeper(extra: string[], env: Record<string, string> = {}): number {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', ...extra], {
      detached: true,
      stdio: 'ignore',
      env: {...process.env, ...env},
    })
    children.push(child)
    return child.pid!
  }

  function row(id: string, status: string, pid: number | null, query = 'the query'): void {
    const now = new Date()
    repo.insert({id, runId: `run-${id}`, status, query, summary: query, workingDir: '/', pid, createdAt: now, lastActivityAt: now})
  }

  it('ends every session a previous daemon left active, with a reason and a final status event', async () => {
    row('a', 'starting', null)
    row('b', 'running', null)
    row('c', 'waiting_input', null)
    row('d', 'interrupting', null)
    row('e', 'completed', null)
    expect(await reconcileSessions(service, createLogger('error', {kind: 'none'}))).to.equal(4)
    const status = (id: string) => service.state(id)
    expect(['a', 'b', 'c'].map((id) => status(id).status)).to.deep.equal(['failed', 'failed', 'failed'])
    expect(status('b').error_message).to.match(/daemon stopped while the session was running/)
    expect(status('d')).to.include({status: 'interrupted'})
    expect(status('d').error_message).to.match(/before the interrupt finished/)
    expect(status('e').status).to.equal('completed')
    const finals = events.map((e) => (e.type === 'session_status_changed' ? [e.data.session_id, e.data.old_status, e.data.new_status] : []))
    expect(finals).to.have.deep.members([
      ['a', 'starting', 'failed'],
      ['b', 'running', 'failed'],
      ['c', 'waiting_input', 'failed'],
      ['d', 'interrupting', 'interrupted'],
    ])
  })

  it("kills a leftover process group carrying the session's run id, but not a process that merely reused the pid", async () => {
    // Not adopted: its stdout is not the session's output file.
    const claude = sleeper(['--', '--print', '--', 'the query'], {HUMANLAYER_RUN_ID: 'run-claude'})
    const stranger = sleeper(['--', '--print', '--', 'the query'], {HUMANLAYER_RUN_ID: 'run-someone-else'})
    row('claude', 'running', claude)
    row('stranger', 'running', stranger)
    await reconcileSessions(service, createLogger('error', {kind: 'none'}))
    await waitFor(() => !isAlive(claude), 5000, 'the leftover claude to die')
    expect(isAlive(stranger)).to.equal(true)
    expect(service.state('stranger').status).to.equal('failed')
  })
})
