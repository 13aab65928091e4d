/**
 * The few HumanLayer API calls the daemon makes (reference humanlayer-api.md §2), declared
 * beside their consumers (the poller and the decision path), and a fetch-based client.
 */

export interface CloudFunctionCall {
  run_id: string
  call_id: string
  spec: {fn: string; kwargs?: Record<string, unknown>; [key: string]: unknown}
  status?: {requested_at?: string | null; approved?: boolean | null; comment?: string | null; [key: string]: unknown} | null
}

export interface CloudHumanContact {
  run_id: string
  call_id: string
  spec: {msg: string; [key: string]: unknown}
  status?: {requested_at?: string | null; response?: string | null; [key: string]: unknown} | null
}

export interface HumanLayerApi {
  pendingFunctionCalls(signal: AbortSignal): Promise<CloudFunctionCall[]>
  pendingHumanContacts(signal: AbortSignal): Promise<CloudHumanContact[]>
  /** One item, to learn whether one that left the pending list was really answered. */
  getFunctionCall(callId: string, signal: AbortSignal): Promise<CloudFunctionCall>
  getHumanContact(callId: string, signal: AbortSignal): Promise<CloudHumanContact>
  respondFunctionCall(callId: string, body: {approved: boolean; comment?: string}): Promise<void>
  respondHumanContact(callId: string, body: {response: string}): Promise<void>
}

export class HumanLayerApiError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or undefined when no answer came (network error, timeout). */
    readonly status?: number,
  ) {
    super(message)
    this.name = 'HumanLayerApiError'
  }

  /** 409 on a respond call: someone answered first (Slack, email, another reviewer). */
  get isConflict(): boolean {
    return this.status === 409
  }
}

/** The API sends timestamps without an offset; they are UTC (reference §4), not local time. */
export function parseApiTimestamp(value: string | null | undefined): number | undefined {
  if (!value) return undefined
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`
  const ms = Date.parse(zoned)
  return Number.isNaN(ms) ? undefined : ms
}

interface Page<T> {
  items: T[]
  has_more?: boolean
}

/** Enough for any real backlog; a server that keeps saying has_more cannot loop us forever. */
const MAX_PAGES = 1000

export interface HttpHumanLayerApiOptions {
  baseUrl: string
  apiKey: string
  /** Per request; the daemon's poll and decisions never wait longer on one call. */
  timeoutMs: number
}

export class HttpHumanLayerApi implements HumanLayerApi {
  private readonly baseUrl: string

  constructor(private readonly options: HttpHumanLayerApiOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '')
  }

  pendingFunctionCalls(signal: AbortSignal): Promise<CloudFunctionCall[]> {
    return this.pendingList<CloudFunctionCall>('/agent/function_calls/pending', signal)
  }

  pendingHumanContacts(signal: AbortSignal): Promise<CloudHumanContact[]> {
    return this.pendingList<CloudHumanContact>('/agent/human_contacts/pending', signal)
  }

  async getFunctionCall(callId: string, signal: AbortSignal): Promise<CloudFunctionCall> {
    return (await this.request('GET', `/function_calls/${encodeURIComponent(callId)}`, undefined, signal)) as CloudFunctionCall
  }

  async getHumanContact(callId: string, signal: AbortSignal): Promise<CloudHumanContact> {
    return (await this.request('GET', `/contact_requests/${encodeURIComponent(callId)}`, undefined, signal)) as CloudHumanContact
  }

  // A 2xx means the API took the decision: its body is not needed, so an unreadable one must
  // not turn a recorded decision into a reported failure (a retry would then get a 409).
  async respondFunctionCall(callId: string, body: {approved: boolean; comment?: string}): Promise<void> {
    await this.request('POST', `/agent/function_calls/${encodeURIComponent(callId)}/respond`, body, undefined, {readBody: false})
  }

  async respondHumanContact(callId: string, body: {response: string}): Promise<void> {
    await this.request('POST', `/agent/human_contacts/${encodeURIComponent(callId)}/respond`, body, undefined, {readBody: false})
  }

  /** Follows the pages; also accepts the bare array the API served before mid-2025. */
  private async pendingList<T extends {call_id: string}>(path: string, signal?: AbortSignal): Promise<T[]> {
    const items: T[] = []
    for (let page = 0; page < MAX_PAGES; page++) {
      const body = await this.request('GET', `${path}?offset=${items.length}`, undefined, signal)
      if (Array.isArray(body)) return body as T[]
      if (!isPage<T>(body)) throw new HumanLayerApiError(`GET ${path}: expected {items: [...]} or an array, got ${describe(body)}`)
      items.push(...body.items)
      if (!body.has_more || body.items.length === 0) return items
    }
    throw new HumanLayerApiError(`GET ${path}: still has_more after ${MAX_PAGES} pages; giving up on this poll`)
  }

  private async request(method: string, path: string, body?: unknown, signal?: AbortSignal, {readBody = true} = {}): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs)
    let response: Response
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.options.apiKey}`,
          accept: 'application/json',
          ...(body === undefined ? {} : {'content-type': 'application/json'}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      })
    } catch (error) {
      const reason = timeout.aborted ? `no answer within ${this.options.timeoutMs} ms` : (error as Error).message
      throw new HumanLayerApiError(`${method} ${this.baseUrl}${path.split('?')[0]} failed: ${reason}`)
    }
    const text = await response.text().catch(() => '')
    if (response.status >= 400) {
      throw new HumanLayerApiError(`${method} ${path.split('?')[0]} answered ${response.status}: ${text.slice(0, 500)}`, response.status)
    }
    if (!readBody) return null
    try {
      return text === '' ? null : JSON.parse(text)
    } catch {
      throw new HumanLayerApiError(
        `${method} ${path.split('?')[0]} answered ${response.status} with a body that is not JSON`,
        response.status,
      )
    }
  }
}

function isPage<T>(value: unknown): value is Page<T> {
  return typeof value === 'object' && value !== null && Array.isArray((value as Page<T>).items)
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value
}
