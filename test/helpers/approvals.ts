/**
 * Helpers for approval tests: a daemon in this process with a sessions double (so a test sets
 * up and ends sessions itself), and claude stand-ins that reach `hld mcp claude-approvals`.
 */
import {mkdirSync} from 'node:fs'
import path from 'node:path'

import {Client} from '@modelcontextprotocol/sdk/client/index.js'
import {StdioClientTransport} from '@modelcontextprotocol/sdk/client/stdio.js'
import {execa, type ResultPromise} from 'execa'

import {loadConfig} from '../../src/config/index.js'
import {createLogger} from '../../src/shared/logger.js'
import {type Daemon, startDaemon} from '../../src/daemon/main.js'
import {FetchApprovals, type Approval} from '../../src/protocol/approvals.js'
import {FakeSessions} from './fake-sessions.js'
import {CLI, REPO_ROOT, type Sandbox, waitFor} from './sandbox.js'

export const FAKE_CLAUDE = path.join(REPO_ROOT, 'test', 'fixtures', 'fake-claude.mjs')
export const PERMISSION_TOOL = 'mcp__approvals__request_permission'

/** The MCP config the sessions service writes for each session (server "approvals"). */
export function approvalsMcpConfig(sandbox: Sandbox, runId: string | undefined): string {
  const env: Record<string, string> = {HUMANLAYER_DAEMON_SOCKET: sandbox.socketPath}
  if (runId !== undefined) env.HUMANLAYER_RUN_ID = runId
  return JSON.stringify({mcpServers: {approvals: {command: process.execPath, args: [CLI, 'mcp', 'claude-approvals'], env}}})
}

/** Runs fake claude as a session would: `[fake:permission]` asks the approvals server to run `touch marker.txt`. */
export function runFakeClaude(
  sandbox: Sandbox,
  options: {runId?: string; cwd: string; env?: Record<string, string | undefined>},
): ResultPromise {
  mkdirSync(options.cwd, {recursive: true})
  const child = execa(
    process.execPath,
    [
      FAKE_CLAUDE,
      '--output-format',
      'stream-json',
      '--verbose',
      '--mcp-config',
      approvalsMcpConfig(sandbox, options.runId),
      '--permission-prompt-tool',
      PERMISSION_TOOL,
      '--print',
      '--',
      '[fake:permission] create the marker',
    ],
    {cwd: options.cwd, env: sandbox.env(options.env), extendEnv: false, reject: false, stdin: 'ignore', timeout: 60_000},
  )
  if (child.pid) sandbox.track(child.pid)
  return child
}

/** The tool_result fake claude printed for its Bash call. */
export function toolResultOf(stdout: string): {content: string; is_error: boolean} | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const event = JSON.parse(line) as {type: string; message?: {content?: {type: string; content: string; is_error: boolean}[]}}
    const block = event.type === 'user' ? event.message?.content?.find((c) => c.type === 'tool_result') : undefined
    if (block) return {content: block.content, is_error: block.is_error}
  }
  return undefined
}

export class InProcessDaemon {
  daemon: Daemon | undefined

  constructor(
    readonly sandbox: Sandbox,
    readonly sessions: FakeSessions,
    private readonly env: Record<string, string> = {},
  ) {}

  async start(): Promise<void> {
    const config = loadConfig({}, this.sandbox.env(this.env))
    this.daemon = await startDaemon(config, createLogger('warn', {kind: 'file', path: this.sandbox.logFile}), {
      logFile: this.sandbox.logFile,
      sessionLink: this.sessions,
    })
  }

  async stop(): Promise<void> {
    await this.daemon?.shutdown('test')
    this.daemon = undefined
  }
}

/** Polls fetchApprovals until `pick` finds the approval. */
export async function waitForApproval(
  sandbox: Sandbox,
  pick: (approvals: Approval[]) => Approval | undefined,
  what = 'an approval',
  timeoutMs = 15_000,
): Promise<Approval> {
  let found: Approval | undefined
  await waitFor(
    async () => {
      const client = await sandbox.client()
      try {
        found = pick((await client.call(FetchApprovals, {})).approvals)
      } finally {
        client.close()
      }
      return found !== undefined
    },
    timeoutMs,
    what,
  )
  return found!
}

/** What claude asks request_permission about; by default one Bash call. */
export interface PermissionCall {
  tool_name: string
  input: Record<string, unknown>
  tool_use_id: string
}

/**
 * Starts `hld mcp claude-approvals` as claude would and calls request_permission once; returns
 * the tool result. `whileWaiting` runs once the call is in flight (to decide it, for example).
 */
export async function requestPermission(
  sandbox: Sandbox,
  env: Record<string, string | undefined>,
  whileWaiting?: () => Promise<void>,
  call: PermissionCall = {tool_name: 'Bash', input: {command: 'touch x'}, tool_use_id: 'toolu_1'},
): Promise<{isError: boolean; text: string}> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp', 'claude-approvals'],
    env: sandbox.env(env),
    stderr: 'pipe',
  })
  const client = new Client({name: 'test', version: '0'})
  await client.connect(transport)
  try {
    const {tools} = await client.listTools()
    if (tools.map((t) => t.name).join() !== 'request_permission') throw new Error(`unexpected tools: ${tools.map((t) => t.name).join()}`)
    const answer = client.callTool({name: 'request_permission', arguments: {...call}})
    await whileWaiting?.()
    const result = await answer
    const text = (result.content as {type: string; text: string}[]).map((c) => c.text).join('\n')
    return {isError: result.isError === true, text}
  } finally {
    await client.close()
  }
}
