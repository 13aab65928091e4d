/**
 * `hld daemon start/stop` as scripts use them: idempotent flags, output printed once when piped,
 * errors printed once, and the one line auto-start prints.
 */
import {expect} from 'chai'

import type {DaemonStartResult} from '../../src/commands/daemon/start.js'
import type {DaemonStopResult} from '../../src/commands/daemon/stop.js'
import {Sandbox} from '../helpers/sandbox.js'

const unwrap = (text: string): string => text.replaceAll(/\s*\n\s*›\s*/g, ' ')
const count = (text: string, part: string): number => text.split(part).length - 1

describe('hld daemon start/stop from scripts', function () {
  this.timeout(30_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = new Sandbox()
  })

  afterEach(async () => {
    await sandbox.cleanup()
  })

  it('start --if-not-running and stop --if-running exit 0 when the daemon is already as wanted', async () => {
    const notRunning = await sandbox.cli(['daemon', 'stop'])
    expect(notRunning.exitCode).to.equal(3)
    const idle = await sandbox.cli(['daemon', 'stop', '--if-running', '--json'])
    expect(idle.exitCode, idle.stderr).to.equal(0)
    expect(Sandbox.json<DaemonStopResult>(idle)).to.deep.equal({stopped: false, forced: false})

    const {pid} = await sandbox.startDaemon()
    const again = await sandbox.cli(['daemon', 'start', '--if-not-running', '--json'])
    expect(again.exitCode, again.stderr).to.equal(0)
    expect(Sandbox.json<DaemonStartResult>(again)).to.include({pid, already_running: true, socket_path: sandbox.socketPath})
    const human = await sandbox.cli(['daemon', 'start', '--if-not-running'])
    expect(human.stdout).to.include(`already running (pid ${pid})`)

    const stopped = await sandbox.cli(['daemon', 'stop', '--if-running', '--json'])
    expect(Sandbox.json<DaemonStopResult>(stopped)).to.include({stopped: true, pid})
  })

  it('piped, start prints its report once, and a refusal prints its error once', async () => {
    const started = await sandbox.cli(['daemon', 'start'])
    expect(started.exitCode, started.stderr).to.equal(0)
    sandbox.track(Number(/pid (\d+)/.exec(started.stdout)![1]))
    // No listr2 progress lines (before, each step printed once started and once done).
    expect(started.stdout).not.to.match(/[❯✔]/)
    expect(started.stdout.trim().split('\n')[0]).to.match(/^hld daemon \S+ running \(pid \d+\)$/)

    const refused = await sandbox.cli(['daemon', 'start'])
    expect(refused.exitCode).to.equal(5)
    const output = unwrap(refused.stdout + refused.stderr)
    expect(count(output, 'Another hld daemon is already running')).to.equal(1)
  })

  it('auto-start says so in one line on stderr', async () => {
    const listed = await sandbox.cli(['session', 'list', '--json'], {env: {HUMANLAYER_NO_AUTOSTART: undefined}})
    expect(listed.exitCode, listed.stderr).to.equal(0)
    expect(Sandbox.json<{sessions: unknown[]}>(listed).sessions).to.deep.equal([])
    // One line: execa strips the final newline, and . matches no other.
    const match = /^started hld daemon \(pid (\d+), socket (.+)\)$/.exec(listed.stderr)
    expect(match, listed.stderr).to.not.equal(null)
    sandbox.track(Number(match![1]))
    expect(match![2]).to.equal(sandbox.socketPath)
    // Running now: the next command starts nothing and says nothing.
    const again = await sandbox.cli(['session', 'list'], {env: {HUMANLAYER_NO_AUTOSTART: undefined}})
    expect(again.stderr).to.equal('')
  })
})
