/**
 * The MCP config handed to claude: the user's servers plus, unless approvals are off, our
 * `approvals` server (`hld mcp claude-approvals`), which ties each permission request to the
 * session through HUMANLAYER_RUN_ID and reaches this daemon through HUMANLAYER_DAEMON_SOCKET.
 * It is written to a private temp file (0600 in a 0700 directory) removed when the session ends.
 */
import {rmSync} from 'node:fs'
import {mkdtemp, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {packageRoot} from '../package-root.js'

const APPROVALS_SERVER = 'approvals'
export const APPROVALS_PERMISSION_TOOL = `mcp__${APPROVALS_SERVER}__request_permission`

export interface McpServers {
  mcpServers: Record<string, unknown>
}

export interface ApprovalsServerEnv {
  runId: string
  socketPath: string
  /** Puts the server in cloud mode, as the daemon is when it has a key. */
  apiKey?: string
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
      env: {
        HUMANLAYER_RUN_ID: approvals.runId,
        HUMANLAYER_DAEMON_SOCKET: approvals.socketPath,
        ...(approvals.apiKey ? {HUMANLAYER_API_KEY: approvals.apiKey} : {}),
      },
    }
  }
  return Object.keys(servers).length === 0 ? undefined : {mcpServers: servers}
}

const CONFIG_NAME = 'mcp-config.json'
const DIR_PREFIX = 'hld-mcp-'

/** Writes the config into a new private directory; returns the file's path. */
export async function writeMcpConfigFile(config: McpServers): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), DIR_PREFIX))
  const file = path.join(dir, CONFIG_NAME)
  await writeFile(file, JSON.stringify(config), {mode: 0o600})
  return file
}

/** Writes claude's `--settings` (the policy hook) beside a config writeMcpConfigFile wrote, so it goes with it. */
export async function writeSettingsFile(mcpConfigFile: string, settings: object): Promise<string> {
  const file = path.join(path.dirname(mcpConfigFile), 'settings.json')
  await writeFile(file, JSON.stringify(settings), {mode: 0o600})
  return file
}

/**
 * Removes a config that writeMcpConfigFile wrote, with its directory; any other path (say, from
 * a database someone edited) is left alone. Best effort: returns the error instead of throwing.
 */
export function removeMcpConfigFile(file: string): Error | undefined {
  const dir = path.dirname(file)
  if (path.basename(file) !== CONFIG_NAME || !path.basename(dir).startsWith(DIR_PREFIX)) return undefined
  try {
    rmSync(dir, {recursive: true, force: true})
    return undefined
  } catch (error) {
    return error as Error
  }
}
