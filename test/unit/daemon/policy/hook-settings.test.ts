import {execFileSync} from 'node:child_process'
import path from 'node:path'

import {expect} from 'chai'

import {hookCommand, hookSettings} from '../../../../src/daemon/policy/hook-settings.js'
import {buildClaudeArgs} from '../../../../src/daemon/sessions/args.js'
import {REPO_ROOT} from '../../../helpers/sandbox.js'

describe('policy hook settings', () => {
  it("one PreToolUse hook for every tool, running this node and this package's bin/hook.cjs", () => {
    const settings = hookSettings({runId: 'run-1', socketPath: '/tmp/d.sock', reconnectMs: 30_000}) as {
      hooks: {PreToolUse: Array<{matcher: string; hooks: Array<{type: string; command: string; timeout: number}>}>}
    }
    const [entry] = settings.hooks.PreToolUse
    expect(entry.matcher).to.equal('*')
    expect(entry.hooks[0].type).to.equal('command')
    expect(entry.hooks[0].timeout).to.be.greaterThan(3600)
    expect(entry.hooks[0].command)
      .to.contain(process.execPath)
      .and.contain(path.join(REPO_ROOT, 'bin', 'hook.cjs'))
  })

  it('quotes paths so the shell passes them through unchanged', () => {
    const socketPath = '/tmp/it\'s $(rm -rf ~) `x` "d".sock'
    const command = hookCommand({runId: 'r', socketPath, reconnectMs: 5})
    const echoed = execFileSync('/bin/sh', ['-c', `printf '%s\\n' ${command.split(' ').slice(2).join(' ')}`], {encoding: 'utf8'})
    expect(echoed.split('\n').slice(0, 7)).to.deep.equal(['pre-tool-use', '--socket', socketPath, '--run-id', 'r', '--reconnect-ms', '5'])
  })

  it('goes to claude inline, as JSON before --print (no file to write and remove per launch)', () => {
    const settings = JSON.stringify(hookSettings({runId: 'r', socketPath: '/tmp/d.sock', reconnectMs: 5}))
    const args = buildClaudeArgs({query: 'q', settings})
    expect(args[args.indexOf('--settings') + 1]).to.equal(settings)
    expect(args.slice(-3)).to.deep.equal(['--print', '--', 'q'])
  })
})
