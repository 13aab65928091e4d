/**
 * `hld watch` through the built CLI and a real daemon. Events come from the daemon's
 * test hook `debugPublish` (registered only with HUMANLAYER_TEST_EVENTS=1): the services
 * that publish for real live in other modules.
 */
import {expect} from 'chai'
import {execa, type ResultPromise} from 'execa'

import {DebugPublish, type DebugPublishParams} from '../../src/protocol/subscribe.js'
import {range} from '../helpers/event-world.js'
import {CLI, Sandbox, waitFor} from '../helpers/sandbox.js'

describe('hld watch', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = new Sandbox({HUMANLAYER_TEST_EVENTS: '1'})
  })
  afterEach(() => sandbox.cleanup())

  async function publish(count: number, params: Partial<DebugPublishParams> = {}): Promise<void> {
    const client = await sandbox.client()
    try {
      await client.call(DebugPublish, {
        type: 'session_status_changed',
        data: {session_id: 'sess-1234-abcd', old_status: 'running', new_status: 'completed'},
        count,
        ...params,
      })
    } finally {
      client.close()
    }
  }

  /** Runs `hld watch` in the background, collecting its stdout lines. */
  function watch(args: string[], env: Record<string, string | undefined> = {}): {child: ResultPromise; lines: string[]} {
    const child = execa(process.execPath, [CLI, 'watch', ...args], {
      env: sandbox.env(env),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    })
    if (child.pid) sandbox.track(child.pid)
    const lines: string[] = []
    let rest = ''
    child.stdout.on('data', (chunk: Buffer) => {
      const parts = (rest + chunk.toString('utf8')).split('\n')
      rest = parts.pop()!
      lines.push(...parts)
    })
    return {child, lines}
  }

  it('loses no event and repeats none when the daemon restarts during watch --json', async () => {
    await sandbox.startDaemon()
    await publish(3)
    const {child, lines} = watch(['--json', '--since', '3', '--count', '10'])
    await publish(4) // 4..7
    await waitFor(() => lines.length === 4, 15_000, 'the first four events')
    const stop = await sandbox.cli(['daemon', 'stop'])
    expect(stop.exitCode, stop.stderr).to.equal(0)
    await sandbox.startDaemon()
    await publish(6) // 8..13, some maybe before watch is back
    const result = await child
    expect(result.exitCode, String(result.stderr)).to.equal(0)
    const events = lines.map((line) => JSON.parse(line) as {id: number; type: string; data: Record<string, unknown>})
    expect(events.map((event) => event.id)).to.deep.equal(range(4, 13))
    expect(events[0].type).to.equal('session_status_changed')
    expect(String(result.stderr)).to.match(/reconnecting in \d+ ms/)
  })

  it('prints one readable line per event, filters by type, and stops after the --until event', async () => {
    await sandbox.startDaemon()
    await publish(1, {
      type: 'new_approval',
      data: {approval_id: 'appr-1', session_id: 'sess-1234-abcd', run_id: 'run-1', tool_name: 'Bash'},
    })
    await publish(2)
    await publish(1, {
      type: 'approval_resolved',
      data: {approval_id: 'appr-1', session_id: 'sess-1234-abcd', approved: false, response_text: 'not today'},
    })
    await publish(1, {type: 'new_approval', data: {approval_id: 'appr-2', session_id: 'sess-9', run_id: 'run-2', tool_name: 'Edit'}})
    const result = await sandbox.cli([
      'watch',
      '--since',
      '0',
      '--type',
      'new_approval',
      '--type',
      'approval_resolved',
      '--until',
      'approval_resolved',
    ])
    expect(result.exitCode, result.stderr).to.equal(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines).to.have.length(2)
    expect(lines[0]).to.match(/^\d\d:\d\d:\d\d\.\d{3} new_approval +sess-123 Bash is waiting for approval appr-1$/)
    expect(lines[1]).to.match(/approval_resolved +sess-123 denied appr-1: not today$/)
    expect(result.stdout).not.to.include('\u001B[') // no colour when stdout is not a terminal
  })

  it('exits 8 on --timeout, and rejects a bad --since', async () => {
    await sandbox.startDaemon()
    const timedOut = await sandbox.cli(['watch', '--timeout', '300', '--count', '1'])
    expect(timedOut.exitCode).to.equal(8)
    expect(timedOut.stderr).to.include('--timeout')
    const bad = await sandbox.cli(['watch', '--since', 'yesterday'])
    expect(bad.exitCode).to.equal(2)
  })

  it('exits 0 on SIGINT', async () => {
    await sandbox.startDaemon()
    await publish(1)
    const {child, lines} = watch(['--since', '0'])
    await waitFor(() => lines.length === 1, 15_000, 'the first event')
    child.kill('SIGINT')
    const result = await child
    expect(result.exitCode, String(result.stderr)).to.equal(0)
    expect(String(result.stderr)).to.equal('')
  })

  it('ends quietly with 0 when the reader goes away (| head)', async () => {
    await sandbox.startDaemon()
    await publish(3)
    const pipeline = execa(
      'bash',
      ['-c', `"${process.execPath}" "${CLI}" watch --json --since 0 | head -n 2; echo "watch exit $\{PIPESTATUS[0]}" >&2`],
      {
        env: sandbox.env(),
        extendEnv: false,
        reject: false,
      },
    )
    let finished = false
    void pipeline.finally(() => (finished = true))
    // head has its two lines; watch notices the closed pipe at its next write.
    await waitFor(async () => finished || (await publish(1), false), 20_000, 'watch to end after head exited')
    const result = await pipeline
    expect(String(result.stdout).trimEnd().split('\n')).to.have.length(2)
    expect(String(result.stderr).trim()).to.equal('watch exit 0')
  })

  it('starts the daemon when none runs (auto-start), then follows it', async () => {
    const {child, lines} = watch(['--json', '--since', '0', '--count', '1'], {HUMANLAYER_NO_AUTOSTART: undefined})
    await sandbox.waitHealthy(20_000)
    await publish(1)
    const result = await child
    expect(result.exitCode, String(result.stderr)).to.equal(0)
    expect(lines.map((line) => (JSON.parse(line) as {id: number}).id)).to.deep.equal([1])
  })
})
