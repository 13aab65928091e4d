/**
 * Following one session until it reaches a goal, without polling: a Subscribe stream filtered to
 * the session says when its status changes (or an approval appears), and only then is its
 * state read. `hld session wait` and `launch/continue --wait` use it.
 */
import {type DaemonClient, DaemonUnreachableError} from '../client/index.js'
import {Subscription} from '../client/subscribe.js'
import {fetchAllApprovals} from '../client/approvals.js'
import type {Approval} from '../protocol/approvals.js'
import {RpcError} from '../protocol/errors.js'
import {GetSessionState, type Session, TERMINAL_STATUSES} from '../protocol/sessions.js'
import {DaemonGoneError, WaitInterruptedError, WaitTimeoutError} from './errors.js'
import {ExitCode} from './exit-codes.js'

/** completed: it ends, and only completed is success; ended: it ends, and only failed is failure; waiting_input: it waits on a person. */
export const WAIT_GOALS = ['completed', 'ended', 'waiting_input'] as const
export type WaitGoal = (typeof WAIT_GOALS)[number]

export interface FollowOptions {
  client: DaemonClient
  /** The full session id. */
  sessionId: string
  until: WaitGoal
  timeoutMs?: number
  /** Each status the session is seen in, once per change. */
  onStatus?: (session: Session) => void
  /** Each pending approval of the session, once. */
  onApproval?: (approval: Approval) => void
}

function reached(goal: WaitGoal, session: Session): boolean {
  return TERMINAL_STATUSES.includes(session.status) || (goal === 'waiting_input' && session.status === 'waiting_input')
}

/** The exit status for where a followed session stopped. */
export function exitCodeOf(goal: WaitGoal, session: Session): number {
  switch (goal) {
    case 'completed': {
      return session.status === 'completed' ? ExitCode.Ok : ExitCode.Failure
    }
    case 'ended': {
      return session.status === 'failed' ? ExitCode.Failure : ExitCode.Ok
    }
    case 'waiting_input': {
      return session.status === 'waiting_input' ? ExitCode.Ok : ExitCode.Failure
    }
  }
}

/**
 * The session once it reaches `until` (or ends). Subscribes before reading the state, so no
 * change falls between the two. Throws WaitTimeoutError on --timeout, WaitInterruptedError on
 * SIGINT, and DaemonGoneError when the daemon closes the stream.
 */
export async function followSession(options: FollowOptions): Promise<Session> {
  const {client, sessionId} = options
  const subscription = await Subscription.open(client.endpoint, {
    session_id: sessionId,
    event_types: options.onApproval ? ['session_status_changed', 'new_approval'] : ['session_status_changed'],
  })
  let stopped: 'timeout' | 'interrupted' | undefined
  const stop = (why: 'timeout' | 'interrupted') => () => {
    stopped ??= why
    subscription.close()
  }
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(stop('timeout'), options.timeoutMs)
  const onSigint = stop('interrupted')
  process.on('SIGINT', onSigint)

  let last: Session | undefined
  const announced = new Set<string>()
  const check = async (): Promise<boolean> => {
    const {session} = await client.call(GetSessionState, {session_id: sessionId})
    if (session.status !== last?.status) options.onStatus?.(session)
    last = session
    return reached(options.until, session)
  }
  const announce = async (): Promise<void> => {
    if (!options.onApproval) return
    const {approvals} = await fetchAllApprovals(client, {session_id: sessionId})
    for (const approval of approvals) {
      if (announced.has(approval.id)) continue
      announced.add(approval.id)
      options.onApproval(approval)
    }
  }

  try {
    await announce()
    if (await check()) return last!
    for await (const frame of subscription.frames()) {
      if (frame.kind === 'error') throw RpcError.from(frame.error)
      if (frame.kind !== 'event') continue
      if (frame.event.type === 'new_approval') await announce()
      else if (await check()) return last!
    }
  } catch (error) {
    // The daemon closing the call connection mid-read is the same news as the stream ending.
    if (!(error instanceof DaemonUnreachableError) && !stopped) throw error
  } finally {
    clearTimeout(timer)
    process.off('SIGINT', onSigint)
    subscription.close()
  }
  if (stopped === 'timeout') throw new WaitTimeoutError(sessionId, options.timeoutMs!, last)
  if (stopped === 'interrupted') throw new WaitInterruptedError(sessionId)
  throw new DaemonGoneError(client.socketPath, sessionId, last)
}
