import {writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {Session} from '../../src/protocol/sessions.js'
import type {SessionLaunchResult} from '../../src/commands/session/launch.js'
import type {SessionListResult} from '../../src/commands/session/list.js'
import type {SessionShowResult} from '../../src/commands/session/show.js'
import {Sandbox} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, recordedRun} from '../helpers/sessions.js'

/** oclif wraps error text at the terminal width, continuing lines with " ›   ". */
const unwrap = (text: string): string => text.replaceAll(/\s*\n\s*›\s*/g, ' ')

describe('hld session commands', function () {
  this.timeout(30_000)
  let sandbox: Sandbox
  const recordDir = () => path.join(sandbox.root, 'runs')

  before(async () => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    await sandbox.startDaemon({FAKE_CLAUDE_RECORD_DIR: recordDir()})
  })

  after(async () => {
    await sandbox.cleanup()
  })

  it('launch --wait follows a session to completion; list and show find it by prefix', async () => {
    const launched = await sandbox.cli(['session', 'launch', '--wait', '--json', '-w', sandbox.root, 'hello [fake:cost=0.5]'])
    expect(launched.exitCode, launched.stderr).to.equal(0)
    // NDJSON: the launch, then the ended session.
    const result = JSON.parse(launched.stdout.trim().split('\n')[1]) as SessionLaunchResult
    expect(result.session).to.include({id: result.session_id, status: 'completed', cost_usd: 0.5})

    const human = await sandbox.cli(['session', 'list'])
    expect(human.stdout).to.match(
      new RegExp(`${result.session_id.slice(0, 8)}\\s+completed\\s+(\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d\\s+\\$0\\.5000\\s+hello`),
    )
    const listed = Sandbox.json<SessionListResult>(await sandbox.cli(['session', 'list', '--status', 'completed', '--json']))
    expect(listed.sessions.map((s) => s.id)).to.include(result.session_id)
    const running = Sandbox.json<SessionListResult>(await sandbox.cli(['session', 'list', '--status', 'running', '--json']))
    expect(running.sessions.map((s) => s.id)).to.not.include(result.session_id)

    const shown = Sandbox.json<SessionShowResult>(await sandbox.cli(['session', 'show', result.session_id.slice(0, 6), '--json']))
    expect(shown.session.id).to.equal(result.session_id)
    expect(shown.events.map((e) => e.content)).to.deep.equal(['hello [fake:cost=0.5]', 'Fake reply to: hello [fake:cost=0.5]'])
    const text = await sandbox.cli(['session', 'show', result.session_id])
    expect(text.stdout).to.include('status:      completed').and.include('assistant: Fake reply to: hello')
    // Both page from the newest end and say how many there are in all.
    expect(listed.total).to.equal(1)
    const last = Sandbox.json<SessionShowResult>(await sandbox.cli(['session', 'show', result.session_id, '--limit', '1', '--json']))
    expect([last.events.map((e) => e.content), last.total]).to.deep.equal([['Fake reply to: hello [fake:cost=0.5]'], 2])
  })

  it('launch sends the flags and the caller directory, and --wait exits 1 when the session fails', async () => {
    const mcpFile = path.join(sandbox.root, 'mcp.json')
    writeFileSync(mcpFile, JSON.stringify({mcpServers: {docs: {command: 'docs'}}}))
    const failed = await sandbox.cli([
      'session',
      'launch',
      '--wait',
      '--no-approvals',
      '--model',
      'haiku',
      '--max-turns',
      '2',
      '--allowed-tools',
      'Read,Grep',
      '--allowed-tools',
      'Bash(ls:*)',
      '--mcp-config',
      mcpFile,
      '--title',
      'T',
      '-w',
      sandbox.root,
      // A repeatable flag right before the query must not swallow it.
      '--add-dir',
      sandbox.home,
      'flagged [fake:crash]',
    ])
    expect(failed.exitCode).to.equal(1)
    expect(failed.stdout).to.include('failed').and.include('simulated crash')
    const run = await recordedRun(recordDir(), 'flagged')
    expect(run.cwd).to.equal(sandbox.root)
    const flag = (name: string) => run.argv[run.argv.indexOf(name) + 1]
    expect(flag('--allowedTools')).to.equal('Read,Grep,Bash(ls:*)')
    expect(flag('--model')).to.equal('haiku')
    expect(flag('--add-dir')).to.equal(sandbox.home)
    expect(run.argv).to.not.include('--permission-prompt-tool')
    expect(run.mcpConfig?.mcpServers).to.have.keys('docs')
    expect(run.mcpConfig?.mcpServers.docs).to.include({command: 'docs'})
  })

  it('continue and interrupt work by prefix; errors have their exit codes', async () => {
    const first = Sandbox.json<SessionLaunchResult>(
      await sandbox.cli(['session', 'launch', '--json', '-w', sandbox.root, 'slow one [fake:slow=60000]']),
    )
    await recordedRun(recordDir(), 'slow one')
    const interrupted = await sandbox.cli(['session', 'interrupt', first.session_id.slice(0, 10)])
    expect(interrupted.exitCode, interrupted.stderr).to.equal(0)
    expect(interrupted.stdout).to.include(`Session ${first.session_id} is interrupting`)

    const child = await sandbox.cli(['session', 'continue', '--wait', '--json', first.session_id.slice(0, 10), 'go on'])
    expect(child.exitCode, child.stderr).to.equal(0)
    const session = (JSON.parse(child.stdout.trim().split('\n')[1]) as {session: Session}).session
    expect(session).to.include({parent_session_id: first.session_id, status: 'completed'})

    const notRunning = await sandbox.cli(['session', 'interrupt', first.session_id])
    expect(notRunning.exitCode).to.equal(5)
    expect(unwrap(notRunning.stderr)).to.include('only running or waiting_input sessions can be interrupted')
    const unknown = await sandbox.cli(['session', 'show', 'ffffffff-nope'])
    expect(unknown.exitCode).to.equal(4)
    expect(unwrap(unknown.stderr)).to.include('No session has the id ffffffff-nope')
    const badDir = await sandbox.cli(['session', 'launch', '-w', path.join(sandbox.root, 'missing'), 'x'])
    expect(badDir.exitCode).to.equal(2)
    expect(unwrap(badDir.stderr)).to.include('is not an existing directory')
  })
})
