/**
 * The cloud poller, with one job: fetch the pending lists every interval and hand the
 * snapshot on. An immediate first poll; on failure the wait doubles up to a cap and a good
 * poll resets it; every request has a timeout (the API client's); stop() ends it.
 */
import type {Logger} from '../../shared/logger.js'
import type {CloudFunctionCall, CloudHumanContact, HumanLayerApi} from './cloud-api.js'
import {backoff, MAX_BACKOFF_MS, sleep} from '../../shared/retry.js'

export interface CloudSnapshot {
  functionCalls: CloudFunctionCall[]
  humanContacts: CloudHumanContact[]
}

export interface CloudPollerOptions {
  api: HumanLayerApi
  intervalMs: number
  maxBackoffMs?: number
  /** What to do with a complete snapshot; a throw counts as a failed poll. */
  onSnapshot(snapshot: CloudSnapshot, signal: AbortSignal): Promise<void> | void
  log: Logger
  /** The pause between polls; tests pass one that records the delays. */
  wait?: (ms: number, signal: AbortSignal) => Promise<void>
}

export class CloudPoller {
  private abort: AbortController | undefined
  private loop: Promise<void> | undefined
  private consecutiveFailures = 0
  private lastError: string | undefined

  constructor(private readonly options: CloudPollerOptions) {}

  start(): void {
    if (this.loop) return
    this.abort = new AbortController()
    this.loop = this.run(this.abort.signal)
  }

  async stop(): Promise<void> {
    this.abort?.abort()
    await this.loop
    this.loop = undefined
  }

  /** For `health`: whether the last poll worked, and why not. */
  status(): {failures: number; lastError?: string} {
    return {failures: this.consecutiveFailures, ...(this.lastError ? {lastError: this.lastError} : {})}
  }

  /** The wait before the next poll: the interval, doubled per consecutive failure, capped. */
  nextDelay(): number {
    const {intervalMs} = this.options
    return backoff(this.consecutiveFailures + 1, intervalMs, Math.max(this.options.maxBackoffMs ?? MAX_BACKOFF_MS, intervalMs))
  }

  private async run(signal: AbortSignal): Promise<void> {
    const wait = this.options.wait ?? sleep
    while (!signal.aborted) {
      await this.pollOnce(signal)
      if (signal.aborted) break
      await wait(this.nextDelay(), signal)
    }
  }

  private async pollOnce(signal: AbortSignal): Promise<void> {
    try {
      const functionCalls = await this.options.api.pendingFunctionCalls(signal)
      const humanContacts = await this.options.api.pendingHumanContacts(signal)
      await this.options.onSnapshot({functionCalls, humanContacts}, signal)
      if (this.consecutiveFailures > 0) this.options.log.info('cloud poll recovered', {after_failures: this.consecutiveFailures})
      this.consecutiveFailures = 0
      this.lastError = undefined
    } catch (error) {
      if (signal.aborted) return
      this.consecutiveFailures++
      this.lastError = (error as Error).message
      this.options.log.warn('cloud poll failed', {error: this.lastError, failures: this.consecutiveFailures, retry_in_ms: this.nextDelay()})
    }
  }
}
