/**
 * The waiting between retries, shared by everything that reconnects or retries: the daemon's
 * cloud poller, the MCP server's approvers (local and cloud) and the Subscribe client. One
 * doubling rule and one abortable pause.
 */
import {setTimeout as delay} from 'node:timers/promises'

/** The longest wait between two tries of the HumanLayer API. */
export const MAX_BACKOFF_MS = 5 * 60_000

/** Doubles from `initialMs` to `maxMs`: the pause before retry number `attempt` (1-based). */
export function backoff(attempt: number, initialMs: number, maxMs: number): number {
  // 2^20 × any interval is past any cap; stop doubling before the number grows silly.
  return Math.min(initialMs * 2 ** Math.min(attempt - 1, 20), maxMs)
}

/** Resolves after `ms`, or early (not rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, {signal}).catch(() => {})
}
