/** Errors the CLI itself raises (not the client's or the daemon's), each with its own exit status. */
import type {WatchSummary} from './watch.js'

export class WatchTimeoutError extends Error {
  constructor(timeoutMs: number, summary: WatchSummary) {
    super(`hld watch stopped after ${timeoutMs} ms (--timeout) having seen ${summary.events} event(s), before its exit condition was met.`)
    this.name = 'WatchTimeoutError'
  }
}
