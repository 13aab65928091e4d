import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {removeMcpConfigFile, sessionMcpServers, writeMcpConfigFile} from '../../../../src/daemon/sessions/mcp-config.js'
import {REPO_ROOT} from '../../../helpers/sandbox.js'

const MCP_ENTRY = path.join(REPO_ROOT, 'bin', 'mcp-claude-approvals.js')

describe('MCP config', () => {
  it("adds the approvals server, run by this node and this package's lean entry bin/mcp-claude-approvals.js", () => {
    const config = sessionMcpServers({mcpServers: {docs: {command: 'docs-server'}}}, {runId: 'run-1', socketPath: '/tmp/d.sock'})
    expect(config).to.deep.equal({
      mcpServers: {
        docs: {command: 'docs-server'},
        approvals: {
          command: process.execPath,
          args: [MCP_ENTRY],
          env: {HUMANLAYER_RUN_ID: 'run-1', HUMANLAYER_DAEMON_SOCKET: '/tmp/d.sock'},
        },
      },
    })
    expect(path.isAbsolute(MCP_ENTRY)).to.equal(true)
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
