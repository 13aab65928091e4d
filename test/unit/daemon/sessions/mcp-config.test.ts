import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {removeMcpConfigFile, sessionMcpServers, writeMcpConfigFile} from '../../../../src/daemon/sessions/mcp-config.js'
import {CLI} from '../../../helpers/sandbox.js'

describe('MCP config', () => {
  it("adds the approvals server, run by this node and this package's bin/run.js", () => {
    const config = sessionMcpServers({mcpServers: {docs: {command: 'docs-server'}}}, {runId: 'run-1', socketPath: '/tmp/d.sock'})
    expect(config).to.deep.equal({
      mcpServers: {
        docs: {command: 'docs-server'},
        approvals: {
          command: process.execPath,
          args: [CLI, 'mcp', 'claude-approvals'],
          env: {HUMANLAYER_RUN_ID: 'run-1', HUMANLAYER_DAEMON_SOCKET: '/tmp/d.sock'},
        },
      },
    })
    expect(path.isAbsolute(CLI)).to.equal(true)
  })

  it('without approvals keeps only the user servers, and is absent when there are none', () => {
    expect(sessionMcpServers({mcpServers: {docs: {command: 'd'}}}, undefined)).to.deep.equal({mcpServers: {docs: {command: 'd'}}})
    expect(sessionMcpServers(undefined, undefined)).to.equal(undefined)
  })

  it('writes a private file and removes it, but nothing it did not write', async () => {
    const file = await writeMcpConfigFile({mcpServers: {a: {command: 'x'}}}, '/tmp/d.sock')
    try {
      expect(statSync(file).mode & 0o777).to.equal(0o600)
      expect(statSync(path.dirname(file)).mode & 0o777).to.equal(0o700)
      expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.equal({mcpServers: {a: {command: 'x'}}})
      const elsewhere = path.join(path.dirname(file), '..', 'not-hld', 'mcp-config.json')
      expect(removeMcpConfigFile(elsewhere)).to.equal(undefined)
      expect(removeMcpConfigFile(path.join(path.dirname(file), 'other.json'))).to.equal(undefined)
      expect(existsSync(file)).to.equal(true)
    } finally {
      expect(removeMcpConfigFile(file)).to.equal(undefined)
    }
    expect(existsSync(path.dirname(file))).to.equal(false)
  })
})
