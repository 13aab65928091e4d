/**
 * Approvals, local and cloud, in one model: created by the MCP server (local) or found by the
 * poller (cloud), tied to sessions by run_id, decided over the socket. Every decision is
 * stored before it is acknowledged; whoever waits on it is woken afterwards.
 */
import {randomUUID} from 'node:crypto'

import type {
  Approval,
  ApprovalStatus,
  Decision,
  DecisionProvenance,
  FetchApprovalsResult,
  WaitForDecisionResult,
} from '../../protocol/approvals.js'
import {ErrorCode, RpcError} from '../../protocol/errors.js'
import {EncodedJson} from '../../protocol/framing.js'
import type {ToolCallApprovalStatus} from '../../protocol/sessions.js'
import type {EventBus} from '../bus/index.js'
import type {Logger} from '../../shared/logger.js'
import type {Db} from '../store/index.js'
import {resolvePrefix} from '../store/prefix.js'
import type {ApprovalRow} from '../store/schema/approvals.js'
import {type CloudFunctionCall, type CloudHumanContact, type HumanLayerApi, HumanLayerApiError, parseApiTimestamp} from './cloud-api.js'
import type {Decider, DeciderCheck} from './deciders.js'
import type {CloudSnapshot} from './poller.js'
import {ApprovalRepository, type DecidedPosition} from './repository.js'
import {type AutoApproval, type SessionLink, type SessionRef, TERMINAL_SESSION_STATUSES} from './session-link.js'
import {capText} from '../capped.js'
import {type ListPosition, PendingApprovals, SessionContexts, viewOf} from './view.js'
import {DecisionWaiters} from './waiters.js'

export interface ApprovalServiceDeps {
  db: Db
  bus: EventBus
  sessions: SessionLink
  log: Logger
  /** Refuses decisions from inside a session's process tree; says who decided. */
  deciders: DeciderCheck
  /** The HumanLayer API when an api_key is configured; cloud approvals cannot be decided without it. */
  cloud?: HumanLayerApi
  /**
   * Runs writes that start outside a request, or after a request's first await (its own
   * transaction is committed by then), under the database's write lock (Store.write); default: at once.
   */
  write?: <T>(work: () => T, options?: {durable?: boolean}) => Promise<T>
  /**
   * The session setting (auto_accept_edits, dangerously_skip_permissions) that approves this
   * call without asking, if any. The policy decides (PolicyService.settingApproval), so the
   * hook and this path agree: deny and ask rules beat a setting.
   */
  settingApproval?: (sessionId: string, toolName: string, toolInput: unknown) => AutoApproval | undefined
}

export interface CreateParams {
  run_id: string
  tool_name: string
  tool_input: unknown
  tool_use_id?: string
}

export interface DecideParams {
  approval_id: string
  decision: Decision
  comment?: string
  response?: string
}

/**
 * The most one fetchApprovals reply carries (UTF-8 bytes of approvals): well under what a client
 * reads (40 MiB), and many times the largest approval a list shows (each field capped at 64 KiB).
 */
export const LIST_PAGE_BYTES = 16 * 1024 * 1024
/** Decided approvals read per query while listing them. */
const DECIDED_STEP = 50

/** How long a waitForDecision call waits when it names no timeout. */
const DEFAULT_WAIT_MS = 60_000
/** Decided approvals listed by default with include_decided. */
const DEFAULT_DECIDED_LIMIT = 100

const STATUS_OF: Record<Decision, 'approved' | 'denied' | 'responded'> = {approve: 'approved', deny: 'denied', respond: 'responded'}

export class ApprovalService {
  private readonly repo: ApprovalRepository
  private readonly waiters = new DecisionWaiters()
  /** Cloud approvals whose decision is on its way to the API: one at a time, and the poller keeps off. */
  private readonly deciding = new Set<string>()
  /** What fetchApprovals serves, without SQL. */
  private readonly pending = new PendingApprovals()
  private unsubscribe: (() => void) | undefined
  private stopping = false

  constructor(private readonly deps: ApprovalServiceDeps) {
    this.repo = new ApprovalRepository(deps.db)
    for (const row of this.repo.pending()) this.pending.add(row)
  }

  /**
   * Expires approvals whose session ended (e.g. with the previous daemon), then follows session
   * ends. Call it before the sessions service reconciles its orphans: the session ends that
   * reconciling publishes then expire those sessions' approvals too.
   */
  start(): void {
    const expired = this.expireWhere((row) => {
      if (row.sessionId === null) return undefined
      const session = this.deps.sessions.findById(row.sessionId)
      if (!session) return `its session ${row.sessionId} no longer exists`
      return TERMINAL_SESSION_STATUSES.has(session.status) ? `its session ended (${session.status}) before a decision` : undefined
    })
    if (expired > 0) this.deps.log.info('expired approvals of ended sessions', {count: expired})
    this.unsubscribe = this.deps.bus.subscribe((event) => {
      if (event.type === 'session_settings_changed') {
        const {session_id: sessionId} = event.data
        if (!event.data.auto_accept_edits && !event.data.dangerously_skip_permissions) return
        queueMicrotask(() => {
          this.write(() => this.approveWhatSettingsAllow(sessionId)).catch((error: unknown) =>
            this.deps.log.error('could not approve what the new settings allow', {session_id: sessionId, error}),
          )
        })
        return
      }
      if (event.type !== 'session_status_changed' || !TERMINAL_SESSION_STATUSES.has(event.data.new_status)) return
      const {session_id: sessionId, new_status: status} = event.data
      // After the publisher's own work: we write and publish too.
      queueMicrotask(() => {
        this.write(() => {
          if (!this.stopping)
            this.expireWhere(
              (row) => (row.sessionId === sessionId ? `its session ended (${status}) before a decision` : undefined),
              sessionId,
            )
        }).catch((error: unknown) =>
          this.deps.log.error('could not expire the approvals of an ended session', {session_id: sessionId, error}),
        )
      })
    })
  }

  /** Settings were turned on: what is pending and now matches them is approved, as Go does. */
  private approveWhatSettingsAllow(sessionId: string): void {
    if (this.stopping) return
    for (const row of this.repo.pending(sessionId)) {
      const auto =
        row.type === 'function_call' && row.toolName !== null
          ? this.deps.settingApproval?.(sessionId, row.toolName, parseToolInput(row.toolInput))
          : undefined
      if (auto === undefined || this.deciding.has(row.id)) continue
      try {
        this.store(row, 'approved', auto.comment, settingProvenance(auto))
      } catch (error) {
        // Decided by someone else in between: nothing left to do for it.
        this.deps.log.debug('approval not auto-approved', {approval_id: row.id, error: (error as Error).message})
      }
    }
  }

  /** Answers every long-poll now ("not decided yet"), so shutdown does not wait on them. */
  releaseWaiters(): void {
    this.stopping = true
    this.waiters.wakeAll()
  }

  stop(): void {
    this.releaseWaiters()
    this.unsubscribe?.()
  }

  get waiting(): number {
    return this.waiters.size
  }

  create(params: CreateParams): {approval_id: string} {
    // hld HEAD's MCP server sends the session id in run_id; accept that too.
    const session = this.deps.sessions.findByRunId(params.run_id) ?? this.deps.sessions.findById(params.run_id)
    if (!session) {
      throw new RpcError(
        ErrorCode.NotFound,
        `No session has run_id ${params.run_id}. Approvals come from sessions the daemon launched (their HUMANLAYER_RUN_ID).`,
      )
    }
    if (TERMINAL_SESSION_STATUSES.has(session.status)) {
      throw new RpcError(ErrorCode.Conflict, `Session ${session.id} has ended (${session.status}); it cannot wait for an approval.`, {
        status: session.status,
      })
    }
    // One call, one approval: the PreToolUse hook and the MCP permission tool may both ask (a
    // hook that timed out, a reconnect), and the second one waits on the first one's approval.
    if (params.tool_use_id) {
      const existing = this.repo.findByToolUse(session.id, params.tool_use_id)
      if (existing) return {approval_id: existing.id}
    }
    const row: ApprovalRow = {
      id: `local-${randomUUID()}`,
      source: 'local',
      type: 'function_call',
      runId: session.run_id,
      sessionId: session.id,
      toolUseId: params.tool_use_id ?? null,
      toolName: params.tool_name,
      toolInput: JSON.stringify(params.tool_input),
      message: null,
      status: 'pending',
      comment: null,
      createdAt: Date.now(),
      decidedAt: null,
      decidedBy: null,
    }
    const auto = this.deps.settingApproval?.(session.id, params.tool_name, params.tool_input)
    if (auto !== undefined) {
      // The session's settings approve it without asking: stored decided, announced, resolved.
      const decidedBy = JSON.stringify(settingProvenance(auto))
      const decided: ApprovalRow = {...row, status: 'approved', comment: auto.comment, decidedAt: row.createdAt, decidedBy}
      this.repo.insert(decided)
      this.announce(decided, undefined)
      this.finish(decided, {approved: true})
      return {approval_id: row.id}
    }
    this.repo.insert(row)
    this.pending.add(row)
    this.announce(row, session)
    return {approval_id: row.id}
  }

  /** The whole approval, tool input uncut: what lists and events cap. */
  get(idOrPrefix: string): Approval {
    return viewOf(this.resolve(idOrPrefix), new SessionContexts(this.deps.sessions), true)
  }

  /**
   * fetchApprovals' reply, encoded: the pending approvals' JSON is kept between calls. One reply
   * holds at most LIST_PAGE_BYTES of approvals, so that however many huge ones are pending it
   * stays readable (a client reads up to 40 MiB); `next_cursor` then says where the next page
   * starts. Pending come first, oldest first; then with include_decided the newest `limit`
   * decided ones.
   */
  fetch(
    params: {session_id?: string; include_decided?: boolean; limit?: number; cursor?: string},
    pageBytes = LIST_PAGE_BYTES,
  ): EncodedJson<FetchApprovalsResult> {
    const {session_id: sessionId} = params
    const cursor = parseCursor(params.cursor)
    const contexts = new SessionContexts(this.deps.sessions)
    const members: string[] = []
    const page = (next?: string): EncodedJson<FetchApprovalsResult> =>
      new EncodedJson(`{"approvals":[${members.join(',')}]${next === undefined ? '' : `,"next_cursor":${JSON.stringify(next)}`}}`)
    let bytes = 0
    if (cursor.part === 'pending') {
      const pending = this.pending.listEncoded(sessionId, contexts, cursor.after, pageBytes)
      if (pending.count > 0) members.push(pending.members)
      if (pending.last) return page(`p.${pending.last.createdAt}.${pending.last.id}`)
      if (params.include_decided) bytes = Buffer.byteLength(pending.members)
    }
    if (params.include_decided) {
      let left = cursor.part === 'decided' ? cursor.left : (params.limit ?? DEFAULT_DECIDED_LIMIT)
      let after = cursor.part === 'decided' ? cursor.after : undefined
      // Read in small steps: a decided row holds its whole tool input, however large.
      for (let rows; left > 0 && (rows = this.repo.decided(Math.min(left, DECIDED_STEP), sessionId, after)).length > 0;) {
        for (const row of rows) {
          const json = JSON.stringify(viewOf(row, contexts))
          const size = Buffer.byteLength(json) + 1
          if (members.length > 0 && bytes + size > pageBytes) return page(`d.${left}${after ? `.${after.createdAt}.${after.rowid}` : ''}`)
          members.push(json)
          bytes += size
          left--
          after = {createdAt: row.createdAt, rowid: row.rowid}
        }
      }
    }
    if (sessionId !== undefined && params.cursor === undefined && members.length === 0 && !this.deps.sessions.findById(sessionId)) {
      // Unknown session: an error, unless approvals are stored for it (a session since deleted).
      throw new RpcError(ErrorCode.NotFound, `No session has the id ${sessionId}.`)
    }
    return page()
  }

  /** Decides a pending approval for `by`, unless `by` is inside a session (see DeciderCheck). */
  /**
   * The provenance of a decision `by` makes about `subject` (an approval id, or a session's
   * settings), or a Forbidden error when it comes from inside a session's process tree.
   */
  admit(by: Decider, subject: string): DecisionProvenance {
    return this.deps.deciders.admit(by, subject)
  }

  async decide(params: DecideParams, by: Decider): Promise<Approval> {
    const row = this.resolve(params.approval_id)
    checkDecisionFits(row, params.decision)
    if (row.status !== 'pending') throw alreadyDecided(row)
    const provenance = this.deps.deciders.admit(by, row.id)
    if (this.deciding.has(row.id)) {
      throw new RpcError(ErrorCode.Conflict, `Approval ${row.id} is being decided by another request right now.`, {status: 'pending'})
    }
    const status = STATUS_OF[params.decision]
    const comment = (params.decision === 'respond' ? params.response : params.comment)?.trim() || null
    if (row.source === 'cloud') {
      this.deciding.add(row.id)
      try {
        await this.sendToCloud(row, params.decision, comment)
        // After the API's answer: waits for the lock like any write, and is synced (it is acknowledged).
        return await this.write(() => this.store(row, status, comment, provenance), {durable: true})
      } finally {
        this.deciding.delete(row.id)
      }
    }
    return this.store(row, status, comment, provenance)
  }

  async waitForDecision(params: {approval_id: string; timeout_ms?: number}, signal: AbortSignal): Promise<WaitForDecisionResult> {
    const row = this.resolve(params.approval_id)
    if (row.status === 'pending') {
      if (this.stopping) throw new RpcError(ErrorCode.Unavailable, 'The daemon is shutting down; wait again once it is back.')
      await this.waiters.wait(row.id, params.timeout_ms ?? DEFAULT_WAIT_MS, signal)
    }
    const current = this.repo.get(row.id) ?? row
    return {approval: this.view(current), decided: current.status !== 'pending'}
  }

  /**
   * Ends a pending approval that no human decided in time (the policy's approval timeout), with
   * the verdict it defaults to; the comment is what the model reads. False when it was decided
   * meanwhile: the human's decision stands.
   */
  timeOut(id: string, verdict: 'allow' | 'deny', comment: string, rule?: string): boolean {
    if (!this.end(id, 'timed_out', comment, {channel: 'timeout', verdict, ...(rule === undefined ? {} : {rule})})) return false
    this.finish(this.repo.get(id)!, {approved: verdict === 'allow'})
    return true
  }

  /** Takes one complete poll: new items in, items that left the list without our decision out. */
  async applyCloudSnapshot(snapshot: CloudSnapshot, signal: AbortSignal): Promise<void> {
    const seen = new Set<string>()
    for (const item of snapshot.functionCalls) {
      seen.add(item.call_id)
      this.upsertCloud(item, 'function_call')
    }
    for (const item of snapshot.humanContacts) {
      seen.add(item.call_id)
      this.upsertCloud(item, 'human_contact')
    }
    const missing = this.repo.pendingCloudIds().filter((id) => !seen.has(id) && !this.deciding.has(id))
    for (const id of missing) await this.confirmAnsweredElsewhere(id, signal)
  }

  private upsertCloud(item: CloudFunctionCall | CloudHumanContact, type: 'function_call' | 'human_contact'): void {
    const session = this.deps.sessions.findByRunId(item.run_id)
    const call = type === 'function_call' ? (item as CloudFunctionCall) : undefined
    const row: ApprovalRow = {
      id: item.call_id,
      source: 'cloud',
      type,
      runId: item.run_id,
      sessionId: session?.id ?? null,
      toolUseId: null,
      toolName: call ? call.spec.fn : null,
      toolInput: call ? JSON.stringify(call.spec.kwargs ?? {}) : null,
      message: call ? null : (item as CloudHumanContact).spec.msg,
      status: 'pending',
      comment: null,
      createdAt: parseApiTimestamp(item.status?.requested_at) ?? Date.now(),
      decidedAt: null,
      decidedBy: null,
    }
    if (!this.repo.insertIfNew(row)) return
    this.pending.add(row)
    this.announce(row, session)
  }

  /**
   * A pending list is paged, so an item can be missing from one snapshot while still pending;
   * only the item itself says whether it was answered.
   */
  private async confirmAnsweredElsewhere(id: string, signal: AbortSignal): Promise<void> {
    const row = this.repo.get(id)
    const api = this.deps.cloud
    if (!row || row.status !== 'pending' || !api) return
    let answer: {approved?: boolean | null; comment?: string | null; response?: string | null} | undefined
    try {
      const item = row.type === 'function_call' ? await api.getFunctionCall(id, signal) : await api.getHumanContact(id, signal)
      answer = item.status ?? {}
    } catch (error) {
      // Gone from the API altogether: nobody can answer it any more.
      if (!(error instanceof HumanLayerApiError && error.status === 404)) throw error
    }
    const stillPending = answer && (row.type === 'function_call' ? answer.approved == null : !answer.response)
    if (stillPending) return
    await this.write(() => {
      if (!this.deciding.has(id)) this.resolveExternally(row, answer)
    })
  }

  private resolveExternally(
    row: ApprovalRow,
    answer?: {approved?: boolean | null; comment?: string | null; response?: string | null},
  ): void {
    const comment = (row.type === 'function_call' ? answer?.comment : answer?.response) ?? null
    if (!this.end(row.id, 'resolved_externally', comment, {channel: 'cloud'})) return
    const approved = row.type === 'function_call' ? answer?.approved === true : Boolean(answer?.response)
    this.finish(this.repo.get(row.id)!, {approved, resolved_externally: true})
  }

  private async sendToCloud(row: ApprovalRow, decision: Decision, comment: string | null): Promise<void> {
    const api = this.deps.cloud
    if (!api) {
      throw new RpcError(
        ErrorCode.Unavailable,
        `Approval ${row.id} comes from the HumanLayer API, and no api_key is configured: set HUMANLAYER_API_KEY (or api_key in the config file) and restart the daemon.`,
      )
    }
    try {
      if (row.type === 'human_contact') await api.respondHumanContact(row.id, {response: comment ?? ''})
      else await api.respondFunctionCall(row.id, {approved: decision === 'approve', ...(comment === null ? {} : {comment})})
    } catch (error) {
      if (error instanceof HumanLayerApiError && error.isConflict) {
        await this.write(() => this.resolveExternally(row))
        throw new RpcError(ErrorCode.Conflict, `Approval ${row.id} was already answered elsewhere (Slack, email or the web app).`, {
          status: 'resolved_externally',
        })
      }
      // No answer at all (timeout, network): the API may still have taken it, so do not claim otherwise.
      const outcome =
        error instanceof HumanLayerApiError && error.status === undefined
          ? 'It may have been taken without an answer reaching the daemon: the next poll shows it (hld approvals list --all); deciding again is safe, a 409 means it was taken'
          : 'It is still pending; try again'
      throw new RpcError(
        ErrorCode.UpstreamFailure,
        `The HumanLayer API did not take the decision on ${row.id}: ${(error as Error).message}. ${outcome}.`,
      )
    }
  }

  private store(row: ApprovalRow, status: 'approved' | 'denied' | 'responded', comment: string | null, by: DecisionProvenance): Approval {
    if (!this.end(row.id, status, comment, by)) throw alreadyDecided(this.repo.get(row.id) ?? row)
    const decided = this.repo.get(row.id)!
    this.finish(decided, {approved: status !== 'denied'})
    return this.view(decided)
  }

  /** Stores the end of a pending approval; false when it was no longer pending. */
  private end(id: string, status: Exclude<ApprovalStatus, 'pending'>, comment: string | null, by?: DecisionProvenance): boolean {
    if (!this.repo.decide(id, status, comment, Date.now(), by)) return false
    this.pending.delete(id)
    return true
  }

  /** Ends the pending approvals `reason` returns a text for; returns how many. */
  private expireWhere(reason: (row: ApprovalRow) => string | undefined, sessionId?: string): number {
    let count = 0
    for (const row of this.repo.pending(sessionId)) {
      const why = reason(row)
      if (why === undefined || !this.end(row.id, 'expired', `Expired: ${why}.`)) continue
      this.finish(this.repo.get(row.id)!, {approved: false})
      count++
    }
    return count
  }

  /** A new pending approval: its tool call and session learn of it, subscribers too. */
  private announce(row: ApprovalRow, session: SessionRef | undefined): void {
    if (session) {
      if (row.type === 'function_call') this.markToolCall(row, 'pending')
      this.deps.sessions.setWaitingForApproval(session.id, true)
    }
    this.deps.bus.publish({
      type: 'new_approval',
      data: {
        approval_id: row.id,
        session_id: row.sessionId,
        run_id: row.runId,
        tool_name: capText(row.toolName ?? '', `getApproval (hld approvals show ${row.id})`),
        source: row.source,
        type: row.type,
        ...(row.message === null ? {} : {message: capText(row.message, `getApproval (hld approvals show ${row.id})`)}),
      },
    })
  }

  /** An approval left pending: wake its waiters, update its tool call and session, tell subscribers. */
  private finish(row: ApprovalRow, outcome: {approved: boolean; resolved_externally?: boolean}): void {
    this.waiters.wake(row.id)
    if (row.sessionId !== null) {
      if (row.type === 'function_call') this.markToolCall(row, TOOL_CALL_STATUS[row.status])
      if (row.status !== 'expired' && this.repo.countPending(row.sessionId) === 0)
        this.deps.sessions.setWaitingForApproval(row.sessionId, false)
    }
    this.deps.bus.publish({
      type: 'approval_resolved',
      data: {
        approval_id: row.id,
        session_id: row.sessionId,
        run_id: row.runId,
        approved: outcome.approved,
        response_text: row.comment ?? '',
        ...(row.toolUseId === null ? {} : {tool_use_id: row.toolUseId}),
        status: row.status,
        type: row.type,
        ...(outcome.resolved_externally ? {resolved_externally: true} : {}),
        ...(row.decidedBy === null ? {} : {decided_by: JSON.parse(row.decidedBy) as DecisionProvenance}),
      },
    })
  }

  private markToolCall(row: ApprovalRow, status: ToolCallApprovalStatus): void {
    try {
      this.deps.sessions.markToolCallApproval(
        row.sessionId!,
        {...(row.toolUseId === null ? {} : {tool_use_id: row.toolUseId}), tool_name: row.toolName ?? ''},
        {approval_id: row.id, approval_status: status},
      )
    } catch (error) {
      // The conversation view is secondary: the approval itself is already stored.
      this.deps.log.warn('could not mark the tool call of an approval', {approval_id: row.id, error})
    }
  }

  /** An exact id, or a unique prefix of one, with or without `local-`. */
  private resolve(idOrPrefix: string): ApprovalRow {
    const id = resolvePrefix(idOrPrefix, {
      noun: 'approval',
      listCommand: 'hld approvals list --all',
      exists: (candidate) => this.repo.get(candidate) !== undefined,
      candidates: (limit) => {
        const ids = new Set(this.repo.idsWithPrefix(idOrPrefix, limit))
        if (!idOrPrefix.startsWith('local-')) for (const local of this.repo.idsWithPrefix(`local-${idOrPrefix}`, limit)) ids.add(local)
        return [...ids].slice(0, limit)
      },
    })
    return this.repo.get(id)!
  }

  private write<T>(work: () => T, options?: {durable?: boolean}): Promise<T> {
    return (this.deps.write ?? runNow)(work, options)
  }

  private view(row: ApprovalRow): Approval {
    return viewOf(row, new SessionContexts(this.deps.sessions))
  }
}

/** A stored tool input (JSON text) as the tool got it. */
function parseToolInput(text: string | null): unknown {
  if (text === null) return {}
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/** A `write` for a service without a store behind it (unit tests): runs the work at once. */
export function runNow<T>(work: () => T): Promise<T> {
  // The executor runs at once; a throw becomes the rejection.
  return new Promise((resolve) => resolve(work()))
}

const TOOL_CALL_STATUS: Record<ApprovalStatus, ToolCallApprovalStatus> = {
  pending: 'pending',
  approved: 'approved',
  denied: 'denied',
  responded: 'approved',
  resolved_externally: 'resolved',
  expired: 'resolved',
  timed_out: 'resolved',
}

function checkDecisionFits(row: ApprovalRow, decision: Decision): void {
  const fits = row.type === 'human_contact' ? decision === 'respond' : decision !== 'respond'
  if (fits) return
  const hint = row.type === 'human_contact' ? 'answer it with `respond`' : 'use approve or deny'
  throw new RpcError(ErrorCode.InvalidParams, `Approval ${row.id} is a ${row.type.replace('_', ' ')}: ${hint}.`, {
    fields: [{path: 'decision', message: `${decision} does not apply to a ${row.type}`}],
  })
}

/**
 * Where a fetchApprovals page starts: `p.<created_at>.<id>` after that pending approval;
 * `d.<left>` at the first decided one, `d.<left>.<created_at>.<rowid>` after that decided one,
 * with `left` of the `limit` still to list.
 */
type Cursor = {part: 'pending'; after?: ListPosition} | {part: 'decided'; left: number; after?: DecidedPosition}

function parseCursor(cursor: string | undefined): Cursor {
  if (cursor === undefined) return {part: 'pending'}
  const pending = /^p\.(\d+)\.(.+)$/s.exec(cursor)
  if (pending) return {part: 'pending', after: {createdAt: Number(pending[1]), id: pending[2]}}
  const decided = /^d\.(\d+)(?:\.(\d+)\.(\d+))?$/.exec(cursor)
  if (decided) {
    const after = decided[2] === undefined ? undefined : {createdAt: Number(decided[2]), rowid: Number(decided[3])}
    return {part: 'decided', left: Number(decided[1]), after}
  }
  throw new RpcError(
    ErrorCode.InvalidParams,
    `Invalid params for fetchApprovals: cursor: ${JSON.stringify(cursor.slice(0, 100))} is not one this daemon gave; pass the previous page's next_cursor, or none for the first page.`,
    {fields: [{path: 'cursor', message: 'not a cursor this daemon gave'}]},
  )
}

function alreadyDecided(row: ApprovalRow): RpcError {
  return new RpcError(ErrorCode.Conflict, `Approval ${row.id} was already decided: ${row.status}.`, {status: row.status})
}

/** A decision a session setting made: no human, the setting named as its rule. */
function settingProvenance(auto: AutoApproval): DecisionProvenance {
  return {channel: 'policy', rule: auto.setting}
}
