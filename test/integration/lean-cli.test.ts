/**
 * The hot commands run through a lean entry that skips oclif (src/cli/lean.ts). Every routed
 * command runs here both ways, the lean way (by default) and through oclif (`HLD_NO_LEAN=1`),
 * against one real daemon with sessions waiting on approvals (fake claude), and stdout, stderr and
 * the exit status must be the same byte for byte: output, --json, errors in both forms, colour
 * flags, global flags, a daemon that is not running. A preloaded probe says which entry ran, so a
 * case that silently fell back to oclif cannot pass for a lean one; arguments the lean parser
 * leaves to oclif (--help, unknown flags, bad values) are checked to do so.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {expect} from 'chai'
import {execa} from 'execa'

import type {Approval} from '../../src/protocol/approvals.js'
import {CreateApproval, FetchApprovals} from '../../src/protocol/approvals.js'
import {CLI, REPO_ROOT, Sandbox} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, waitForStatus} from '../helpers/sessions.js'

const PROBE = path.join(REPO_ROOT, 'test', 'fixtures', 'oclif-probe.mjs')

interface Run {
  exitCode: number
  stdout: string
  stderr: string
  /** Which entry ran the command, as the probe saw it. */
  entry: string
}

describe('the lean entry of the hot commands prints what oclif prints', function () {
  this.timeout(300_000)
  let sandbox: Sandbox
  let sessions: string[]
  let approvals: Approval[]
  let runs = 0

  const run = async (args: string[], env: Record<string, string | undefined> = {}): Promise<Run> => {
    const probe = path.join(sandbox.root, `probe-${runs++}`)
    const result = await execa(process.execPath, ['--import', pathToFileURL(PROBE).href, CLI, ...args], {
      env: sandbox.env({...env, LEAN_PROBE_FILE: probe}),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
      timeout: 30_000,
    })
    return {
      exitCode: result.exitCode ?? -1,
      stdout: String(result.stdout),
      stderr: String(result.stderr),
      entry: readFileSync(probe, 'utf8'),
    }
  }

  /**
   * Runs `args` both ways and compares. `entry`: which entry the default run must take ("oclif" for
   * arguments the lean parser leaves to oclif). `volatile` masks what changes from one second to
   * the next (uptime, ages), and nothing else.
   */
  const same = async (
    args: string[],
    options: {
      env?: Record<string, string | undefined>
      exitCode?: number
      entry?: 'lean' | 'oclif'
      volatile?: (text: string) => string
    } = {},
  ): Promise<Run> => {
    const lean = await run(args, options.env)
    const oclif = await run(args, {...options.env, HLD_NO_LEAN: '1'})
    const mask = options.volatile ?? ((text: string) => text)
    const shown = (r: Run) => ({exitCode: r.exitCode, stdout: mask(r.stdout), stderr: mask(r.stderr)})
    expect(shown(lean), `hld ${args.join(' ')}`).to.deep.equal(shown(oclif))
    expect([args.join(' '), lean.entry, oclif.entry]).to.deep.equal([args.join(' '), options.entry ?? 'lean', 'oclif'])
    expect(lean.exitCode, `hld ${args.join(' ')}: ${lean.stderr}`).to.equal(options.exitCode ?? 0)
    return lean
  }

  const uptime = (text: string) => text.replaceAll(/"uptime_ms": \d+/g, '"uptime_ms": N').replaceAll(/up \d+[smh]( \d+[sm])?/g, 'up N')
  const ages = (text: string) => text.replaceAll(/\b\d+[smhd]\b */g, 'N ')

  before(async () => {
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    await sandbox.startDaemon()
    sessions = []
    // Two pairs alike but for their ids: each way decides one of a pair (see the last test).
    for (const title of ['alpha', 'alpha', 'beta', 'beta']) {
      const launched = await sandbox.cli([
        'session',
        'launch',
        '--json',
        '--title',
        title,
        '-w',
        sandbox.root,
        '[fake:permission] create the marker',
      ])
      expect(launched.exitCode, launched.stderr).to.equal(0)
      sessions.push((JSON.parse(launched.stdout) as {session_id: string}).session_id)
    }
    const client = await sandbox.client()
    try {
      for (const id of sessions) await waitForStatus(client, id, 'waiting_input', 60_000)
      approvals = (await client.call(FetchApprovals, {})).approvals
    } finally {
      client.close()
    }
    // One per session, in launch order.
    approvals = sessions.map((id) => approvals.find((a) => a.session_id === id)!)
    expect(approvals.every(Boolean)).to.equal(true)
  })

  after(async () => {
    await sandbox.cli(['daemon', 'stop', '--force'])
    await sandbox.cleanup()
  })

  it('daemon status, running and not', async () => {
    await same(['daemon', 'status'], {volatile: uptime})
    await same(['daemon', 'status', '--json'], {volatile: uptime})
    const none = path.join(sandbox.root, 'none.sock')
    const stopped = await same(['daemon', 'status', '--socket', none], {exitCode: 3})
    expect(stopped.stderr).to.contain('No hld daemon is running')
    await same(['daemon', 'status', '--socket', none, '--json'], {exitCode: 3})
    await same(['--socket', none, 'daemon', 'status'], {exitCode: 3})
    // Auto-start of a second daemon on this database: refused, naming the holder (exit 5).
    const refused = await same(['session', 'list', '--socket', none], {env: {HUMANLAYER_NO_AUTOSTART: undefined}, exitCode: 5})
    expect(refused.stderr.replaceAll(/\s*\n\s*›\s*/g, ' ')).to.contain('in use by another hld daemon')
  })

  it('daemon start: a new daemon, one already running, --if-not-running, and what it leaves to oclif', async () => {
    // Each way starts its own daemon, on a socket and database of its own.
    const paths = (text: string) => text.replaceAll(/pid \d+|"pid": \d+/g, 'PID').replaceAll(/\/start-(lean|oclif)\./g, '/start-X.')
    // No claude where the daemon looks: the warning oclif prints, printed the same (and not under --json).
    const env = {HUMANLAYER_CLAUDE_PATH: path.join(sandbox.root, 'no-claude')}
    for (const json of [[], ['--json']]) {
      const started = await Promise.all(
        ['lean', 'oclif'].map(async (way) => {
          const own = ['--socket', path.join(sandbox.root, `start-${way}.sock`), '--database', path.join(sandbox.root, `start-${way}.db`)]
          const result = await run(['daemon', 'start', ...own, ...json], way === 'oclif' ? {...env, HLD_NO_LEAN: '1'} : env)
          await sandbox.cli(['daemon', 'stop', ...own.slice(0, 2)])
          return result
        }),
      )
      const shown = (r: Run) => ({exitCode: r.exitCode, stdout: paths(r.stdout), stderr: paths(r.stderr)})
      expect(shown(started[0])).to.deep.equal(shown(started[1]))
      expect([started[0].entry, started[1].entry, started[0].exitCode]).to.deep.equal(['lean', 'oclif', 0])
      expect(started[0].stderr.includes('Warning: Sessions cannot start')).to.equal(json.length === 0)
    }
    await same(['daemon', 'start'], {exitCode: 5})
    await same(['daemon', 'start', '--json'], {exitCode: 5})
    await same(['daemon', 'start', '--if-not-running'])
    await same(['daemon', 'start', '--if-not-running', '--json', '--timeout', '5000'])
    await same(['daemon', 'start', '--host', 'ssh://me@127.0.0.1', '--json'], {exitCode: 2})
    await same(['daemon', 'start', '--if-not-running', '--foreground'], {exitCode: 2, entry: 'oclif'})
  })

  it('session list and session show', async () => {
    const [first] = sessions
    await same(['session', 'list'])
    await same(['session', 'list', '--json'])
    await same(['session', 'list', '--status', 'waiting_input', '--json'])
    await same(['session', 'list', '--limit', '1'])
    await same(['session', 'list', '--limit=2', '--json'])
    await same(['session', 'list', '--socket', sandbox.socketPath])
    await same(['session', 'show', first.slice(0, 6)])
    await same(['session', 'show', first, '--json'])
    await same(['session', 'show', first, '--limit', '2'])
    await same(['session', 'show', 'ffff0000'], {exitCode: 4})
    await same(['session', 'show', 'ffff0000', '--json'], {exitCode: 4})
  })

  it('approvals list', async () => {
    await same(['approvals', 'list'], {volatile: ages})
    await same(['approvals', 'list', '--json'])
    await same(['approvals', 'list', '--all', '--limit', '2'], {volatile: ages})
    await same(['approvals', 'list', '--session', sessions[1].slice(0, 6)], {volatile: ages})
    await same(['approvals', 'list', '--session', 'ffff0000', '--json'], {exitCode: 4})
    await same(['approvals', 'list', '--socket', path.join(sandbox.root, 'none.sock')], {exitCode: 3})
  })

  it('watch to its first events, and its errors (one NDJSON line under --json)', async () => {
    await same(['watch', '--since', '0', '--count', '3', '--json'])
    await same(['watch', '--since', '0', '--type', 'new_approval,session_status_changed', '--count', '4'])
    await same(['watch', '--since', '0', '--session', sessions[2].slice(0, 6), '--until', 'new_approval'])
    await same(['watch', '--since', 'x'], {exitCode: 2})
    await same(['watch', '--since', 'x', '--json'], {exitCode: 2})
    await same(['watch', '--type', 'new_approval', '--until', 'session_status_changed', '--json'], {exitCode: 2})
    await same(['watch', '--session', 'ffff0000'], {exitCode: 4})
  })

  it('colour: --color, --no-color and NO_COLOR', async () => {
    const colored = await same(['watch', '--since', '0', '--count', '2', '--color'])
    expect(colored.stdout).to.contain('\u001B[')
    await same(['session', 'list', '--color'])
    await same(['approvals', 'list', '--color'], {env: {NO_COLOR: '1'}, volatile: ages})
    await same(['session', 'list', '--no-color'])
    await same(['session', 'show', sessions[0], '--color'], {env: {NO_COLOR: '1'}})
    await same(['watch', '--since', '0', '--count', '2'], {env: {NO_COLOR: '1'}})
  })

  it('--host(s) and HUMANLAYER_HOST(S): local, and a name no config has', async () => {
    await same(['session', 'list', '--host', 'local'])
    await same(['session', 'list', '--hosts', 'local'])
    await same(['approvals', 'list', '--json'], {env: {HUMANLAYER_HOSTS: 'local'}})
    await same(['session', 'list', '--hosts', 'local', '--host', 'local'], {exitCode: 2})
    await same(['session', 'list', '--host', 'devbox'], {exitCode: 2})
    await same(['session', 'list', '--json'], {env: {HUMANLAYER_HOST: 'devbox'}, exitCode: 2})
    await same(['--host', 'devbox', 'approvals', 'list'], {exitCode: 2})
  })

  it('leaves to oclif what its parser does not take: help, unknown flags, bad values, missing arguments', async () => {
    const oclif = {entry: 'oclif' as const}
    await same(['session', 'list', '--help'], oclif)
    await same(['approvals', 'approve', '-h'], oclif)
    await same(['session', 'list', '--bogus'], {...oclif, exitCode: 2})
    await same(['approvals', 'list', '--limit', '0'], {...oclif, exitCode: 2})
    await same(['session', 'list', '--status', 'nope'], {...oclif, exitCode: 2})
    await same(['session', 'list', '--limit', '1', '--limit', '2'], {...oclif, exitCode: 2})
    await same(['session', 'show'], {...oclif, exitCode: 2})
    await same(['approvals', 'deny', approvals[3].id], {...oclif, exitCode: 2})
    await same(['watch', '--type', 'new_approval', 'extra'], {...oclif, exitCode: 2})
    await same(['session', 'list', '--json=true'], {...oclif, exitCode: 2})
    await same(['session', 'list'], {...oclif, env: {HLD_CONTENT_TYPE: 'json'}})
  })

  it('approve and deny: the same output for the same decision, and the same errors', async () => {
    const [one, two, three, four] = approvals
    const short = (a: Approval) => a.id.slice('local-'.length, 'local-'.length + 8)
    // A decision happens once, so each way decides its own approval; ids, times and pids differ.
    const shape = (text: string) =>
      ages(
        text
          .replaceAll(/toolu_fake_\w+/g, 'TOOL')
          .replaceAll(/[\da-f]{8}(-[\da-f]{4}){3}-[\da-f]{12}/g, 'ID')
          .replaceAll(/[\da-f]{8}\b/g, 'ID')
          .replaceAll(/\d+/g, 'N'),
      )
    const decide = async (lean: string[], oclif: string[]) => {
      const leanRun = await run(lean)
      const oclifRun = await run(oclif, {HLD_NO_LEAN: '1'})
      const shown = (r: Run) => ({exitCode: r.exitCode, stdout: shape(r.stdout), stderr: shape(r.stderr), entry: r.entry})
      expect(shown(leanRun)).to.deep.equal({...shown(oclifRun), entry: 'lean'})
      expect(leanRun.exitCode, leanRun.stderr).to.equal(0)
    }
    await decide(['approvals', 'approve', short(one)], ['approvals', 'approve', short(two)])
    await decide(
      ['approvals', 'deny', three.id, '--comment', 'not there', '--json'],
      ['approvals', 'deny', four.id, '--comment', 'not there', '--json'],
    )

    await same(['approvals', 'approve', short(one)], {exitCode: 5})
    await same(['approvals', 'approve', one.id, '--json'], {exitCode: 5})
    await same(['approvals', 'deny', three.id, '--comment', 'again'], {exitCode: 5})
    await same(['approvals', 'approve', one.id, two.id], {exitCode: 5})
    await same(['approvals', 'approve', 'ffff0000', '--json'], {exitCode: 4})
    await same(['approvals', 'approve', 'ffff0000', '--comment', 'x'], {exitCode: 4})
    // No id: oclif would read one from a stdin that is not a terminal, so these go to oclif.
    await same(['approvals', 'approve', '--all'], {exitCode: 2, entry: 'oclif'})
    await same(['approvals', 'deny', one.id, '--all', '--session', sessions[0], '--comment', 'x', '--json'], {exitCode: 2})
    await same(['approvals', 'approve', '--all', '--session', sessions[0]], {entry: 'oclif'})
  })
  it('a reader that goes away before the output ends (| head -c 1): the same quiet end as through oclif', async () => {
    // Over a pipe's 64 KiB of output, so that the writing outlives the reader: four large requests
    // of a session that waits on its own approval.
    const launched = await sandbox.cli(['session', 'launch', '--json', '-w', sandbox.root, '[fake:permission] create the marker'])
    expect(launched.exitCode, launched.stderr).to.equal(0)
    const session = (JSON.parse(launched.stdout) as {session_id: string}).session_id
    const client = await sandbox.client()
    try {
      await waitForStatus(client, session, 'waiting_input', 60_000)
      const [waiting] = (await client.call(FetchApprovals, {session_id: session})).approvals
      for (let i = 0; i < 4; i++) {
        await client.call(CreateApproval, {
          run_id: waiting.run_id,
          tool_name: 'Bash',
          tool_input: {command: `echo ${String(i).repeat(60_000)}`},
        })
      }
    } finally {
      client.close()
    }
    const headOne = async (env: Record<string, string> = {}) => {
      const child = execa(process.execPath, [CLI, 'approvals', 'list', '--json'], {
        env: sandbox.env(env),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        stdout: 'pipe',
        buffer: false,
        timeout: 30_000,
      })
      child.stdout.once('data', () => child.stdout.destroy())
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const {exitCode} = await child
      return {exitCode, stderr}
    }
    const lean = await headOne()
    expect(lean).to.deep.equal(await headOne({HLD_NO_LEAN: '1'}))
    expect(lean).to.deep.equal({exitCode: 0, stderr: ''})
  })
})
