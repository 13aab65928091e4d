/**
 * `hld doctor` finds what is wrong and says what to do; `hld daemon logs` shows the JSON log as
 * readable lines, and follows it. A missing claude is reported when the daemon starts.
 */
import {appendFileSync, chmodSync} from 'node:fs'

import {expect} from 'chai'
import {execa} from 'execa'

import type {Check} from '../../src/cli/doctor.js'
import type {DoctorResult} from '../../src/commands/doctor.js'
import {type FakeHumanLayerApi, startFakeHumanLayerApi} from '../fixtures/fake-humanlayer-api.js'
import {CLI, Sandbox, waitFor} from '../helpers/sandbox.js'
import {FAKE_CLAUDE} from '../helpers/sessions.js'

const unwrap = (text: string): string => text.replaceAll(/\s*\n\s*›\s*/g, ' ')

describe('hld doctor and hld daemon logs', function () {
  this.timeout(60_000)
  let api: FakeHumanLayerApi
  let sandbox: Sandbox

  before(async () => {
    api = await startFakeHumanLayerApi()
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, HUMANLAYER_API_KEY: api.apiKey, HUMANLAYER_API_BASE_URL: api.baseUrl})
    await sandbox.startDaemon()
  })

  after(async () => {
    await sandbox.cleanup()
    await api.close()
  })

  const doctor = async (env: Record<string, string | undefined> = {}): Promise<{exitCode: number; checks: Record<string, Check>}> => {
    const result = await sandbox.cli(['doctor', '--json'], {env})
    const parsed = Sandbox.json<DoctorResult>(result)
    expect(parsed.ok).to.equal(result.exitCode === 0)
    return {exitCode: result.exitCode, checks: Object.fromEntries(parsed.checks.map((check) => [check.name, check]))}
  }

  it('passes a healthy set-up: claude and its version, private files, disk, daemon version, cloud API', async () => {
    const {exitCode, checks} = await doctor()
    expect(exitCode, JSON.stringify(checks)).to.equal(0)
    expect(checks.claude).to.include({status: 'ok'})
    expect(checks.claude.detail).to.include(FAKE_CLAUDE).and.include('2.1.197')
    for (const name of ['socket', 'database', 'log', 'disk', 'daemon', 'cloud API']) expect(checks[name], name).to.include({status: 'ok'})
    expect(checks.daemon.detail).to.match(/^0\.1\.0, pid \d+/)
    const human = await sandbox.cli(['doctor'])
    expect(human.stdout).to.match(/^ok +claude +/m)
  })

  it('fails, saying what to do, on a missing claude, a loose database mode, and an unreachable cloud API', async () => {
    chmodSync(sandbox.databasePath, 0o644)
    try {
      const {exitCode, checks} = await doctor({
        HUMANLAYER_CLAUDE_PATH: `${sandbox.root}/no-claude`,
        HUMANLAYER_API_BASE_URL: 'http://127.0.0.1:9/humanlayer/v1',
      })
      expect(exitCode).to.equal(1)
      expect(checks.claude).to.include({status: 'fail'})
      expect(checks.claude.fix).to.include('claude_path')
      expect(checks.database).to.include({status: 'fail', fix: `chmod 600 ${sandbox.databasePath}`})
      expect(checks['cloud API']).to.include({status: 'fail'})
      const human = await sandbox.cli(['doctor'], {env: {HUMANLAYER_CLAUDE_PATH: `${sandbox.root}/no-claude`}})
      expect(human.exitCode).to.equal(1)
      expect(human.stdout).to.match(/^FAIL +database .*mode 0644\n +→ chmod 600 /m)
    } finally {
      chmodSync(sandbox.databasePath, 0o600)
    }
  })

  it('daemon logs shows the last lines readably, or as stored with --json', async () => {
    appendFileSync(
      sandbox.logFile,
      `${JSON.stringify({time: new Date().toISOString(), level: 'warn', msg: 'hello from a test', component: 'tests', n: 1, why: 'two words'})}\n`,
    )
    const human = await sandbox.cli(['daemon', 'logs', '-n', '1'])
    expect(human.exitCode, human.stderr).to.equal(0)
    // Today's lines carry the local time only.
    expect(human.stdout.trim()).to.match(/^\d\d:\d\d:\d\d\.\d{3} warn {2}\[tests\] hello from a test n=1 why="two words"$/)
    const json = await sandbox.cli(['daemon', 'logs', '-n', '3', '--json'])
    const records = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {msg: string})
    expect(records).to.have.length(3)
    expect(records[2].msg).to.equal('hello from a test')
  })

  it('daemon logs -f prints lines as they are written, until Ctrl-C', async () => {
    const child = execa(process.execPath, [CLI, 'daemon', 'logs', '-n', '0', '-f'], {
      env: sandbox.env(),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: 30_000,
    })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    await waitFor(
      () => {
        appendFileSync(sandbox.logFile, `${JSON.stringify({time: new Date().toISOString(), level: 'info', msg: 'followed line'})}\n`)
        return stdout.includes('followed line')
      },
      15_000,
      'the appended line to be printed',
    )
    child.kill('SIGINT')
    expect((await child).exitCode).to.equal(0)
  })

  it('daemon start warns when claude is missing', async () => {
    const other = new Sandbox({HUMANLAYER_CLAUDE_PATH: '/nonexistent/claude'})
    try {
      const started = await other.cli(['daemon', 'start'])
      expect(started.exitCode, started.stderr).to.equal(0)
      other.track(Number(/pid (\d+)/.exec(started.stdout)![1]))
      expect(unwrap(started.stderr))
        .to.include('Sessions cannot start: claude_path is /nonexistent/claude')
        .and.include('restart the daemon')
    } finally {
      await other.cleanup()
    }
  })
})
