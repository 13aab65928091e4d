/**
 * getSessionSnapshots with the real claude: the fake Messages API asks for a Read of a file in
 * the working directory (Read needs no approval there), and the daemon keeps what Read returned.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {DaemonClient} from '../../src/client/index.js'
import {GetSessionSnapshots, LaunchSession} from '../../src/protocol/sessions.js'
import {claudeTestEnv, type FakeAnthropicApi, startFakeAnthropicApi} from '../fixtures/fake-anthropic-api.js'
import {REPO_ROOT, Sandbox} from '../helpers/sandbox.js'
import {waitForStatus} from '../helpers/sessions.js'

const CLAUDE = path.join(REPO_ROOT, 'node_modules', '.bin', 'claude')
const CONTENT = 'first line\n  indented second line\n\nfourth line after a blank one'

describe('e2e: file snapshots from claude Read results', function () {
  this.timeout(90_000)
  let sandbox: Sandbox
  let api: FakeAnthropicApi
  let client: DaemonClient
  let file: string

  before(async () => {
    sandbox = new Sandbox()
    const cwd = path.join(sandbox.root, 'work')
    mkdirSync(cwd, {recursive: true})
    file = path.join(cwd, 'notes.txt')
    writeFileSync(file, CONTENT)
    api = await startFakeAnthropicApi({kind: 'tool-then-text', tool: {name: 'Read', input: {file_path: file}}, text: 'Read it.'})
    const claudeEnv = claudeTestEnv(api.url, path.join(sandbox.root, 'claude'))
    delete (claudeEnv as Record<string, string | undefined>).HOME
    await sandbox.startDaemon({...claudeEnv, HUMANLAYER_CLAUDE_PATH: CLAUDE})
    client = await sandbox.client()
  })

  after(async () => {
    client?.close()
    await sandbox.cleanup()
    await api.close()
  })

  it("keeps the file's text as Read returned it, without the line-number gutter", async () => {
    const {session_id} = await client.call(LaunchSession, {
      query: 'Read the notes',
      working_dir: path.dirname(file),
      disable_approvals: true,
    })
    const session = await waitForStatus(client, session_id, 'completed', 60_000)
    expect(session.status).to.equal('completed')
    const {snapshots} = await client.call(GetSessionSnapshots, {session_id})
    expect(snapshots).to.have.length(1)
    expect(snapshots[0]).to.include({file_path: file, content: CONTENT})
    expect(snapshots[0].tool_id).to.match(/^toolu_/)
    expect(Number.isNaN(Date.parse(snapshots[0].created_at))).to.equal(false)
  })
})
