import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {hookCommand, hookSettings} from '../../../../src/daemon/policy/hook-settings.js'
import {removeMcpConfigFile, settingsFileFor, writeMcpConfigFile} from '../../../../src/daemon/sessions/mcp-config.js'
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

  it('is written 0600 beside the MCP config, and removed with it', async () => {
    const mcp = await writeMcpConfigFile({mcpServers: {}}, path.join(os.tmpdir(), 'hld-test.sock'), undefined, {hooks: {}})
    const file = settingsFileFor(mcp)
    expect(path.dirname(file)).to.equal(path.dirname(mcp))
    expect(statSync(file).mode & 0o777).to.equal(0o600)
    expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.equal({hooks: {}})
    expect(await removeMcpConfigFile(mcp)).to.equal(undefined)
    expect(existsSync(file)).to.equal(false)
  })
})
