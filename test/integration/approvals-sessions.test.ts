/**
 * Approvals through real sessions: the daemon launches fake claude, whose `[fake:permission]`
 * call reaches `hld mcp claude-approvals`, and the CLI decides. Needs the sessions service
 * (launchSession, getSessionState, the approvals MCP config it writes).
 */
import {existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {type Approval, GetApproval} from '../../src/protocol/approvals.js'
import {FAKE_CLAUDE, waitForApproval} from '../helpers/approvals.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'
import {GetSessionState, LaunchSession} from '../../src/protocol/sessions.js'
import {isAlive} from '../../src/shared/procfs.js'
import {queryDb} from '../helpers/sessions.js'

describe('approvals of daemon-launched sessions', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  beforeEach(async () => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    await sandbox.startDaemon()
  })

  afterEach(async () => sandbox.cleanup())

  async function launch(query: string): Promise<{session_id: string; run_id: string; cwd: string}> {
    const cwd = path.join(sandbox.root, `work-${Date.now()}`)
    mkdirSync(cwd, {recursive: true})
    const client = await sandbox.client()
    try {
      return {...(await client.call(LaunchSession, {query, working_dir: cwd})), cwd}
    } finally {
      client.close()
    }
  }

  async function sessionStatus(sessionId: string): Promise<string> {
    const client = await sandbox.client()
    try {
      return (await client.call(GetSessionState, {session_id: sessionId})).session.status
    } finally {
      client.close()
    }
  }

  it('shows the request under its session; approve runs the tool and the session completes', async () => {
    const session = await launch('[fake:permission] create the marker')
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === session.session_id))
    expect(approval).to.include({run_id: session.run_id, tool_name: 'Bash', status: 'pending'})
    expect(approval.session?.summary).to.contain('create the marker')
    await waitFor(async () => (await sessionStatus(session.session_id)) === 'waiting_input', 10_000, 'waiting_input')

    const list = await sandbox.cli(['approvals', 'list', '--session', session.session_id])
    expect(list.stdout).to.contain('touch marker.txt').and.contain(session.session_id.slice(0, 8))

    expect((await sandbox.cli(['approvals', 'approve', approval.id])).exitCode).to.equal(0)
    await waitFor(async () => (await sessionStatus(session.session_id)) === 'completed', 20_000, 'session completed')
    expect(existsSync(path.join(session.cwd, 'marker.txt'))).to.equal(true)
  })

  it('deny with a comment: claude gets the comment, no file, the session completes', async () => {
    const session = await launch('[fake:permission] create the marker')
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === session.session_id))
    expect((await sandbox.cli(['approvals', 'deny', approval.id, '--comment', 'Not here'])).exitCode).to.equal(0)
    await waitFor(async () => (await sessionStatus(session.session_id)) === 'completed', 20_000, 'session completed')
    expect(existsSync(path.join(session.cwd, 'marker.txt'))).to.equal(false)
  })

  it('expires the approval of a session whose claude died with the daemon', async () => {
    const session = await launch('[fake:permission] create the marker')
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === session.session_id))
    const health = await sandbox.cli(['daemon', 'status', '--json'])
    process.kill(Sandbox.json<{pid: number}>(health).pid, 'SIGKILL')
    // A claude that lives on would be adopted with its approval pending (sessions-lifecycle.test.ts).
    const [{pid}] = queryDb<{pid: number}>(sandbox.databasePath, 'SELECT pid FROM sessions WHERE id = ?', session.session_id)
    process.kill(-pid, 'SIGKILL')
    await waitFor(() => !isAlive(pid), 5000, 'claude to die')
    await sandbox.startDaemon()
    await waitFor(
      async () => {
        const client = await sandbox.client()
        try {
          return (await client.call(GetApproval, {approval_id: approval.id})).approval.status === 'expired'
        } finally {
          client.close()
        }
      },
      15_000,
      'expired approval',
    )
    const pending = Sandbox.json<{approvals: Approval[]}>(await sandbox.cli(['approvals', 'list', '--json']))
    expect(pending.approvals.filter((a) => a.session_id === session.session_id)).to.deep.equal([])
  })
})
