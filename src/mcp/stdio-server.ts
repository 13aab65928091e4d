/**
 * The part of MCP that a tools-only stdio server speaks: newline-delimited JSON-RPC 2.0 on
 * stdin/stdout with `initialize`, `ping`, `tools/list`, `tools/call` and
 * `notifications/cancelled`. The approvals server uses this instead of the MCP SDK's server
 * because the SDK evaluates its zod schemas (and ajv) at import: 0.4–0.9 s of start-up on a busy
 * machine, during which Claude Code may give up on the permission tool (issue 10). This module
 * imports nothing but node and our framing, so `initialize` is answered at node's own start-up
 * cost. The wire shapes follow the MCP specification (2025-11-25 and the versions before it).
 */
import {DEFAULT_MAX_FRAME_BYTES, encodeFrame, LineDecoder} from '../protocol/framing.js'

/** Newest first; an unknown version requested by the client is answered with the newest. */
const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05', '2024-10-07']

const PARSE_ERROR = -32700
const INVALID_REQUEST = -32600
const METHOD_NOT_FOUND = -32601
const INVALID_PARAMS = -32602

export interface McpTool<Args> {
  name: string
  description: string
  /** JSON Schema of the arguments, as tools/list shows it. */
  inputSchema: Record<string, unknown>
  /** The arguments, checked, or a message saying what is wrong with them. */
  parse(args: unknown): Args | string
  /** The text of the tool's answer; a rejection becomes an `isError` result with its message. */
  call(args: Args, signal: AbortSignal): Promise<string>
}

export interface McpStdioServerOptions<Args> {
  name: string
  version: string
  tool: McpTool<Args>
  input: NodeJS.ReadableStream
  output: NodeJS.WritableStream
  /** Runs once `initialize` has been answered: the moment to load what tool calls will need. */
  afterInitialize?: () => void
}

type Id = string | number

interface Request {
  jsonrpc: '2.0'
  id?: Id | null
  method: string
  params?: Record<string, unknown>
}

/** Serves until `input` ends; then aborts the calls still running and resolves once they answered. */
export async function serveMcpStdio<Args>(options: McpStdioServerOptions<Args>): Promise<void> {
  const {tool} = options
  const running = new Map<Id, AbortController>()
  const calls = new Set<Promise<void>>()

  const send = (message: Record<string, unknown>): void => {
    // A write after claude closed the pipe has nobody to reach.
    if (!options.output.writable) return
    options.output.write(encodeFrame({jsonrpc: '2.0', ...message}))
  }
  const reply = (id: Id, result: unknown): void => send({id, result})
  const fail = (id: Id | null, code: number, message: string): void => send({id, error: {code, message}})

  const handle = (request: Request): void => {
    const id = request.id
    if (id === undefined || id === null) {
      // Notifications: only a cancellation changes anything.
      if (request.method === 'notifications/cancelled') {
        const target = request.params?.requestId
        if (typeof target === 'string' || typeof target === 'number') running.get(target)?.abort()
      }
      return
    }
    switch (request.method) {
      case 'initialize': {
        const asked = request.params?.protocolVersion
        const version = typeof asked === 'string' && SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : SUPPORTED_PROTOCOL_VERSIONS[0]
        reply(id, {protocolVersion: version, capabilities: {tools: {}}, serverInfo: {name: options.name, version: options.version}})
        if (options.afterInitialize) setImmediate(options.afterInitialize)
        return
      }
      case 'ping':
        reply(id, {})
        return
      case 'tools/list':
        reply(id, {tools: [{name: tool.name, description: tool.description, inputSchema: tool.inputSchema}]})
        return
      case 'tools/call': {
        const name = request.params?.name
        if (name !== tool.name) {
          fail(id, INVALID_PARAMS, `Tool ${String(name)} not found`)
          return
        }
        const args = tool.parse(request.params?.arguments ?? {})
        if (typeof args === 'string') {
          reply(id, errorResult(`MCP error ${INVALID_PARAMS}: Input validation error: Invalid arguments for tool ${tool.name}: ${args}`))
          return
        }
        const controller = new AbortController()
        running.set(id, controller)
        const call = tool
          .call(args, controller.signal)
          .then(
            (text) => reply(id, {content: [{type: 'text', text}]}),
            (error: unknown) => reply(id, errorResult(error instanceof Error ? error.message : String(error))),
          )
          .finally(() => {
            running.delete(id)
            calls.delete(call)
          })
        calls.add(call)
        return
      }
      default:
        fail(id, METHOD_NOT_FOUND, 'Method not found')
    }
  }

  const decoder = new LineDecoder({
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    onLine: (line) => {
      let message: unknown
      try {
        message = JSON.parse(line)
      } catch {
        fail(null, PARSE_ERROR, 'Parse error')
        return
      }
      if (!isRequest(message)) {
        // Responses (we send no requests) and malformed messages; a request with an id hears why.
        const {id, result, error} = (typeof message === 'object' && message !== null ? message : {}) as Record<string, unknown>
        if ((typeof id === 'string' || typeof id === 'number') && result === undefined && error === undefined)
          fail(id, INVALID_REQUEST, 'Invalid request')
        return
      }
      handle(message)
    },
    onOversize: (bytes) => fail(null, INVALID_REQUEST, `Message of ${bytes} bytes is over the limit of ${DEFAULT_MAX_FRAME_BYTES}`),
  })

  await new Promise<void>((resolve) => {
    options.input.on('data', (chunk: Buffer) => decoder.push(chunk))
    options.input.once('end', resolve)
    options.input.once('close', resolve)
  })
  decoder.end()
  // The client is gone: nobody is left to answer, so stop waiting on whatever decides.
  for (const controller of running.values()) controller.abort()
  await Promise.all(calls)
}

function errorResult(text: string): {content: {type: 'text'; text: string}[]; isError: true} {
  return {content: [{type: 'text', text}], isError: true}
}

function isRequest(message: unknown): message is Request {
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false
  const {jsonrpc, method, params} = message as Record<string, unknown>
  return (
    jsonrpc === '2.0' &&
    typeof method === 'string' &&
    (params === undefined || (typeof params === 'object' && params !== null && !Array.isArray(params)))
  )
}
