/**
 * `hld mcp claude-approvals`: the stdio MCP server Claude Code calls as its
 * --permission-prompt-tool. One tool, `request_permission`; it creates an approval (in the
 * daemon, or in the HumanLayer API when an api_key is configured) and answers once a human
 * decided. stdout is the MCP channel: logs go to a file.
 */
import path from 'node:path'

import {McpServer} from '@modelcontextprotocol/sdk/server/mcp.js'
import {StdioServerTransport} from '@modelcontextprotocol/sdk/server/stdio.js'
import {z} from 'zod'

import {type Config, loadConfig} from '../config/index.js'
import {createLogger, type Logger} from '../daemon/logger.js'
import {packageVersion} from '../daemon/package-root.js'
import {CloudApprover} from './cloud-approver.js'
import {LocalApprover} from './local-approver.js'
import {answerFor, type PermissionAnswer, type PermissionRequest} from './permission.js'

const SERVER_NAME = 'humanlayer-claude-local-approvals'

type Decide = (request: PermissionRequest, signal: AbortSignal) => Promise<PermissionAnswer>

/** Picks local or cloud mode from the config; a setup problem becomes the error every call reports. */
function decider(env: NodeJS.ProcessEnv, config: Config | Error, log: Logger): Decide {
  const runId = env.HUMANLAYER_RUN_ID
  if (config instanceof Error) {
    return () => Promise.reject(new Error(`Cannot ask for approval: the hld configuration is invalid: ${config.message}`))
  }
  if (!runId) {
    return () =>
      Promise.reject(
        new Error(
          'Cannot ask for approval: HUMANLAYER_RUN_ID is not set. hld mcp claude-approvals must be started for a session ' +
            'launched by the hld daemon, which sets HUMANLAYER_RUN_ID and HUMANLAYER_DAEMON_SOCKET in the MCP config.',
        ),
      )
  }
  if (config.api_key) {
    const cloud = new CloudApprover({
      apiKey: config.api_key,
      apiBaseUrl: config.api_base_url,
      runId,
      pollIntervalMs: config.poll_interval_ms,
      requestTimeoutMs: config.api_timeout_ms,
      log,
    })
    return async (request, signal) => {
      const {approved, comment} = await cloud.request(request, signal)
      return answerFor({status: approved ? 'approved' : 'denied', comment: comment ?? undefined}, request.input)
    }
  }
  const local = new LocalApprover({socketPath: config.socket_path, runId, log})
  return async (request, signal) => answerFor(await local.request(request, signal), request.input)
}

function logFileFor(config: Config | Error, runId: string | undefined): string {
  const dir = config instanceof Error ? path.join(process.env.HOME ?? '.', '.humanlayer', 'logs') : path.dirname(config.log_file)
  const name = (runId ?? new Date().toISOString().slice(0, 10)).replace(/[^\w.-]/g, '_')
  return path.join(dir, `mcp-claude-approvals-${name}.log`)
}

/** Serves MCP on stdin/stdout until stdin closes. */
export async function serveClaudeApprovals(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: Config | Error
  try {
    config = loadConfig({}, env)
  } catch (error) {
    config = error as Error
  }
  const log = createLogger(config instanceof Error ? 'info' : config.log_level, {kind: 'file', path: logFileFor(config, env.HUMANLAYER_RUN_ID)}, {pid: process.pid})
  const decide = decider(env, config, log)
  const mode = config instanceof Error ? 'unconfigured' : config.api_key ? 'cloud' : 'local'
  log.info('mcp server starting', {mode, run_id: env.HUMANLAYER_RUN_ID ?? null, ...(config instanceof Error ? {} : mode === 'local' ? {socket: config.socket_path} : {api_base_url: config.api_base_url})})

  const closed = new AbortController()
  const server = new McpServer({name: SERVER_NAME, version: packageVersion()}, {capabilities: {tools: {}}})
  server.registerTool(
    'request_permission',
    {
      description: 'Request permission to perform an action',
      inputSchema: {
        tool_name: z.string().min(1, 'Invalid tool name requesting permissions'),
        input: z.record(z.string(), z.unknown()),
        tool_use_id: z.string().optional(),
      },
    },
    async (args, extra) => {
      const signal = AbortSignal.any([extra.signal, closed.signal])
      try {
        const answer = await decide(args, signal)
        log.info('permission answered', {tool_name: args.tool_name, tool_use_id: args.tool_use_id, behavior: answer.behavior})
        return {content: [{type: 'text', text: JSON.stringify(answer)}]}
      } catch (error) {
        log.error('permission request failed', {tool_name: args.tool_name, tool_use_id: args.tool_use_id, error})
        throw error
      }
    },
  )

  const stdinClosed = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve)
    process.stdin.once('close', resolve)
  })
  await server.connect(new StdioServerTransport())
  await stdinClosed
  // Claude is gone: nobody is left to answer, so stop waiting on the daemon or the API.
  closed.abort()
  await server.close()
  log.info('mcp server stopped: stdin closed')
}
