/**
 * Cloud mode: the approval is a HumanLayer function call, created with the session's run_id
 * through @humanlayer/sdk; the daemon's poller is what shows it to the CLI. We read its status
 * every poll interval. The SDK's own wait gives up on the first failed poll and has no HTTP
 * timeout, so the loop, the timeouts and the retries are ours.
 */
import type {Logger} from '../shared/logger.js'
import {backoff, MAX_BACKOFF_MS, sleep} from '../shared/retry.js'
import {raceTimer} from '../shared/timers.js'
import {GIVE_UP_AFTER_MS, type PermissionRequest} from './permission.js'

export interface CloudApproverOptions {
  apiKey: string
  apiBaseUrl: string
  runId: string
  pollIntervalMs: number
  requestTimeoutMs: number
  log: Logger
  giveUpAfterMs?: number
}

export interface CloudOutcome {
  call_id: string
  approved: boolean
  comment: string | null
}

export class CloudApprover {
  constructor(private readonly options: CloudApproverOptions) {}

  async request(request: PermissionRequest, signal: AbortSignal): Promise<CloudOutcome> {
    const {apiKey, apiBaseUrl, runId, log} = this.options
    const {humanlayer} = await import('@humanlayer/sdk')
    const hl = humanlayer({apiKey, apiBaseUrl, runId})
    let callId: string
    try {
      ;({call_id: callId} = await this.bounded(hl.createFunctionCall({spec: {fn: request.tool_name, kwargs: request.input}})))
    } catch (error) {
      throw new Error(
        `Cannot ask for approval: the HumanLayer API at ${apiBaseUrl} refused the function call: ${(error as Error).message}`,
        {cause: error},
      )
    }
    log.info('cloud function call created', {call_id: callId, tool_name: request.tool_name})

    const giveUpAfterMs = this.options.giveUpAfterMs ?? GIVE_UP_AFTER_MS
    let failingSince: number | undefined
    let failures = 0
    let pause = this.options.pollIntervalMs
    while (!signal.aborted) {
      await sleep(pause, signal)
      if (signal.aborted) break
      try {
        const call = await this.bounded(hl.getFunctionCall(callId))
        failingSince = undefined
        failures = 0
        pause = this.options.pollIntervalMs
        const approved = call.status?.approved
        if (approved !== null && approved !== undefined) return {call_id: callId, approved, comment: call.status?.comment ?? null}
      } catch (error) {
        failingSince ??= Date.now()
        if (Date.now() - failingSince > giveUpAfterMs) {
          throw new Error(
            `The HumanLayer API failed for ${Math.round((Date.now() - failingSince) / 1000)} s while waiting for ${callId}: ${(error as Error).message}`,
            {cause: error},
          )
        }
        failures++
        pause = backoff(failures + 1, this.options.pollIntervalMs, MAX_BACKOFF_MS)
        log.warn('cloud status poll failed; retrying', {call_id: callId, error: (error as Error).message, retry_in_ms: pause})
      }
    }
    throw new Error(`The wait for approval ${callId} was cancelled.`)
  }

  /** The SDK's fetch has no timeout; stop waiting on it after ours. */
  private bounded<T>(promise: Promise<T>): Promise<T> {
    const ms = this.options.requestTimeoutMs
    return raceTimer(promise, ms, () => {
      throw new Error(`no answer within ${ms} ms`)
    })
  }
}
