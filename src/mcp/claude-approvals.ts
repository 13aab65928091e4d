/**
 * `hld mcp claude-approvals`: the stdio MCP server Claude Code calls as its
 * --permission-prompt-tool. One tool, `request_permission`; it creates an approval (in the
 * daemon, or in the HumanLayer API when an api_key is configured) and answers once a human
 * decided. stdout is the MCP channel: logs go to a file.
 *
 * Sessions start it through bin/mcp-claude-approvals.js, which loads neither oclif nor the MCP
 * SDK: it answers `initialize` first and loads what deciding needs (config, logger, the
 * approvers) right after, so claude never waits on it for its permission tool.
 */
import path from 'node:path'

import type {Config} from '../config/index.js'
import type {Logger} from '../shared/logger.js'
import {packageVersion} from '../shared/package-root.js'
import type {PermissionAnswer, PermissionRequest} from './permission.js'
import {serveMcpStdio} from './stdio-server.js'

const SERVER_NAME = 'humanlayer-claude-local-approvals'

type Decide = (request: PermissionRequest, signal: AbortSignal) => Promise<PermissionAnswer>

/** Picks local or cloud mode from the config; a setup problem becomes the error every call reports. */
async function decider(env: NodeJS.ProcessEnv, config: Config | Error, log: Logger): Promise<Decide> {
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
  const {answerFor} = await import('./permission.js')
  if (config.api_key) {
    const {CloudApprover} = await import('./cloud-approver.js')
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
  const {LocalApprover} = await import('./local-approver.js')
  const local = new LocalApprover({socketPath: config.socket_path, runId, log})
  return async (request, signal) => answerFor(await local.request(request, signal), request.input)
}

function logFileFor(config: Config | Error, runId: string | undefined): string {
  const dir = config instanceof Error ? path.join(process.env.HOME ?? '.', '.humanlayer', 'logs') : path.dirname(config.log_file)
  const name = (runId ?? new Date().toISOString().slice(0, 10)).replace(/[^\w.-]/g, '_')
  return path.join(dir, `mcp-claude-approvals-${name}.log`)
}

/** Config, log and the approver: what deciding needs, loaded after `initialize` was answered. */
async function setUp(env: NodeJS.ProcessEnv): Promise<{decide: Decide; log: Logger}> {
  const [{loadConfig}, {createLogger}] = await Promise.all([import('../config/index.js'), import('../shared/logger.js')])
  let config: Config | Error
  try {
    config = loadConfig({}, env)
  } catch (error) {
    config = error as Error
  }
  const log = createLogger(
    config instanceof Error ? 'info' : config.log_level,
    {kind: 'file', path: logFileFor(config, env.HUMANLAYER_RUN_ID)},
    {pid: process.pid},
  )
  const mode = config instanceof Error ? 'unconfigured' : config.api_key ? 'cloud' : 'local'
  log.info('mcp server starting', {
    mode,
    run_id: env.HUMANLAYER_RUN_ID ?? null,
    ...(config instanceof Error ? {} : mode === 'local' ? {socket: config.socket_path} : {api_base_url: config.api_base_url}),
  })
  return {decide: await decider(env, config, log), log}
}

/** Serves MCP on stdin/stdout until stdin closes. */
export async function serveClaudeApprovals(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let ready: Promise<{decide: Decide; log: Logger}> | undefined
  const setUpOnce = (): Promise<{decide: Decide; log: Logger}> => (ready ??= setUp(env))
  await serveMcpStdio<PermissionRequest>({
    name: SERVER_NAME,
    version: packageVersion(),
    input: process.stdin,
    output: process.stdout,
    // Warm up once claude has its answer, rather than hold the answer up.
    afterInitialize: () => void setUpOnce().catch(() => {}),
    tool: {
      name: 'request_permission',
      description: 'Request permission to perform an action',
      inputSchema: {
        type: 'object',
        properties: {
          tool_name: {type: 'string', minLength: 1},
          input: {type: 'object', additionalProperties: {}},
          tool_use_id: {type: 'string'},
        },
        required: ['tool_name', 'input'],
      },
      parse: parsePermissionRequest,
      async call(request, signal) {
        const {decide, log} = await setUpOnce()
        try {
          const answer = await decide(request, signal)
          log.info('permission answered', {tool_name: request.tool_name, tool_use_id: request.tool_use_id, behavior: answer.behavior})
          return JSON.stringify(answer)
        } catch (error) {
          log.error('permission request failed', {tool_name: request.tool_name, tool_use_id: request.tool_use_id, error})
          throw error
        }
      },
    },
  })
  if (ready) (await ready).log.info('mcp server stopped: stdin closed')
}

/** request_permission's arguments, checked as its inputSchema says; else what is wrong with them. */
export function parsePermissionRequest(args: unknown): PermissionRequest | string {
  const problems: string[] = []
  const {tool_name: toolName, input, tool_use_id: toolUseId}: Record<string, unknown> = isRecord(args) ? args : {}
  if (typeof toolName !== 'string' || toolName === '') problems.push('Invalid tool name requesting permissions at tool_name')
  if (!isRecord(input))
    problems.push(
      `Invalid input: expected an object, received ${input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input} at input`,
    )
  if (toolUseId !== undefined && typeof toolUseId !== 'string')
    problems.push(`Invalid input: expected a string, received ${typeof toolUseId} at tool_use_id`)
  if (problems.length > 0) return problems.join('\n')
  return {
    tool_name: toolName as string,
    input: input as Record<string, unknown>,
    ...(toolUseId === undefined ? {} : {tool_use_id: toolUseId as string}),
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
