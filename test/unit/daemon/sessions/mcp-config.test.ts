import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {removeMcpConfigFile, sessionMcpServers, writeMcpConfigFile} from '../../../../src/daemon/sessions/mcp-config.js'
import {REPO_ROOT} from '../../../helpers/sandbox.js'

const MCP_ENTRY = path.join(REPO_ROOT, 'bin', 'mcp-claude-approvals.js')

describe('MCP config', () => {
  const identity = {sessionId: 'sess-1', runId: 'run-1', socketPath: '/tmp/d.sock'}
  const env = {HUMANLAYER_SESSION_ID: 'sess-1', HUMANLAYER_RUN_ID: 'run-1', HUMANLAYER_DAEMON_SOCKET: '/tmp/d.sock'}

  it("adds the approvals server, run by this node and this package's lean entry bin/mcp-claude-approvals.js", () => {
    const config = sessionMcpServers({mcpServers: {}}, identity, {permissionTool: 'mcp__approvals__request_permission'})
    expect(config).to.deep.equal({
      mcpServers: {approvals: {command: process.execPath, args: [MCP_ENTRY], env}},
    })
    expect(path.isAbsolute(MCP_ENTRY)).to.equal(true)
  })

  it('names the approvals server codelayer when the permission tool does (Go clients), replacing a user server of that name', () => {
    const config = sessionMcpServers({mcpServers: {codelayer: {command: 'theirs'}}}, identity, {
      permissionTool: 'mcp__codelayer__request_permission',
    })
    expect(Object.keys(config!.mcpServers)).to.deep.equal(['codelayer'])
    expect(config!.mcpServers.codelayer).to.deep.include({command: process.execPath, args: [MCP_ENTRY]})
  })

  it("gives user stdio servers the session's identity over their own values, and HTTP servers an X-Session-ID header unless set", () => {
    const config = sessionMcpServers(
      {
        mcpServers: {
          docs: {command: 'docs-server', env: {KEEP: '1', HUMANLAYER_RUN_ID: 'spoofed'}},
          web: {type: 'http', url: 'http://127.0.0.1:1/mcp', headers: {Authorization: 'x'}},
          own: {type: 'http', url: 'http://127.0.0.1:1/mcp', headers: {'X-Session-ID': 'mine'}},
        },
      },
      identity,
      undefined,
    )
    expect(config).to.deep.equal({
      mcpServers: {
        docs: {command: 'docs-server', env: {KEEP: '1', ...env}},
        web: {type: 'http', url: 'http://127.0.0.1:1/mcp', headers: {'X-Session-ID': 'sess-1', Authorization: 'x'}},
        own: {type: 'http', url: 'http://127.0.0.1:1/mcp', headers: {'X-Session-ID': 'mine'}},
      },
    })
  })

  it('without approvals keeps only the user servers, and is absent when there are none', () => {
    expect(sessionMcpServers({mcpServers: {docs: {command: 'd'}}}, identity, undefined)).to.deep.equal({
      mcpServers: {docs: {command: 'd', env}},
    })
    expect(sessionMcpServers(undefined, identity, undefined)).to.equal(undefined)
  })

  it('writes a private file and removes it, but nothing it did not write', async () => {
    const file = await writeMcpConfigFile({mcpServers: {a: {command: 'x'}}}, '/tmp/d.sock')
    try {
      expect(statSync(file).mode & 0o777).to.equal(0o600)
      expect(statSync(path.dirname(file)).mode & 0o777).to.equal(0o700)
      expect(JSON.parse(readFileSync(file, 'utf8'))).to.deep.equal({mcpServers: {a: {command: 'x'}}})
      const elsewhere = path.join(path.dirname(file), '..', 'not-hld', 'mcp-config.json')
      expect(await removeMcpConfigFile(elsewhere)).to.equal(undefined)
      expect(await removeMcpConfigFile(path.join(path.dirname(file), 'other.json'))).to.equal(undefined)
      expect(existsSync(file)).to.equal(true)
    } finally {
      expect(await removeMcpConfigFile(file)).to.equal(undefined)
    }
    expect(existsSync(path.dirname(file))).to.equal(false)
  })
})
