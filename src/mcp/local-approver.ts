/**
 * Local mode: the approval lives in the daemon. Create it, then long-poll `waitForDecision`
 * on a connection of our own; the daemon answers the moment a decision is stored. When the
 * daemon goes away (a restart), reconnect with backoff and wait again: the approval is
 * persisted, so the wait survives.
 */
import {DaemonClient} from '../client/index.js'
import {CreateApproval, WaitForDecision, type Approval} from '../protocol/approvals.js'
import {ErrorCode, RpcError} from '../protocol/errors.js'
import type {Logger} from '../shared/logger.js'
import {backoff, sleep} from '../shared/retry.js'
import {GIVE_UP_AFTER_MS, type PermissionRequest} from './permission.js'

export interface LocalApproverOptions {
  socketPath: string
  runId: string
  log: Logger
  /** One long-poll's length; the daemon answers "not yet" after it and we ask again. */
  waitChunkMs?: number
  giveUpAfterMs?: number
}

export class LocalApprover {
  constructor(private readonly options: LocalApproverOptions) {}

  async request(request: PermissionRequest, signal: AbortSignal): Promise<Approval> {
    const {socketPath, runId, log} = this.options
    let client: DaemonClient
    try {
      client = await DaemonClient.connect(socketPath)
    } catch (error) {
      throw new Error(`Cannot ask for approval: ${(error as Error).message}`, {cause: error})
    }
    let approvalId: string
    try {
      ;({approval_id: approvalId} = await client.call(CreateApproval, {
        run_id: runId,
        tool_name: request.tool_name,
        tool_input: request.input,
        ...(request.tool_use_id ? {tool_use_id: request.tool_use_id} : {}),
      }))
    } catch (error) {
      client.close()
      throw new Error(`Cannot ask for approval: the hld daemon at ${socketPath} refused it: ${(error as Error).message}`, {cause: error})
    }
    log.info('approval created', {approval_id: approvalId, tool_name: request.tool_name, tool_use_id: request.tool_use_id})
    return this.waitForDecision(client, approvalId, signal)
  }

  /** Owns `connected` from here on, and closes whatever connection it holds when it returns. */
  private async waitForDecision(connected: DaemonClient, approvalId: string, signal: AbortSignal): Promise<Approval> {
    const {socketPath, log} = this.options
    const chunkMs = this.options.waitChunkMs ?? 60_000
    const giveUpAfterMs = this.options.giveUpAfterMs ?? GIVE_UP_AFTER_MS
    let client: DaemonClient | undefined = connected
    let lostSince: number | undefined
    let attempt = 0
    // Cancelling (claude interrupted) must end a long-poll in flight, not only the next one.
    const onAbort = (): void => client?.close()
    signal.addEventListener('abort', onAbort, {once: true})
    try {
      while (!signal.aborted) {
        try {
          client ??= await DaemonClient.connect(socketPath)
          const {approval, decided} = await client.call(
            WaitForDecision,
            {approval_id: approvalId, timeout_ms: chunkMs},
            {timeoutMs: chunkMs + 15_000},
          )
          if (lostSince !== undefined) log.info('daemon reachable again', {approval_id: approvalId})
          lostSince = undefined
          attempt = 0
          if (decided) return approval
        } catch (error) {
          // The approval is gone or the request is wrong: waiting longer cannot help.
          if (error instanceof RpcError && error.code !== ErrorCode.Unavailable)
            throw new Error(`Waiting for approval ${approvalId} failed: ${error.message}`, {cause: error})
          client?.close()
          client = undefined
          if (signal.aborted) break
          lostSince ??= Date.now()
          if (Date.now() - lostSince > giveUpAfterMs) {
            throw new Error(
              `Lost the hld daemon at ${socketPath} for ${Math.round((Date.now() - lostSince) / 1000)} s while waiting for approval ${approvalId}: ${(error as Error).message}`,
              {cause: error},
            )
          }
          attempt++
          const pause = backoff(attempt, 100, 5000)
          log.warn('daemon unreachable while waiting; retrying', {
            approval_id: approvalId,
            error: (error as Error).message,
            retry_in_ms: pause,
          })
          await sleep(pause, signal)
        }
      }
      throw new Error(`The wait for approval ${approvalId} was cancelled.`)
    } finally {
      signal.removeEventListener('abort', onAbort)
      client?.close()
    }
  }
}
