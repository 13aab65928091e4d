/** Errors the CLI itself raises (not the client's or the daemon's), each with its own exit status. */
import type {Session} from '../protocol/sessions.js'
import type {WatchSummary} from './watch.js'

export class WatchTimeoutError extends Error {
  constructor(timeoutMs: number, summary: WatchSummary) {
    super(`hld watch stopped after ${timeoutMs} ms (--timeout) having seen ${summary.events} event(s), before its exit condition was met.`)
    this.name = 'WatchTimeoutError'
  }
}

export class WaitTimeoutError extends Error {
  constructor(sessionId: string, timeoutMs: number, session: Session | undefined) {
    super(`Session ${sessionId} is still ${session?.status ?? 'unknown'} after ${timeoutMs} ms (--timeout); it goes on.`)
    this.name = 'WaitTimeoutError'
  }
}

export class DaemonGoneError extends Error {
  constructor(socketPath: string, sessionId: string, session: Session | undefined) {
    super(
      `The hld daemon at ${socketPath} went away while session ${sessionId} was ${session?.status ?? 'followed'}. ` +
        `Start it with \`hld daemon start\`, then \`hld session show ${sessionId}\` says how the session ended.`,
    )
    this.name = 'DaemonGoneError'
  }
}

export class WaitInterruptedError extends Error {
  constructor(sessionId: string) {
    const short = sessionId.slice(0, 8)
    super(
      `Stopped waiting; session ${short} goes on in the daemon. Follow it with \`hld session wait ${short}\` or ` +
        `\`hld watch --session ${short}\`, stop it with \`hld session interrupt ${short}\`.`,
    )
    this.name = 'WaitInterruptedError'
  }
}
