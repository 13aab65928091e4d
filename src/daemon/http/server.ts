/**
 * The REST + SSE API of the Go hld (`/api/v1`, its OpenAPI document), on 127.0.0.1 only, off
 * unless `http_port` is set. Routing and request validation come from the document through
 * openapi-backend; the operations are thin calls into the daemon's services (routes.ts). This
 * module (and openapi-backend with it) is imported only when the API is turned on, so a
 * daemon without it starts as lean as before.
 */
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import path from 'node:path'

import addFormats from 'ajv-formats'
import {type Context, OpenAPIBackend} from 'openapi-backend'

import {ErrorCode, RpcError} from '../../protocol/errors.js'
import type {Logger} from '../../shared/logger.js'
import {packageRoot} from '../../shared/package-root.js'
import type {StreamHandler} from '../rpc/server.js'
import {type AccessPolicy, ensureToken, refusal} from './auth.js'
import type {Peer} from '../../shared/peer.js'
import {tcpPeers} from './peer.js'
import {type Operation, type RestServices, restOperations} from './routes.js'
import {serveEventStream} from './sse.js'

export const API_ROOT = '/api/v1'
/** Request bodies beyond this are refused (413) before they are parsed. */
const MAX_BODY_BYTES = 1024 * 1024

export interface HttpApiOptions extends RestServices {
  port: number
  auth: 'token' | 'none'
  tokenFile: string
  allowedOrigins: readonly string[]
  /** The Subscribe stream, served again as SSE. */
  subscribe: StreamHandler
  /**
   * Runs an operation that writes holding the database's write lock (Store.write), as the
   * router does for RPC methods, so a lock held by another process makes it wait, not fail.
   */
  write: <T>(work: () => T) => Promise<T>
  log: Logger
}

export interface HttpApi {
  readonly port: number
  close(): Promise<void>
}

/** Application error codes as HTTP statuses and the Go hld's error codes (`HLD-…`). */
const STATUS_OF: Record<number, [number, string]> = {
  [ErrorCode.InvalidParams]: [400, 'HLD-301'],
  [ErrorCode.NotFound]: [404, 'HLD-102'],
  // A decision from inside a session's process tree (an agent approving itself).
  [ErrorCode.Forbidden]: [403, 'HLD-202'],
  // Go answers a wrong state (already decided, not running) with 400.
  [ErrorCode.Conflict]: [400, 'HLD-103'],
  [ErrorCode.UpstreamFailure]: [502, 'HLD-402'],
  [ErrorCode.Unavailable]: [503, 'HLD-403'],
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const {log} = options
  const policy: AccessPolicy = {
    token: options.auth === 'none' ? null : await ensureToken(options.tokenFile),
    allowedOrigins: options.allowedOrigins,
  }
  if (options.auth === 'none') {
    log.warn(
      'the HTTP API accepts requests without a token (http_auth: "none"): any local process or allowed page can drive sessions and approvals',
    )
  }

  const operations = restOperations(options)
  const api = new OpenAPIBackend({
    definition: path.join(packageRoot(), 'openapi', 'hld-openapi.yaml'),
    apiRoot: API_ROOT,
    // The document is a fixed copy: skip re-validating it at every start.
    quick: true,
    // ajv-formats is CommonJS: its plugin is the module's `default` export under NodeNext.
    customizeAjv: (ajv) => addFormats.default(ajv),
  })
  const handlers: Record<string, (c: Context, req: IncomingMessage, res: ServerResponse) => unknown> = {
    validationFail: (c) => ({status: 400, body: errorBody('HLD-301', 'Invalid request', {errors: c.validation.errors})}),
    notFound: () => ({status: 404, body: errorBody('HLD-101', 'No such endpoint')}),
    methodNotAllowed: () => ({status: 405, body: errorBody('HLD-101', 'Method not allowed on this endpoint')}),
    notImplemented: (c) => ({status: 501, body: errorBody('HLD-104', `${c.operation.operationId} is not served by hld`)}),
    streamEvents: (c, req, res) => {
      const query = c.request.query as Record<string, string | string[] | undefined>
      const types = query.eventTypes === undefined ? undefined : [query.eventTypes].flat()
      serveEventStream(options.subscribe, req, res, {eventTypes: types, sessionId: one(query.sessionId), runId: one(query.runId)})
      return 'streaming'
    },
  }
  // Reads (GET) never write, so they need not wait for the lock; every other method may.
  for (const [operationId, operation] of Object.entries(operations)) {
    handlers[operationId] = (c, req) => (req.method === 'GET' ? run(operation, c, req) : options.write(() => run(operation, c, req)))
  }
  api.register(handlers)
  await api.init()

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      log.error('HTTP request failed', {method: req.method, url: req.url, error})
      if (!res.headersSent) send(res, 500, errorBody('HLD-401', 'Internal server error'))
      else res.destroy()
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const refused = refusal(req, policy)
    if (refused) return send(res, refused.status, errorBody(refused.status === 401 ? 'HLD-201' : 'HLD-202', refused.message))
    const body = await readBody(req)
    if (body === TOO_LARGE) return send(res, 413, errorBody('HLD-301', `Request bodies are limited to ${MAX_BODY_BYTES} bytes`))
    const result = (await api.handleRequest(
      {method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers as Record<string, string | string[]>, body},
      req,
      res,
    )) as {status: number; body: unknown} | 'streaming'
    if (result !== 'streaming') send(res, result.status, result.body)
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // Loopback only, never 0.0.0.0.
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as AddressInfo).port
  log.info('HTTP API listening', {url: `http://127.0.0.1:${port}${API_ROOT}`, auth: options.auth})
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        // SSE streams never end by themselves.
        server.closeAllConnections()
      }),
  }
}

async function run(operation: Operation, c: Context, req: IncomingMessage): Promise<{status: number; body: unknown}> {
  try {
    return await operation({
      params: c.request.params as Record<string, string>,
      query: c.request.query as Record<string, string | string[] | undefined>,
      body: c.request.requestBody,
      peers: () => peersOf(req),
    })
  } catch (error) {
    if (!(error instanceof RpcError)) throw error
    const [status, code] = STATUS_OF[error.code] ?? [500, 'HLD-401']
    return {status, body: errorBody(code, error.message, {rpc_code: error.code, ...(error.data === undefined ? {} : {data: error.data})})}
  }
}

/** The processes at the other end of the request's connection, as the kernel knows them. */
function peersOf(req: IncomingMessage): Peer[] {
  const {remoteAddress, remotePort, localAddress, localPort} = req.socket
  if (!remoteAddress || !remotePort || !localAddress || !localPort) return []
  return tcpPeers({clientAddress: remoteAddress, clientPort: remotePort, serverAddress: localAddress, serverPort: localPort})
}

function errorBody(code: string, message: string, details?: Record<string, unknown>): unknown {
  return {error: {code, message, ...(details ? {details} : {})}}
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'content-type': 'application/json', 'content-length': Buffer.byteLength(text)})
  res.end(text)
}

function one(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

const TOO_LARGE = Symbol('too large')

/** The JSON body, undefined when there is none; a body that is not JSON is passed on as text (validation refuses it). */
async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > MAX_BODY_BYTES) return TOO_LARGE
    chunks.push(chunk as Buffer)
  }
  if (size === 0) return undefined
  const text = Buffer.concat(chunks).toString('utf8')
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}
