/**
 * The Go hld's session methods beyond launch/continue (fake claude, real daemon): title,
 * archive, leaves, recent paths, and settings that approve without asking, with the CLI
 * commands over them.
 */
import {existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {DaemonClient} from '../../src/client/index.js'
import {Subscription} from '../../src/client/subscribe.js'
import {GetApproval} from '../../src/protocol/approvals.js'
import {ErrorCode} from '../../src/protocol/errors.js'
import type {DaemonEvent} from '../../src/protocol/events.js'
import {
  ArchiveSession,
  BulkArchiveSessions,
  ContinueSession,
  GetRecentPaths,
  GetSessionLeaves,
  GetSessionState,
  LaunchSession,
  UpdateSessionSettings,
  UpdateSessionTitle,
} from '../../src/protocol/sessions.js'
import {waitForApproval} from '../helpers/approvals.js'
import {goDecodeErrors} from '../helpers/go-decode.js'
import {rejected} from '../helpers/rpc.js'
import {Sandbox} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, waitForStatus} from '../helpers/sessions.js'

describe('session title, archive, leaves, recent paths and settings (fake claude, real daemon)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let client: DaemonClient

  before(async () => {
    sandbox = new Sandbox()
    await sandbox.startDaemon({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    client = await sandbox.client()
  })

  after(async () => {
    client?.close()
    await sandbox.cleanup()
  })

  function dir(name: string): string {
    const cwd = path.join(sandbox.root, name)
    mkdirSync(cwd, {recursive: true})
    return cwd
  }

  async function completed(query: string, cwd = dir('work'), extra: Record<string, unknown> = {}): Promise<string> {
    const {session_id} = await client.call(LaunchSession, {query, working_dir: cwd, ...extra})
    await waitForStatus(client, session_id, 'completed')
    return session_id
  }

  /** Events of one session from the start of the log, until `done` says enough (or 20 s pass). */
  async function eventsOf(sessionId: string, done: (events: DaemonEvent[]) => boolean): Promise<DaemonEvent[]> {
    const subscription = await Subscription.open(sandbox.socketPath, {session_id: sessionId, since: 0})
    const events: DaemonEvent[] = []
    const bound = setTimeout(() => subscription.close(), 20_000)
    try {
      for await (const frame of subscription.frames()) {
        if (frame.kind === 'event') events.push(frame.event)
        if (done(events)) break
      }
    } finally {
      clearTimeout(bound)
      subscription.close()
    }
    return events
  }

  it('updateSessionTitle stores the title and publishes it as Go does; `hld session title` sets it too', async () => {
    const id = await completed('to be titled')
    expect(await client.call(UpdateSessionTitle, {session_id: id, title: 'First title'})).to.deep.equal({success: true})
    const events = await eventsOf(id, (all) => all.some((e) => e.type === 'session_status_changed' && e.data.title !== undefined))
    expect(events.at(-1)?.data).to.include({session_id: id, title: 'First title'})

    const cli = await sandbox.cli(['session', 'title', id.slice(0, 8), 'Second title', '--json'])
    expect(cli.exitCode, cli.stderr).to.equal(0)
    expect(Sandbox.json<{session_id: string; title: string}>(cli)).to.deep.equal({session_id: id, title: 'Second title'})
    expect((await client.call(GetSessionState, {session_id: id})).session.title).to.equal('Second title')

    const twoLines = await sandbox.cli(['session', 'title', id, 'a\nb'])
    expect(twoLines.exitCode).to.equal(2)
    expect(twoLines.stderr).to.contain('title is one line')
  })

  it('archive hides sessions from `session list` until --unarchive; --archived lists them; unknown ids exit 4', async () => {
    const a = await completed('archive a')
    const b = await completed('archive b')
    const archive = await sandbox.cli(['session', 'archive', a.slice(0, 8), b])
    expect(archive.exitCode, archive.stderr).to.equal(0)
    const listed = Sandbox.json<{sessions: {id: string; archived: boolean}[]}>(
      await sandbox.cli(['session', 'list', '--json', '--limit', '0']),
    )
    expect(listed.sessions.map((s) => s.id)).to.not.include(a)
    expect(listed.sessions.map((s) => s.id)).to.not.include(b)
    const archived = Sandbox.json<{sessions: {id: string; archived: boolean}[]}>(
      await sandbox.cli(['session', 'list', '--archived', '--json']),
    )
    expect(archived.sessions.map((s) => s.id)).to.have.members([a, b])
    expect(archived.sessions.every((s) => s.archived)).to.equal(true)

    expect((await sandbox.cli(['session', 'archive', b, '--unarchive'])).exitCode).to.equal(0)
    const back = Sandbox.json<{sessions: {id: string}[]}>(await sandbox.cli(['session', 'list', '--json', '--limit', '0']))
    expect(back.sessions.map((s) => s.id))
      .to.include(b)
      .and.not.include(a)

    const unknown = await sandbox.cli(['session', 'archive', 'ffffffff-nope', b])
    expect(unknown.exitCode).to.equal(4)
    expect(unknown.stderr).to.contain('ffffffff-nope')
    expect((await client.call(GetSessionState, {session_id: b})).session.archived).to.equal(true)
  })

  it("archiveSession and bulkArchiveSessions answer with Go's keys", async () => {
    const id = await completed('bulk')
    expect(await client.call(ArchiveSession, {session_id: id, archived: true})).to.deep.equal({success: true})
    expect((await rejected(client.call(ArchiveSession, {session_id: 'no-such-session', archived: true}))).code).to.equal(ErrorCode.NotFound)
    expect(await client.call(BulkArchiveSessions, {session_ids: [id, 'no-such-session'], archived: false})).to.deep.equal({
      success: false,
      failed_sessions: ['no-such-session'],
    })
    expect((await client.call(GetSessionState, {session_id: id})).session.archived).to.equal(false)
    expect((await rejected(client.call(BulkArchiveSessions, {session_ids: [], archived: true}))).code).to.equal(ErrorCode.InvalidParams)
  })

  it('getSessionLeaves lists sessions nothing continues, newest activity first, filtered like Go', async () => {
    const parent = await completed('leaf parent')
    const {session_id: child} = await client.call(ContinueSession, {session_id: parent, query: 'leaf child'})
    await waitForStatus(client, child, 'completed')
    const {sessions} = await client.call(GetSessionLeaves, {})
    const ids = sessions.map((s) => s.id)
    expect(ids).to.include(child).and.not.include(parent)
    for (const session of sessions) expect(goDecodeErrors(session, 'session.Info')).to.deep.equal([])
    const activity = sessions.map((s) => Date.parse(s.last_activity_at))
    expect(activity).to.deep.equal([...activity].sort((x, y) => y - x))

    await client.call(ArchiveSession, {session_id: child, archived: true})
    expect((await client.call(GetSessionLeaves, {filter: 'normal'})).sessions.map((s) => s.id)).to.not.include(child)
    expect((await client.call(GetSessionLeaves, {filter: 'archived'})).sessions.map((s) => s.id)).to.include(child)
    expect((await client.call(GetSessionLeaves, {filter: 'draft'})).sessions).to.deep.equal([])
  })

  it('getRecentPaths lists working directories, most recently used first, with their use counts', async () => {
    const older = dir('older')
    const newer = dir('newer')
    await completed('path 1', older)
    await completed('path 2', older)
    await completed('path 3', newer)
    const {paths} = await client.call(GetRecentPaths, {limit: 2})
    expect(paths.map((p) => [p.path, p.usage_count])).to.deep.equal([
      [newer, 1],
      [older, 2],
    ])
    expect(Number.isNaN(Date.parse(paths[0].last_used))).to.equal(false)
  })

  describe('settings that approve without asking', () => {
    it('dangerously_skip_permissions turned on decides the pending approval; the tool runs; subscribers see session_settings_changed', async () => {
      const cwd = dir('skip-later')
      const {session_id} = await client.call(LaunchSession, {query: '[fake:permission] skip later', working_dir: cwd})
      const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === session_id))
      expect(
        await client.call(UpdateSessionSettings, {
          session_id,
          dangerously_skip_permissions: true,
          dangerously_skip_permissions_timeout_ms: 60_000,
        }),
      ).to.deep.equal({
        success: true,
      })
      await waitForStatus(client, session_id, 'completed')
      expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(true)
      const decided = (await client.call(GetApproval, {approval_id: approval.id})).approval
      expect(decided).to.include({status: 'approved', comment: 'Auto-accepted (dangerous skip permissions enabled)'})
      // No human decided it: the provenance names the setting.
      expect(decided.decided_by).to.deep.equal({channel: 'policy', rule: 'dangerously_skip_permissions'})
      const events = await eventsOf(session_id, (all) => all.some((e) => e.type === 'session_settings_changed'))
      expect(events.find((e) => e.type === 'session_settings_changed')?.data).to.deep.include({
        event_type: 'settings_updated',
        dangerously_skip_permissions: true,
        dangerously_skip_permissions_timeout_ms: 60_000,
      })
      const {session} = await client.call(GetSessionState, {session_id})
      expect(session.dangerously_skip_permissions).to.equal(true)
      expect(Date.parse(session.dangerously_skip_permissions_expires_at!)).to.be.greaterThan(Date.now())
    })

    it('dangerously_skip_permissions expires by itself: session_settings_changed {reason: expired}, the stored setting off', async () => {
      const id = await completed('skip for a moment')
      await client.call(UpdateSessionSettings, {
        session_id: id,
        dangerously_skip_permissions: true,
        dangerously_skip_permissions_timeout_ms: 300,
      })
      const isExpiry = (e: DaemonEvent) => e.type === 'session_settings_changed' && e.data.reason === 'expired'
      const events = await eventsOf(id, (all) => all.some(isExpiry))
      const expiry = events.find(isExpiry)
      expect(expiry?.data, JSON.stringify(events.map((e) => e.type))).to.deep.include({
        session_id: id,
        event_type: 'settings_updated',
        dangerously_skip_permissions: false,
        reason: 'expired',
      })
      const {session} = await client.call(GetSessionState, {session_id: id})
      expect(session).to.include({dangerously_skip_permissions: false})
      expect(session.dangerously_skip_permissions_expires_at ?? null).to.equal(null)
      expect(Date.parse((expiry!.data as {expired_at: string}).expired_at)).to.be.at.most(Date.parse(expiry!.timestamp))
    })

    it('launched with dangerously_skip_permissions, nobody is asked: the approval is stored approved', async () => {
      const cwd = dir('skip-at-launch')
      const {session_id} = await client.call(LaunchSession, {
        query: '[fake:permission] skip at launch',
        working_dir: cwd,
        dangerously_skip_permissions: true,
      })
      await waitForStatus(client, session_id, 'completed')
      expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(true)
      const events = await eventsOf(session_id, (all) => all.some((e) => e.type === 'approval_resolved'))
      expect(events.filter((e) => e.type === 'session_status_changed').map((e) => e.data.new_status)).to.not.include('waiting_input')
      expect(events.find((e) => e.type === 'approval_resolved')?.data).to.include({
        approved: true,
        response_text: 'Auto-accepted (dangerous skip permissions enabled)',
      })
    })

    it('auto_accept_edits leaves a Bash request pending (only the edit tools: Edit, Write, MultiEdit, NotebookEdit)', async () => {
      const cwd = dir('edits-only')
      const {session_id} = await client.call(LaunchSession, {query: '[fake:permission] edits only', working_dir: cwd})
      const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.session_id === session_id))
      await client.call(UpdateSessionSettings, {session_id, auto_accept_edits: true})
      expect((await client.call(GetSessionState, {session_id})).session.auto_accept_edits).to.equal(true)
      // Approvals act on the settings event before the call returns; a decision would show by now.
      expect((await client.call(GetApproval, {approval_id: approval.id})).approval.status).to.equal('pending')
      expect((await sandbox.cli(['approvals', 'deny', approval.id, '--comment', 'no'])).exitCode).to.equal(0)
      await waitForStatus(client, session_id, 'completed')
    })

    it('refuses a settings call that changes nothing', async () => {
      const id = await completed('nothing to change')
      const error = await rejected(client.call(UpdateSessionSettings, {session_id: id}))
      expect(error.code).to.equal(ErrorCode.InvalidParams)
      expect(error.message).to.contain('auto_accept_edits or dangerously_skip_permissions')
    })
  })
})
