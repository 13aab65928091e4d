/**
 * The MCP config handed to claude: the user's servers plus, unless approvals are off, our
 * `approvals` server (`hld mcp claude-approvals`), which ties each permission request to the
 * session through HUMANLAYER_RUN_ID and reaches this daemon through HUMANLAYER_DAEMON_SOCKET.
 * It is written to a private temp file (0600 in a 0700 directory) removed when the session ends.
 */
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {packageRoot} from '../package-root.js'

export const APPROVALS_SERVER = 'approvals'
export const APPROVALS_PERMISSION_TOOL = `mcp__${APPROVALS_SERVER}__request_permission`

export interface McpServers {
  mcpServers: Record<string, unknown>
}

export interface ApprovalsServerEnv {
  runId: string
  socketPath: string
}

/**
 * The servers claude gets. The approvals server runs this package's CLI with the daemon's own
 * node, by absolute paths, so it starts even when claude's PATH is minimal (upstream #967).
 */
export function sessionMcpServers(user: McpServers | undefined, approvals: ApprovalsServerEnv | undefined): McpServers | undefined {
  const servers: Record<string, unknown> = {...user?.mcpServers}
  if (approvals) {
    servers[APPROVALS_SERVER] = {
      command: process.execPath,
      args: [path.join(packageRoot(), 'bin', 'run.js'), 'mcp', 'claude-approvals'],
      env: {HUMANLAYER_RUN_ID: approvals.runId, HUMANLAYER_DAEMON_SOCKET: approvals.socketPath},
    }
  }
  return Object.keys(servers).length === 0 ? undefined : {mcpServers: servers}
}

export interface McpConfigFile {
  path: string
  remove(): Promise<void>
}

export async function writeMcpConfigFile(config: McpServers): Promise<McpConfigFile> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hld-mcp-'))
  const file = path.join(dir, 'mcp-config.json')
  await writeFile(file, JSON.stringify(config), {mode: 0o600})
  return {path: file, remove: () => rm(dir, {recursive: true, force: true})}
}
