/**
 * The MCP config handed to claude: the user's servers plus, unless approvals are off, our
 * approvals server (`hld mcp claude-approvals`), which ties each permission request to the
 * session through HUMANLAYER_RUN_ID and reaches this daemon through HUMANLAYER_DAEMON_SOCKET.
 * It is written to a private temp file (0600 in a 0700 directory) removed when the session ends,
 * and swept at the next start when a crash left it behind.
 */
import {createHash, randomUUID} from 'node:crypto'
import {lstatSync, readdirSync, rmSync} from 'node:fs'
import {mkdir, rm, rmdir, unlink, writeFile} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'

import {packageRoot} from '../../shared/package-root.js'

const APPROVALS_SERVER = 'approvals'
/** The name the Go hld gives its injected server; its clients (`humanlayer launch`) name this tool. */
const CODELAYER_SERVER = 'codelayer'
const APPROVALS_SERVER_ENTRY = path.join(packageRoot(), 'bin', 'mcp-claude-approvals.js')
export const APPROVALS_PERMISSION_TOOL = `mcp__${APPROVALS_SERVER}__request_permission`
export const CODELAYER_PERMISSION_TOOL = `mcp__${CODELAYER_SERVER}__request_permission`

export interface McpServers {
  mcpServers: Record<string, unknown>
}

/** Who the session is, for its MCP servers (what the Go hld gives them too). */
export interface SessionIdentity {
  sessionId: string
  runId: string
  socketPath: string
}

export interface ApprovalsServer {
  /** The permission tool claude is told to call: our server takes the name it uses. */
  permissionTool: string
  /** Puts the server in cloud mode, as the daemon is when it has a key. */
  apiKey?: string
}

/**
 * The servers claude gets. User stdio servers get the session's identity in their environment,
 * HTTP ones an `X-Session-ID` header unless they set one (as the Go hld does). The approvals
 * server runs this package's lean MCP entry (no oclif, no MCP SDK: it must answer before claude
 * gives up on it) with the daemon's own node, by absolute paths, so it starts even when claude's
 * PATH is minimal (upstream #967); it is named `codelayer` when the permission tool says so (Go
 * clients), else `approvals`, and replaces a user server of that name.
 */
export function sessionMcpServers(
  user: McpServers | undefined,
  identity: SessionIdentity,
  approvals: ApprovalsServer | undefined,
): McpServers | undefined {
  const env = {
    HUMANLAYER_SESSION_ID: identity.sessionId,
    HUMANLAYER_RUN_ID: identity.runId,
    HUMANLAYER_DAEMON_SOCKET: identity.socketPath,
  }
  const servers: Record<string, unknown> = {}
  for (const [name, server] of Object.entries(user?.mcpServers ?? {})) servers[name] = withIdentity(server, identity.sessionId, env)
  if (approvals) {
    servers[approvalsServerName(approvals.permissionTool)] = {
      command: process.execPath,
      args: [APPROVALS_SERVER_ENTRY],
      env: {...env, ...(approvals.apiKey ? {HUMANLAYER_API_KEY: approvals.apiKey} : {})},
    }
  }
  return Object.keys(servers).length === 0 ? undefined : {mcpServers: servers}
}

function approvalsServerName(permissionTool: string): string {
  return permissionTool === CODELAYER_PERMISSION_TOOL ? CODELAYER_SERVER : APPROVALS_SERVER
}

function withIdentity(server: unknown, sessionId: string, env: Record<string, string>): unknown {
  if (typeof server !== 'object' || server === null) return server
  const entry = server as {type?: unknown; url?: unknown; headers?: unknown; env?: unknown}
  const record = (value: unknown): Record<string, unknown> =>
    typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {}
  if (entry.type === 'http' || entry.type === 'sse' || (entry.type === undefined && typeof entry.url === 'string')) {
    return {...entry, headers: {'X-Session-ID': sessionId, ...record(entry.headers)}}
  }
  return {...entry, env: {...record(entry.env), ...env}}
}

const CONFIG_NAME = 'mcp-config.json'
const DIR_PREFIX = 'hld-mcp-'

/**
 * The start of the directory names of one daemon's configs (`hld-mcp-<socket hash>-`): a sweep
 * removes its own, never those of another daemon of the same user.
 */
function daemonDirPrefix(socketPath: string): string {
  return `${DIR_PREFIX}${createHash('sha256').update(socketPath).digest('hex').slice(0, 12)}-`
}

/** Every directory writeMcpConfigFile makes for one daemon, as a glob (the policy's built-in rules deny reading them). */
export function mcpConfigDirs(socketPath: string): string {
  return path.join(os.tmpdir(), `${daemonDirPrefix(socketPath)}*`)
}

/**
 * The temp directory joined with daemonDirPrefix, by socket, worked out once: os.tmpdir() reads
 * the environment through Node's privilege check (six system calls, twice per launch) and the
 * prefix is a hash.
 */
const configDirPrefixes = new Map<string, string>()

/**
 * Where a session's config goes: a directory of its own named by the session id, which is random
 * (a UUID), so nobody can create it first; known before anything is written, so the session's row
 * records it from its first insert, and a restart after a crash finds it.
 */
export function mcpConfigFileFor(socketPath: string, sessionId: string): string {
  let prefix = configDirPrefixes.get(socketPath)
  if (prefix === undefined) configDirPrefixes.set(socketPath, (prefix = path.join(os.tmpdir(), daemonDirPrefix(socketPath))))
  return path.join(`${prefix}${sessionId}`, CONFIG_NAME)
}

/**
 * Writes the config into a new private directory (0700; an existing one is an error, as with
 * mkdtemp); returns its path.
 */
export async function writeMcpConfigFile(config: McpServers, socketPath: string, sessionId: string = randomUUID()): Promise<string> {
  const file = mcpConfigFileFor(socketPath, sessionId)
  await mkdir(path.dirname(file), {mode: 0o700})
  await writeFile(file, JSON.stringify(config), {mode: 0o600, flag: 'wx'})
  return file
}

/**
 * Removes a config that writeMcpConfigFile wrote, with its directory; any other path (say, from
 * a database someone edited) is left alone. Best effort: resolves to the error instead of
 * rejecting. Off the event loop, and by name: the file, then the directory (a recursive removal
 * looks at everything first, twice the calls, per session); a directory that holds more (the
 * settings.json beside it of a session an older hld started) is removed whole.
 */
export async function removeMcpConfigFile(file: string): Promise<Error | undefined> {
  const dir = path.dirname(file)
  if (path.basename(file) !== CONFIG_NAME || !path.basename(dir).startsWith(DIR_PREFIX)) return undefined
  try {
    await unlink(file).catch(ignoreMissing)
    await rmdir(dir).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOTEMPTY' || error.code === 'EEXIST') await rm(dir, {recursive: true, force: true})
      else ignoreMissing(error)
    })
    return undefined
  } catch (error) {
    return error as Error
  }
}

/** For removals: what is already gone is removed. */
export function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error
}

/**
 * Removes the configs this daemon (the one at `socketPath`) left in the temp directory, except
 * those of sessions that still run (`inUse`). A crash during a batch of launches leaves one per
 * launch, and each can hold the api_key. Returns how many were removed and what could not be.
 */
export function sweepMcpConfigs(socketPath: string, inUse: ReadonlySet<string>): {removed: number; failed: {path: string; error: Error}[]} {
  const prefix = daemonDirPrefix(socketPath)
  const result = {removed: 0, failed: [] as {path: string; error: Error}[]}
  let names: string[]
  try {
    names = readdirSync(os.tmpdir())
  } catch (error) {
    return {...result, failed: [{path: os.tmpdir(), error: error as Error}]}
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const dir = path.join(os.tmpdir(), name)
    if (inUse.has(path.join(dir, CONFIG_NAME))) continue
    try {
      // Ours only, and a real directory: a link or another user's entry by that name is left alone.
      const stats = lstatSync(dir)
      if (!stats.isDirectory() || stats.uid !== process.getuid?.()) continue
      rmSync(dir, {recursive: true, force: true})
      result.removed++
    } catch (error) {
      result.failed.push({path: dir, error: error as Error})
    }
  }
  return result
}
