/**
 * JSON-RPC error codes spoken on the socket. The standard ones come from the JSON-RPC 2.0
 * spec; the application codes sit in the spec's "server error" range and are stable, so
 * scripts and other clients can branch on them instead of parsing messages.
 */
export const ErrorCode = {
  ParseError: -32_700,
  InvalidRequest: -32_600,
  MethodNotFound: -32_601,
  InvalidParams: -32_602,
  InternalError: -32_603,
  /** The session, approval or other entity named in the params does not exist. */
  NotFound: -32_001,
  /** The entity is in the wrong state for the call: already decided, not running, … */
  Conflict: -32_002,
  /** An outside service (the HumanLayer API) failed or timed out. */
  UpstreamFailure: -32_003,
  /** A capability is missing right now (no `claude` binary, no API key, shutting down). */
  Unavailable: -32_004,
  /** A subscriber fell too far behind and was cut off; it resumes with `since` = `data.last_event_id`. */
  SubscriberOverflow: -32_005,
  /** The caller may not do this: a decision sent from inside a session's own process tree. */
  Forbidden: -32_006,
} as const

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode]

/** The `error` member of a JSON-RPC response. */
export interface RpcErrorObject {
  code: number
  message: string
  data?: unknown
}

/** Thrown by daemon handlers and by the client; keeps its code across the wire. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message)
    this.name = 'RpcError'
  }

  toJSON(): RpcErrorObject {
    return this.data === undefined ? {code: this.code, message: this.message} : {code: this.code, message: this.message, data: this.data}
  }

  static from(error: RpcErrorObject): RpcError {
    return new RpcError(error.code, error.message, error.data)
  }
}
