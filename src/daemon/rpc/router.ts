/**
 * The method → handler table. Handlers are plain async functions of their validated params;
 * they never see a socket, only the peer the kernel names (in their context). They throw
 * `RpcError` to choose a code; any other throw becomes -32603 with the message, is logged, and
 * the daemon carries on.
 */
import jayson from 'jayson'
import type {z} from 'zod'

import {ErrorCode, RpcError, type RpcErrorObject} from '../../protocol/errors.js'
import type {EncodedJson} from '../../protocol/framing.js'
import type {Method, ParamsOf, ResultOf} from '../../protocol/method.js'
import type {Logger} from '../../shared/logger.js'
import type {Peer} from '../../shared/peer.js'

export interface HandlerContext {
  /** Aborted when the caller disconnects; long waits should stop on it. */
  signal: AbortSignal
  /** The process at the other end of the connection, from the kernel; null where the OS cannot tell. */
  peer: Peer | null
  /** This request's connection, shared by all its requests. */
  connection: ConnectionState
}

/** What the daemon knows of one connection beyond its peer. */
export interface ConnectionState {
  /** Frames received so far, this one included: `connectionOrigin` counts only as the first. */
  frames: number
  /** Set by `connectionOrigin`: the requests came through `hld daemon dial-stdio`, i.e. over ssh. */
  origin?: {ssh_connection?: string}
}

/** A handler may return its result already encoded (see EncodedJson). */
type Reply<M> = ResultOf<M> | EncodedJson<ResultOf<M>>

export type Handler<M> = (params: ParamsOf<M>, ctx: HandlerContext) => Promise<Reply<M>> | Reply<M>

/** The zod schema whose parsed output is what the handler receives. */
type SchemaFor<M> = z.ZodType<ParamsOf<M>, unknown>

/**
 * A method's schema as its handlers module names it: loaded (with zod) by the first call that
 * validates with it, so a start does not build the ~100 schemas of the protocol (and zod) before
 * it answers health. See schemasFrom.
 */
export type LazySchema<S> = () => Promise<S>

/**
 * The schemas of one protocol module (`*.schema.ts`), each loaded when first needed:
 * `const schema = schemasFrom(() => import('…/sessions.schema.js'))`, then
 * `router.register(ListSessions, schema('ListSessionsParams'), …)`. The module, and zod, load once.
 */
export function schemasFrom<T extends object>(load: () => Promise<T>): <K extends keyof T>(name: K) => LazySchema<T[K]> {
  let loading: Promise<T> | undefined
  return (name) => async () => (await (loading ??= load()))[name]
}

export interface RegisterOptions {
  /**
   * The schema takes no params (an empty strict object, as `health` and `shutdown`): a call
   * without any, or with `{}`, runs without loading it. Anything else is validated as usual.
   */
  noParams?: boolean
}

/** What a method without params is called with: none, null, or an empty object. */
function isEmptyParams(params: unknown): boolean {
  if (params === undefined || params === null) return true
  if (typeof params !== 'object' || Array.isArray(params) || Object.getPrototypeOf(params) !== Object.prototype) return false
  for (const key in params) if (Object.hasOwn(params, key)) return false
  return true
}

/** What jayson calls with `useContext`: params, our context, a node-style callback. */
type RawMethod = (params: unknown, ctx: HandlerContext, callback: (error: RpcErrorObject | null, result?: unknown) => void) => void

export interface RouterOptions {
  /**
   * Runs a handler holding the database's write lock (Store.write), so that its writes wait
   * while another process holds the lock instead of failing with "database is locked".
   */
  writeGate?: <T>(work: () => T, method: string) => Promise<T>
  /**
   * Methods run outside the gate: those that never write, and so need not wait for the lock
   * (`health` above all), and those that take the lock themselves with the durability each of
   * their writes needs (`decideToolUse`).
   */
  ungated?: ReadonlySet<string>
}

export class Router {
  /** No prototype, so a method named `toString` or `constructor` is simply not registered. */
  private readonly methods: Record<string, RawMethod> = Object.create(null) as Record<string, RawMethod>

  constructor(
    private readonly log: Logger,
    private readonly options: RouterOptions = {},
  ) {}

  register<M extends Method<unknown, unknown>>(
    method: M,
    schema: SchemaFor<M> | LazySchema<SchemaFor<M>>,
    handler: Handler<M>,
    options: RegisterOptions = {},
  ): this {
    if (this.methods[method.name]) throw new Error(`Method ${method.name} is registered twice`)
    let loaded = typeof schema === 'function' ? undefined : schema
    const {writeGate, ungated} = this.options
    const run = (params: ParamsOf<M>, ctx: HandlerContext, callback: Parameters<RawMethod>[2]): void => {
      const call = (): Promise<Reply<M>> | Reply<M> => handler(params, ctx)
      Promise.resolve()
        .then(() => (writeGate && !ungated?.has(method.name) ? writeGate(call, method.name) : call()))
        .then(
          (result) => callback(null, result ?? null),
          (error: unknown) => callback(this.toErrorObject(method.name, error)),
        )
    }
    const validate = (validator: SchemaFor<M>, rawParams: unknown, ctx: HandlerContext, callback: Parameters<RawMethod>[2]): void => {
      const parsed = validator.safeParse(rawParams ?? {})
      if (parsed.success) run(parsed.data, ctx, callback)
      else callback(invalidParams(method.name, parsed.error).toJSON())
    }
    this.methods[method.name] = (rawParams, ctx, callback) => {
      if (loaded) validate(loaded, rawParams, ctx, callback)
      else if (options.noParams && isEmptyParams(rawParams)) run({} as ParamsOf<M>, ctx, callback)
      else {
        ;(schema as LazySchema<SchemaFor<M>>)().then(
          (validator) => validate((loaded = validator), rawParams, ctx, callback),
          (error: unknown) => callback(this.toErrorObject(method.name, error)),
        )
      }
    }
    return this
  }

  /** jayson validates the envelope and routes; we keep the transport. */
  dispatcher(): jayson.Server {
    return new jayson.Server(this.methods, {useContext: true, version: 2})
  }

  private toErrorObject(name: string, error: unknown): RpcErrorObject {
    if (error instanceof RpcError) return error.toJSON()
    this.log.error('handler failed', {method: name, error})
    const message = error instanceof Error ? error.message : String(error)
    return {code: ErrorCode.InternalError, message: `Internal error in ${name}: ${message}`}
  }
}

/** -32602 with one entry per bad field, for every method (and the Subscribe stream). */
export function invalidParams(methodName: string, error: z.ZodError): RpcError {
  const fields = error.issues.map((issue) => ({path: issue.path.join('.'), message: issue.message}))
  const summary = fields.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join('; ')
  return new RpcError(ErrorCode.InvalidParams, `Invalid params for ${methodName}: ${summary}`, {fields})
}
