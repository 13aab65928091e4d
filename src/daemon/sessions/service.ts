/**
 * Sessions: launching claude, following its stream into the store, and the status machine
 *   starting → running ⇄ waiting_input → completed | failed
 *                      ↘ interrupting → interrupted
 * Every change of status is persisted, then published as session_status_changed; every
 * conversation event as conversation_updated. A session always ends with a terminal status
 * event (upstream #923), whatever killed it.
 */
import {randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, statSync, unlinkSync} from 'node:fs'
import {availableParallelism, totalmem} from 'node:os'
import path from 'node:path'

import {expandHome} from '../../config/index.js'
import {ErrorCode, RpcError} from '../../protocol/errors.js'
import type {
  ToolCallApprovalStatus,
  ContinueSessionResult,
  ConversationEvent,
  FileSnapshot,
  InterruptSessionResult,
  LeavesFilter,
  RecentPath,
  LaunchSessionResult,
  Session,
  SessionStatus,
} from '../../protocol/sessions.js'
import type {EventDataMap, NewEvent} from '../../protocol/events.js'
import type {SessionLink, SessionRef} from '../approvals/session-link.js'
import type {EventBus} from '../bus/index.js'
import type {Logger} from '../../shared/logger.js'
import {type Store, isBusy} from '../store/index.js'
import {resolvePrefix} from '../store/prefix.js'
import {buildClaudeArgs} from './args.js'
import type {ClaudeLocation} from './claude-locator.js'
import {
  APPROVALS_PERMISSION_TOOL,
  type McpServers,
  mcpConfigFileFor,
  removeMcpConfigFile,
  sessionMcpServers,
  writeMcpConfigFile,
} from './mcp-config.js'
import type {SessionPolicyLink} from '../policy/service.js'
import {type RecordingRun, publishEvent, recordLines, storeLines} from './recorder.js'
import {
  type EventSource,
  type Page,
  type SessionFilter,
  SessionRepository,
  type SessionRow,
  type SessionUpdate,
  skipsPermissions,
  toWireEvent,
  toWireSession,
} from './repository.js'
import {settlesWithin} from '../../shared/timers.js'
import {type ClaudeProcess, type RunOutcome, type SessionFiles, adoptClaude, readRemainingOutput, startClaude} from './runner.js'
import {parseStreamLine, summarize} from './stream-parser.js'

/** After SIGKILL, how long to wait for the exit to be reported before giving up on it. */
const KILL_GRACE_MS = 3000
/** How long `health` reuses a look-up of the claude binary. */
const CLAUDE_HEALTH_TTL_MS = 5000

export interface SessionSettings {
  model?: string
  system_prompt?: string
  append_system_prompt?: string
  allowed_tools?: string[]
  disallowed_tools?: string[]
  additional_directories?: string[]
  mcp_config?: McpServers
  permission_prompt_tool?: string
  title?: string
  max_turns?: number
  disable_approvals?: boolean
  custom_instructions?: string
  /** The session's own policy rules and approval timeout (see daemon/policy). */
  allow?: string[]
  ask?: string[]
  deny?: string[]
  approval_timeout_ms?: number
  on_timeout?: 'allow' | 'deny'
  dangerously_allow_self_approval?: boolean
}

export interface LaunchParams extends SessionSettings {
  query: string
  working_dir?: string
  auto_accept_edits?: boolean
  dangerously_skip_permissions?: boolean
  dangerously_skip_permissions_timeout?: number
}

export interface ContinueParams extends SessionSettings {
  session_id: string
  query: string
}

export interface SessionServiceDeps {
  store: Store
  bus: EventBus
  log: Logger
  /** The daemon's socket, for the approvals MCP server. */
  socketPath: string
  /** A private directory for each session's output files, which outlive the daemon (see runner.ts). */
  outputDir: string
  /**
   * The HumanLayer API key, if any. Only the approvals MCP server gets it (through the private
   * MCP config), so it asks the API exactly when the daemon polls it; claude never sees it.
   */
  apiKey?: string
  /** How long claude gets after SIGINT before SIGKILL. */
  stopTimeoutMs: number
  /** The umask claude runs with; the daemon's own when unset. */
  claudeUmask?: number
  locateClaude: () => ClaudeLocation
  /** claude processes run at once; later launches wait, `queued` (default: defaultMaxConcurrentSessions()). */
  maxConcurrentSessions?: number
  /** Records each session's policy and gives its claude the hook that asks it. */
  policy?: SessionPolicyLink
}

/** What the daemon holds in memory for a session whose claude process it owns. */
interface ActiveRun extends RecordingRun {
  parentSessionId?: string
  status: SessionStatus
  startedAt: number
  process?: ClaudeProcess
  /** The private MCP config file given to claude. */
  mcpConfigPath?: string
  /** Set when the daemon itself failed the session (its output could not be stored). */
  failure?: string
  /** The error_message an interrupted session ends with, when the interrupt had a reason. */
  stopReason?: string
  killTimer?: NodeJS.Timeout
  /** stdout lines waiting for the database (another process holds its lock), in order. */
  backlog?: string[]
  /** The output file's offset just after the backlog's last line. */
  backlogOffset?: number
  /** Settles once the backlog is stored (or given up on). */
  drained?: Promise<void>
  /** Settles once the session is finished and persisted (or failed to start); never rejects. */
  done: Promise<void>
}

const ACTIVE_STATUSES: readonly SessionStatus[] = ['queued', 'starting', 'running', 'waiting_input', 'interrupting']
/** Go's getRecentPaths default. */
const DEFAULT_RECENT_PATHS = 20

/**
 * How many claude processes run at once unless max_concurrent_sessions says otherwise: each is a
 * Node process of a few hundred MB that starts CPU-bound, so a few per core, and one per GiB.
 */
export function defaultMaxConcurrentSessions(cores = availableParallelism(), memoryBytes = totalmem()): number {
  return Math.max(2, Math.min(cores * 4, Math.floor(memoryBytes / 2 ** 30)))
}

/** A launch waiting for a free slot. */
interface QueuedLaunch {
  run: ActiveRun
  spawn: () => Promise<void>
  settle: () => void
}

/** Also what approvals know of sessions (their `SessionLink`). */
export class SessionService implements SessionLink {
  private readonly repo: SessionRepository
  private readonly active = new Map<string, ActiveRun>()
  private readonly queue: QueuedLaunch[] = []
  private stopping = false
  private claudeSeen?: {at: number; location: ClaudeLocation}
  /** Fires at the next dangerously_skip_permissions expiry (see expireSkipPermissions). */
  private expiryTimer: NodeJS.Timeout | undefined

  constructor(private readonly deps: SessionServiceDeps) {
    this.repo = new SessionRepository(deps.store)
  }

  // ── RPC-facing ──────────────────────────────────────────────────────────────

  async launch(params: LaunchParams): Promise<LaunchSessionResult> {
    const workingDir = resolveWorkingDir(params.working_dir ?? process.cwd())
    const {id, runId} = await this.start(params, {workingDir})
    return {session_id: id, run_id: runId}
  }

  async continue(params: ContinueParams): Promise<ContinueSessionResult> {
    let parent = this.resolve(params.session_id)
    if (!parent.claudeSessionId) {
      throw new RpcError(
        ErrorCode.Conflict,
        `Session ${parent.id} (${parent.status}) never got a claude session id, so there is nothing to resume; launch a new session instead.`,
      )
    }
    const run = this.active.get(parent.id)
    if (run) {
      // Resume needs the parent's claude to have let go of its conversation.
      if (run.status === 'running' || run.status === 'waiting_input')
        this.beginInterrupt(run, 'Interrupted to be continued by a new session.')
      await run.done
      parent = this.repo.get(parent.id)!
    }
    const inherited: LaunchParams = {
      query: params.query,
      model: parent.model ?? undefined,
      system_prompt: params.system_prompt ?? parent.systemPrompt ?? undefined,
      append_system_prompt: params.append_system_prompt ?? parent.appendSystemPrompt ?? undefined,
      allowed_tools: params.allowed_tools ?? parent.allowedTools ?? undefined,
      disallowed_tools: params.disallowed_tools ?? parent.disallowedTools ?? undefined,
      additional_directories: params.additional_directories ?? parent.additionalDirectories ?? undefined,
      mcp_config: params.mcp_config ?? parent.mcpConfig ?? undefined,
      permission_prompt_tool: params.permission_prompt_tool ?? parent.permissionPromptTool ?? undefined,
      title: params.title ?? parent.title ?? undefined,
      custom_instructions: params.custom_instructions ?? parent.customInstructions ?? undefined,
      disable_approvals: params.disable_approvals ?? !parent.approvalsEnabled,
      // Not inherited, as in hld: a turn budget belongs to one run.
      max_turns: params.max_turns,
      // Added to the parent's, which the policy service carries over itself.
      allow: params.allow,
      ask: params.ask,
      deny: params.deny,
      approval_timeout_ms: params.approval_timeout_ms,
      on_timeout: params.on_timeout,
      dangerously_allow_self_approval: params.dangerously_allow_self_approval,
    }
    // After an await (the parent's end), so outside the request's transaction: under the lock again.
    const {id, runId} = await this.deps.store.write(
      () =>
        this.start(inherited, {
          // Resume only finds the conversation from the directory it was started in.
          workingDir: parent.workingDir,
          resume: parent.claudeSessionId ?? undefined,
          parentId: parent.id,
        }),
      {durable: true},
    )
    return {session_id: id, run_id: runId, claude_session_id: '', parent_session_id: parent.id}
  }

  interrupt(sessionId: string): InterruptSessionResult {
    const row = this.resolve(sessionId)
    const run = this.active.get(row.id)
    if (run?.status === 'interrupting') return {success: true, session_id: row.id, status: 'interrupting'}
    if (run?.status === 'queued') {
      this.cancelQueued(run, 'Interrupted before it started (it was queued).')
      return {success: true, session_id: row.id, status: 'interrupted'}
    }
    if (!run || (run.status !== 'running' && run.status !== 'waiting_input')) {
      throw new RpcError(
        ErrorCode.Conflict,
        `Cannot interrupt session ${row.id}: its status is ${row.status}; only running or waiting_input sessions can be interrupted.`,
      )
    }
    this.beginInterrupt(run)
    return {success: true, session_id: row.id, status: 'interrupting'}
  }

  /** All sessions, oldest first (as hld); with a page, that window of the newest and the total. */
  list(params: SessionFilter & Page): {sessions: Session[]; total?: number} {
    const page = pageOf(params)
    const filter = {status: params.status, archived: params.archived}
    const sessions = this.repo.list(filter, page).map(toWireSession)
    return page ? {sessions, total: this.repo.count(filter)} : {sessions}
  }

  leaves(filter: LeavesFilter | undefined): {sessions: Session[]} {
    return {sessions: this.repo.leaves(filter).map(toWireSession)}
  }

  snapshots(sessionId: string): {snapshots: FileSnapshot[]} {
    return {snapshots: this.repo.snapshots(this.resolve(sessionId).id)}
  }

  recentPaths(limit = DEFAULT_RECENT_PATHS): {paths: RecentPath[]} {
    return {paths: this.repo.recentPaths(limit)}
  }

  /** Go publishes a title change as session_status_changed carrying `title`; so do we (statuses unchanged). */
  setTitle(sessionId: string, title: string): {success: true} {
    const row = this.resolve(sessionId)
    this.repo.update(row.id, {title})
    this.publish({
      type: 'session_status_changed',
      data: {session_id: row.id, run_id: row.runId, old_status: row.status, new_status: row.status, title},
    })
    return {success: true}
  }

  /** Archived sessions are hidden from `hld session list` (not from listSessions without a filter, as in Go). */
  archive(sessionIds: string[], archived: boolean): {success: boolean; failed_sessions?: string[]} {
    const failed: string[] = []
    const ids: string[] = []
    for (const idOrPrefix of sessionIds) {
      try {
        ids.push(this.resolve(idOrPrefix).id)
      } catch {
        failed.push(idOrPrefix)
      }
    }
    this.repo.setArchived(ids, archived)
    return failed.length === 0 ? {success: true} : {success: false, failed_sessions: failed}
  }

  /**
   * auto_accept_edits and dangerously_skip_permissions (with an optional expiry): stored, then
   * published as session_settings_changed; approvals decide what is pending and now matches.
   */
  updateSettings(params: {
    session_id: string
    auto_accept_edits?: boolean
    dangerously_skip_permissions?: boolean
    dangerously_skip_permissions_timeout_ms?: number
  }): {success: true} {
    const row = this.resolve(params.session_id)
    const update: SessionUpdate = {}
    if (params.auto_accept_edits !== undefined) update.autoAcceptEdits = params.auto_accept_edits
    const skip = params.dangerously_skip_permissions
    const timeoutMs = skip ? params.dangerously_skip_permissions_timeout_ms : undefined
    if (skip !== undefined) {
      update.dangerouslySkipPermissions = skip
      update.dangerouslySkipPermissionsTimeoutMs = timeoutMs ?? null
      update.dangerouslySkipPermissionsExpiresAt = timeoutMs === undefined ? null : new Date(Date.now() + timeoutMs)
    }
    this.repo.update(row.id, update)
    this.publishSettings(row, {
      ...(params.auto_accept_edits === undefined ? {} : {auto_accept_edits: params.auto_accept_edits}),
      ...(skip === undefined ? {} : {dangerously_skip_permissions: skip}),
      ...(timeoutMs === undefined ? {} : {dangerously_skip_permissions_timeout_ms: timeoutMs}),
    })
    if (skip !== undefined) this.expireSkipPermissions()
    return {success: true}
  }

  /**
   * Turns dangerously_skip_permissions off in every session whose expiry has passed, each with a
   * session_settings_changed {reason: 'expired'}, then sets a timer for the next expiry. The
   * approvals path already stops honouring it at the expiry; this makes the stored setting, the
   * session's state and its watchers say so. Called at start and whenever an expiry is set,
   * holding the database's write lock (Store.write).
   */
  expireSkipPermissions(): void {
    clearTimeout(this.expiryTimer)
    this.expiryTimer = undefined
    if (this.stopping) return
    const now = Date.now()
    for (const row of this.repo.skipPermissionsExpiredBy(now)) {
      const expiredAt = row.dangerouslySkipPermissionsExpiresAt!
      this.repo.update(row.id, {
        dangerouslySkipPermissions: false,
        dangerouslySkipPermissionsExpiresAt: null,
        dangerouslySkipPermissionsTimeoutMs: null,
      })
      this.deps.log.info('dangerously_skip_permissions expired', {session_id: row.id, expired_at: expiredAt.toISOString()})
      this.publishSettings(row, {dangerously_skip_permissions: false, reason: 'expired', expired_at: expiredAt.toISOString()})
    }
    const next = this.repo.nextSkipPermissionsExpiry()
    if (next === undefined) return
    // setTimeout takes at most 2^31-1 ms; a later expiry is re-armed when this one fires.
    const delay = Math.min(Math.max(next.getTime() - Date.now(), 0), 2 ** 31 - 1)
    this.expiryTimer = setTimeout(() => {
      this.deps.store
        .write(() => this.expireSkipPermissions())
        .catch((error: unknown) => this.deps.log.error('could not turn off an expired dangerously_skip_permissions', {error}))
    }, delay)
    this.expiryTimer.unref()
  }

  private publishSettings(
    row: SessionRow,
    change: Omit<EventDataMap['session_settings_changed'], 'session_id' | 'run_id' | 'event_type'>,
  ): void {
    this.publish({
      type: 'session_settings_changed',
      data: {session_id: row.id, run_id: row.runId, event_type: 'settings_updated', ...change},
    })
  }

  state(sessionId: string): Session {
    return toWireSession(this.resolve(sessionId))
  }

  /**
   * By session: its ancestors' events first (a continued session's history), then its own. With
   * a page, that window counted from the newest event, and the total.
   */
  conversation(params: {session_id?: string; claude_session_id?: string} & Page): {events: ConversationEvent[]; total?: number} {
    let sources: EventSource[]
    if (params.session_id === undefined) {
      const claudeSessionId = params.claude_session_id!
      if (!this.repo.hasClaudeSession(claudeSessionId)) {
        throw new RpcError(
          ErrorCode.NotFound,
          `No session has claude session id ${claudeSessionId}; \`hld session list\` shows the sessions.`,
        )
      }
      sources = [{claude_session_id: claudeSessionId}]
    } else {
      sources = []
      for (let row: SessionRow | undefined = this.resolve(params.session_id); row;) {
        sources.unshift({session_id: row.id})
        row = row.parentSessionId ? this.repo.get(row.parentSessionId) : undefined
      }
    }
    const page = pageOf(params)
    if (!page) return {events: sources.flatMap((source) => this.repo.events(source).map(toWireEvent))}
    // The window may span sessions of the chain: take it from the newest one backwards.
    const counts = sources.map((source) => this.repo.countEvents(source))
    const parts: ConversationEvent[][] = []
    let skip = page.offset ?? 0
    let wanted = page.limit ?? Number.POSITIVE_INFINITY
    for (let i = sources.length - 1; i >= 0 && wanted > 0; i--) {
      if (skip >= counts[i]) {
        skip -= counts[i]
        continue
      }
      const limit = Math.min(wanted, counts[i] - skip)
      parts.unshift(this.repo.events(sources[i], {limit, offset: skip}).map(toWireEvent))
      wanted -= limit
      skip = 0
    }
    return {events: parts.flat(), total: counts.reduce((sum, n) => sum + n, 0)}
  }

  /** A full session id, or a unique prefix of one. */
  resolve(idOrPrefix: string): SessionRow {
    const id = resolvePrefix(idOrPrefix, {
      noun: 'session',
      listCommand: 'hld session list',
      exists: (candidate) => this.repo.get(candidate) !== undefined,
      candidates: (limit) => this.repo.idsWithPrefix(idOrPrefix, limit),
    })
    return this.repo.get(id)!
  }

  // ── For the approvals service (its SessionLink) ────────────────────────────

  findByRunId(runId: string): SessionRef | undefined {
    const row = this.repo.getByRunId(runId)
    return row && toRef(row)
  }

  findById(sessionId: string): SessionRef | undefined {
    const row = this.repo.get(sessionId)
    return row && toRef(row)
  }

  /** The settings that add rules to a session's policy (auto_accept_edits: Edit, Write, MultiEdit allowed). */
  /** The settings that add rules to a session's policy; dangerously_skip_permissions only until it expires. */
  policySettings(sessionId: string): {auto_accept_edits: boolean; dangerously_skip_permissions: boolean} | undefined {
    const row = this.repo.get(sessionId)
    return row && {auto_accept_edits: row.autoAcceptEdits, dangerously_skip_permissions: skipsPermissions(row)}
  }

  /** Pending approvals appeared or all were decided: running ⇄ waiting_input, nothing else. */
  setWaitingForApproval(sessionId: string, waiting: boolean): void {
    const run = this.active.get(sessionId)
    if (!run) return
    if (waiting && run.status === 'running') this.transition(run, 'waiting_input')
    else if (!waiting && run.status === 'waiting_input') this.transition(run, 'running')
  }

  markToolCallApproval(
    sessionId: string,
    match: {tool_use_id?: string; tool_name: string},
    approval: {approval_id: string; approval_status: ToolCallApprovalStatus},
  ): void {
    const eventId = this.repo.findToolCallForApproval(sessionId, approval.approval_id, match)
    if (eventId === undefined) {
      this.deps.log.warn('no tool call found for approval', {session_id: sessionId, ...match, approval_id: approval.approval_id})
      return
    }
    this.repo.setApproval(eventId, approval.approval_id, approval.approval_status)
  }

  // ── Health, start-up and shutdown ──────────────────────────────────────────

  /** Where a session's claude writes its stdout and stderr. */
  filesOf(sessionId: string): SessionFiles {
    return {output: path.join(this.deps.outputDir, `${sessionId}.out`), errors: path.join(this.deps.outputDir, `${sessionId}.err`)}
  }

  /**
   * A session a previous daemon started, whose claude still runs (reconcile.ts verified it):
   * followed from where that daemon stopped reading, to its real end.
   */
  adopt(row: SessionRow): void {
    const run = this.runFrom(row)
    run.process = adoptClaude(row.pid!, row.outputOffset ?? 0, this.reading(run))
    this.follow(run)
    if (run.status === 'interrupting') this.armKill(run)
    this.deps.log.info('adopted a session a previous daemon started', {session_id: run.id, pid: row.pid, status: run.status})
  }

  /**
   * A session whose claude ended while no daemon ran: what it wrote after the last daemon
   * stopped reading is stored, and it ends as that output says (a result completes it).
   */
  async finishFromOutput(row: SessionRow): Promise<void> {
    const run = this.runFrom(row)
    let settle!: () => void
    run.done = new Promise<void>((resolve) => (settle = resolve))
    try {
      const stderrTail = await readRemainingOutput(row.outputOffset ?? 0, this.reading(run))
      await run.drained
      await this.removeMcpConfig(run, run.mcpConfigPath)
      await this.deps.store.write(() => this.finish(run, {exitCode: null, signal: null, stderrTail, adopted: true}))
      this.removeOutput(run)
    } finally {
      this.active.delete(run.id)
      settle()
    }
  }

  /** Whether the session has an output file: it was started by a daemon that writes them. */
  hasOutput(row: SessionRow): boolean {
    return existsSync(this.filesOf(row.id).output)
  }

  claudeHealth(): {available: boolean; detail: string} {
    // health is polled (status checks, start-up waits, monitors) and a PATH scan costs far more
    // than the rest of the call, so a look-up is reused for a few seconds; launches look afresh.
    if (!this.claudeSeen || Date.now() - this.claudeSeen.at > CLAUDE_HEALTH_TTL_MS) {
      this.claudeSeen = {at: Date.now(), location: this.deps.locateClaude()}
    }
    const found = this.claudeSeen.location
    return found.available ? {available: true, detail: found.path} : {available: false, detail: found.reason}
  }

  /** The claude of each session that runs now: approvals refuse decisions from inside their process trees. */
  runningProcesses(): {sessionId: string; pid: number}[] {
    return this.repo.listByStatus(ACTIVE_STATUSES).flatMap((row) => (row.pid === null ? [] : [{sessionId: row.id, pid: row.pid}]))
  }

  /** The MCP config files of sessions that are still active, which a start-up sweep must keep. */
  mcpConfigsInUse(): Set<string> {
    return new Set(this.repo.listByStatus(ACTIVE_STATUSES).flatMap((row) => (row.mcpConfigPath === null ? [] : [row.mcpConfigPath])))
  }

  /** Rows a previous daemon left active become terminal; see reconcile.ts. */
  activeRowsFromBefore(): SessionRow[] {
    return this.repo.listByStatus(ACTIVE_STATUSES).filter((row) => !this.active.has(row.id))
  }

  /** Ends a session whose daemon is gone: persists the terminal status and publishes it. */
  async endOrphan(row: SessionRow, status: 'failed' | 'interrupted', reason: string): Promise<void> {
    await this.removeMcpConfig(row, row.mcpConfigPath)
    await this.deps.store.write(() => {
      const now = new Date()
      this.repo.update(row.id, {status, errorMessage: reason, completedAt: now, lastActivityAt: now, pid: null, mcpConfigPath: null})
      this.publishStatus({id: row.id, runId: row.runId, parentSessionId: row.parentSessionId ?? undefined}, row.status, status, reason)
    })
  }

  /** Interrupts every live session, SIGKILLs what outlives the stop timeout, waits for all. */
  async stop(): Promise<void> {
    this.stopping = true
    clearTimeout(this.expiryTimer)
    const runs = [...this.active.values()]
    await this.deps.store
      .write(() => {
        for (const {run} of [...this.queue]) this.cancelQueued(run, 'Interrupted because the daemon shut down before it started.')
        for (const run of runs) {
          if (run.status === 'running' || run.status === 'waiting_input')
            this.beginInterrupt(run, 'Interrupted because the daemon shut down.')
        }
      })
      .catch((error: unknown) => this.deps.log.error('could not interrupt the sessions at shutdown', {error}))
    const finished = await settlesWithin(Promise.all(runs.map((run) => run.done)), this.deps.stopTimeoutMs + KILL_GRACE_MS)
    if (!finished) this.deps.log.error('sessions still running after shutdown timeout', {sessions: [...this.active.keys()]})
  }

  // ── Internals ──────────────────────────────────────────────────────────────

  private async start(
    params: LaunchParams,
    where: {workingDir: string; resume?: string; parentId?: string},
  ): Promise<{id: string; runId: string}> {
    if (this.stopping) throw new RpcError(ErrorCode.Unavailable, 'The daemon is shutting down; start it again and retry.')
    const claude = this.deps.locateClaude()
    if (!claude.available) throw new RpcError(ErrorCode.Unavailable, `Cannot launch a session: ${claude.reason}`)

    const additionalDirectories = params.additional_directories?.map((dir) => path.resolve(where.workingDir, expandHome(dir)))
    const approvalsEnabled = params.disable_approvals !== true
    const permissionPromptTool = params.permission_prompt_tool ?? (approvalsEnabled ? APPROVALS_PERMISSION_TOOL : undefined)
    const now = new Date()
    let settle!: () => void
    // Beyond the limit, or behind others already waiting: queued, to start in launch order.
    const queued = this.queue.length > 0 || this.runningCount() >= this.maxConcurrent
    const run: ActiveRun = {
      id: randomUUID(),
      runId: randomUUID(),
      parentSessionId: where.parentId,
      status: queued ? 'queued' : 'starting',
      startedAt: now.getTime(),
      nextSequence: 1,
      done: new Promise<void>((resolve) => (settle = resolve)),
    }
    const settings = this.deps.policy?.prepareSession(
      {id: run.id, runId: run.runId, workingDir: where.workingDir, parentId: where.parentId, approvalsEnabled},
      params,
    )
    const servers = sessionMcpServers(
      params.mcp_config,
      {sessionId: run.id, runId: run.runId, socketPath: this.deps.socketPath},
      approvalsEnabled && permissionPromptTool ? {permissionTool: permissionPromptTool, apiKey: this.deps.apiKey} : undefined,
    )
    // The MCP config's path is in the row from the start, so that a restart removes it if this
    // daemon dies first.
    if (servers) run.mcpConfigPath = mcpConfigFileFor(this.deps.socketPath, run.id)
    this.repo.insert({
      id: run.id,
      runId: run.runId,
      parentSessionId: where.parentId,
      status: run.status,
      query: params.query,
      summary: summarize(params.query),
      title: params.title,
      model: params.model,
      workingDir: where.workingDir,
      maxTurns: params.max_turns,
      systemPrompt: params.system_prompt,
      appendSystemPrompt: params.append_system_prompt,
      permissionPromptTool,
      allowedTools: params.allowed_tools,
      disallowedTools: params.disallowed_tools,
      additionalDirectories,
      mcpConfig: params.mcp_config,
      mcpConfigPath: run.mcpConfigPath,
      approvalsEnabled,
      customInstructions: params.custom_instructions,
      autoAcceptEdits: params.auto_accept_edits ?? false,
      dangerouslySkipPermissions: params.dangerously_skip_permissions ?? false,
      dangerouslySkipPermissionsTimeoutMs: params.dangerously_skip_permissions ? params.dangerously_skip_permissions_timeout : undefined,
      dangerouslySkipPermissionsExpiresAt:
        params.dangerously_skip_permissions && params.dangerously_skip_permissions_timeout !== undefined
          ? new Date(now.getTime() + params.dangerously_skip_permissions_timeout)
          : undefined,
      createdAt: now,
      lastActivityAt: now,
    })
    if (params.dangerously_skip_permissions && params.dangerously_skip_permissions_timeout !== undefined) this.expireSkipPermissions()
    // The user's query opens the conversation, as hld injects it.
    this.repo.insertEvent(
      run.id,
      undefined,
      run.nextSequence++,
      {event_type: 'message', role: 'user', content: params.query},
      now.getTime(),
    )
    this.active.set(run.id, run)
    const spawn = (): Promise<void> =>
      this.spawn(run, claude.path, params, where, {permissionPromptTool, additionalDirectories, servers, settings}, settle)
    if (queued) {
      this.queue.push({run, spawn, settle})
      this.deps.log.info('session queued', {session_id: run.id, queued: this.queue.length, max_concurrent_sessions: this.maxConcurrent})
    } else {
      await spawn()
    }
    return run
  }

  private get maxConcurrent(): number {
    return this.deps.maxConcurrentSessions ?? defaultMaxConcurrentSessions()
  }

  /** Sessions holding a slot: every active one not queued. */
  private runningCount(): number {
    let count = 0
    for (const run of this.active.values()) if (run.status !== 'queued') count++
    return count
  }

  /** Starts queued launches, oldest first, while slots are free. Runs inside a write (it writes their status). */
  private startQueued(): void {
    while (this.queue.length > 0 && !this.stopping && this.runningCount() < this.maxConcurrent) {
      const next = this.queue.shift()!
      this.transition(next.run, 'starting')
      // A failure to start is stored and published inside spawn; nobody waits on this one.
      next.spawn().catch(() => {})
    }
  }

  private cancelQueued(run: ActiveRun, reason: string): void {
    const index = this.queue.findIndex((entry) => entry.run === run)
    const [entry] = this.queue.splice(index, 1)
    this.active.delete(run.id)
    const now = new Date()
    this.transition(run, 'interrupted', reason, {errorMessage: reason, completedAt: now, lastActivityAt: now})
    entry.settle()
  }

  /** Launches claude for a session that holds a slot; fails the session (and rejects) when it cannot. */
  private async spawn(
    run: ActiveRun,
    claudePath: string,
    params: LaunchParams,
    where: {workingDir: string; resume?: string},
    launch: {
      permissionPromptTool?: string
      additionalDirectories?: string[]
      servers: McpServers | undefined
      settings: ReturnType<SessionPolicyLink['prepareSession']> | undefined
    },
    settle: () => void,
  ): Promise<void> {
    const {permissionPromptTool, additionalDirectories, servers, settings} = launch
    try {
      mkdirSync(this.deps.outputDir, {recursive: true, mode: 0o700})
      // Its path is in the session's row already (see start).
      if (servers) await writeMcpConfigFile(servers, this.deps.socketPath, run.id)
      const args = buildClaudeArgs({
        query: params.query,
        resume: where.resume,
        model: params.model,
        mcpConfigFile: servers ? run.mcpConfigPath : undefined,
        // Inline, not a file: it holds no secret (the hook's command: node, hook.cjs, the socket's
        // path and the run id, which claude's environment has too), and a file beside the config
        // cost a creation and a removal per launch (4 round trips through the thread pool).
        settings: settings && JSON.stringify(settings),
        permissionPromptTool,
        maxTurns: params.max_turns,
        systemPrompt: params.system_prompt,
        appendSystemPrompt: params.append_system_prompt,
        allowedTools: params.allowed_tools,
        disallowedTools: params.disallowed_tools,
        additionalDirectories,
      })
      // Every launch runs inside a write of the store (the request's, or the one that frees its
      // slot), which commits when this first awaits: at the latest here (with no config to write),
      // so the session's row is stored before its claude exists, and a daemon that dies from now
      // on finds it at its next start.
      await Promise.resolve()
      run.process = await startClaude({
        command: claudePath,
        args,
        cwd: where.workingDir,
        umask: this.deps.claudeUmask,
        // claude and every tool it runs see this environment: the HumanLayer key is not theirs.
        // claude 2.1 connects MCP servers in the background by default; a permission tool still
        // connecting at the first tool call is "not found" and fails the session (issue 10).
        // The run id marks every process of the session (see reconcile.ts).
        env: {HUMANLAYER_API_KEY: undefined, MCP_CONNECTION_NONBLOCKING: 'false', HUMANLAYER_RUN_ID: run.runId},
        ...this.reading(run),
      })
    } catch (error) {
      const message = (error as Error).message
      this.active.delete(run.id)
      this.removeOutput(run)
      await this.removeMcpConfig(run, run.mcpConfigPath)
      await this.deps.store.write(() => {
        this.repo.update(run.id, {status: 'failed', errorMessage: message, completedAt: new Date(), mcpConfigPath: null})
        this.publishStatus(run, 'starting', 'failed', message)
        this.startQueued()
      })
      settle()
      throw new RpcError(ErrorCode.Unavailable, `${message}. Check claude_path (HUMANLAYER_CLAUDE_PATH) and the daemon log.`)
    }

    const pid = run.process.pid
    await this.deps.store.write(() => this.transition(run, 'running', undefined, {pid}))
    this.deps.log.info('session started', {session_id: run.id, run_id: run.runId, pid, resume: where.resume})
    this.follow(run, settle)
    // A shutdown that began while this launch was in flight must not leave it running.
    if (this.stopping) this.beginInterrupt(run, 'Interrupted because the daemon shut down.')
  }

  /** The in-memory run of a session a previous daemon left active. */
  private runFrom(row: SessionRow): ActiveRun {
    const {nextSequence, lastLine} = this.repo.recordingState(row.id)
    const run: ActiveRun = {
      id: row.id,
      runId: row.runId,
      parentSessionId: row.parentSessionId ?? undefined,
      status: row.status as SessionStatus,
      startedAt: row.createdAt.getTime(),
      nextSequence,
      claudeSessionId: row.claudeSessionId ?? undefined,
      // claude's result is its last line; stored, it says how the run went.
      result: lastLine === undefined ? undefined : (parseStreamLine(lastLine)?.result ?? undefined),
      mcpConfigPath: row.mcpConfigPath ?? undefined,
      stopReason: row.status === 'interrupting' ? (row.errorMessage ?? undefined) : undefined,
      done: Promise.resolve(),
    }
    this.active.set(run.id, run)
    return run
  }

  /** How claude's output reaches the store. */
  private reading(run: ActiveRun): {
    files: SessionFiles
    onLines: (lines: string[], offset: number) => void
    onOversize: (bytes: number) => void
  } {
    return {
      files: this.filesOf(run.id),
      onLines: (lines, offset) => this.ingest(run, lines, offset),
      onOversize: (bytes) => this.deps.log.warn('claude stdout line over the size limit, skipped', {session_id: run.id, bytes}),
    }
  }

  /** Ends the session when its claude does. */
  private follow(run: ActiveRun, settle?: () => void): void {
    if (!settle) run.done = new Promise<void>((resolve) => (settle = resolve))
    void run
      .process!.exited.then(async (outcome) => {
        // Output held while the database was locked is stored before the end is.
        await run.drained
        // Gone before the session is seen to end.
        await this.removeMcpConfig(run, run.mcpConfigPath)
        await this.deps.store.write(() => this.finish(run, outcome))
        // Stored; a restart has nothing left to resume.
        this.removeOutput(run)
      })
      .catch((error: unknown) => {
        // The row is reconciled at the next start.
        this.active.delete(run.id)
        this.deps.log.error('could not record the end of a session', {session_id: run.id, error})
        void this.deps.store.write(() => this.startQueued()).catch(() => {})
      })
      .finally(settle)
  }

  private beginInterrupt(run: ActiveRun, reason?: string): void {
    run.stopReason = reason
    this.transition(run, 'interrupting')
    run.process!.signal('SIGINT')
    this.armKill(run)
  }

  private armKill(run: ActiveRun): void {
    run.killTimer = setTimeout(() => {
      this.deps.log.warn('claude ignored SIGINT; killing its process group', {session_id: run.id, pid: run.process!.pid})
      run.process!.signal('SIGKILL')
    }, this.deps.stopTimeoutMs)
  }

  /**
   * One read's worth of stdout lines: stored and mapped in one transaction, then published. A
   * session whose output cannot be stored must not run on unrecorded: it is killed and failed.
   */
  private ingest(run: ActiveRun, lines: string[], offset: number): void {
    if (run.failure) return
    if (run.backlog) {
      // Behind lines still waiting for the database: after them, in order.
      for (const line of lines) run.backlog.push(line)
      run.backlogOffset = offset
      return
    }
    try {
      storeLines(this.deps.bus, this.repo, run, lines, this.deps.log, offset)
    } catch (error) {
      if (!isBusy(error)) return this.failRecording(run, error)
      // Another process holds the database's lock: hold the output until it lets go.
      run.backlog = [...lines]
      run.backlogOffset = offset
      run.drained = this.drainBacklog(run)
    }
  }

  private async drainBacklog(run: ActiveRun): Promise<void> {
    this.deps.log.warn('the database is locked by another process; holding claude output until it is free', {session_id: run.id})
    try {
      const published = await this.deps.store.write(() => {
        const lines = run.backlog!
        const offset = run.backlogOffset!
        run.backlog = run.backlogOffset = undefined
        return recordLines(this.repo, run, lines, this.deps.log, offset)
      })
      for (const event of published) this.publish(event)
    } catch (error) {
      run.backlog = run.backlogOffset = undefined
      this.failRecording(run, error)
    }
  }

  /** A session whose output cannot be stored must not run on unrecorded: it is killed and failed. */
  private failRecording(run: ActiveRun, error: unknown): void {
    run.failure = `hld could not store claude's output, so it stopped the session: ${(error as Error).message}`
    this.deps.log.error('storing claude output failed; killing the session', {session_id: run.id, error})
    run.process?.signal('SIGKILL')
  }

  /**
   * claude has exited: the final status follows from how the run went. The caller removes the
   * MCP config before and the output files after (off the event loop, so not in here).
   */
  private finish(run: ActiveRun, outcome: RunOutcome): void {
    clearTimeout(run.killTimer)
    const result = run.result
    let status: SessionStatus
    let error: string | undefined
    if (run.failure) {
      status = 'failed'
      error = run.failure
    } else if (run.status === 'interrupting') {
      status = 'interrupted'
      error = run.stopReason
    } else if (result && !result.isError && (outcome.exitCode === 0 || outcome.adopted)) {
      // An adopted claude's exit status is unknown: its result is the word on how it went.
      status = 'completed'
    } else {
      status = 'failed'
      error = result?.isError ? `claude reported ${result.subtype}: ${result.error}` : describeExit(outcome, result !== undefined)
    }
    const now = new Date()
    this.transition(run, status, error, {
      completedAt: now,
      lastActivityAt: now,
      durationMs: result?.durationMs ?? now.getTime() - run.startedAt,
      errorMessage: error ?? null,
      pid: null,
      mcpConfigPath: null,
    })
    this.active.delete(run.id)
    this.deps.log.info('session ended', {session_id: run.id, status, exit_code: outcome.exitCode, signal: outcome.signal, error})
    this.startQueued()
  }

  /** Stores the new status, with `update` in the same statement, and publishes it. */
  private transition(run: ActiveRun, status: SessionStatus, error?: string, update: SessionUpdate = {}): void {
    const old = run.status
    run.status = status
    this.repo.update(run.id, {...update, status})
    this.publishStatus(run, old, status, error)
  }

  private publishStatus(
    session: {id: string; runId: string; parentSessionId?: string},
    oldStatus: string,
    newStatus: SessionStatus,
    error?: string,
  ): void {
    this.publish({
      type: 'session_status_changed',
      data: {
        session_id: session.id,
        run_id: session.runId,
        old_status: oldStatus,
        new_status: newStatus,
        ...(session.parentSessionId ? {parent_session_id: session.parentSessionId} : {}),
        ...(error ? {error} : {}),
      },
    })
  }

  /**
   * Never throws: a failure is logged. On the event loop: an unlink of a file takes some tens of
   * microseconds here, less than a round trip through the thread pool (a wake-up of a worker and
   * of the loop), while a directory's removal can take a millisecond (see removeMcpConfig).
   */
  private removeOutput(session: {id: string}): void {
    const files = this.filesOf(session.id)
    for (const file of [files.output, files.errors]) {
      try {
        unlinkSync(file)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
          this.deps.log.warn('could not remove an output file of a session', {session_id: session.id, file, error})
      }
    }
  }

  /** Never rejects: a failure is logged. Off the event loop: it removes a directory, 0.5-1 ms here. */
  private async removeMcpConfig(session: {id: string}, file: string | null | undefined): Promise<void> {
    const error = file ? await removeMcpConfigFile(file) : undefined
    if (error) this.deps.log.warn('could not remove an MCP config file', {session_id: session.id, file, error})
  }

  private publish(event: NewEvent): void {
    publishEvent(this.deps.bus, event, this.deps.log)
  }
}

function toRef(row: SessionRow): SessionRef {
  return {id: row.id, run_id: row.runId, title: row.title, summary: row.summary, status: row.status}
}

function describeExit(outcome: RunOutcome, hadResult: boolean): string {
  const how = outcome.signal
    ? `was killed by ${outcome.signal}`
    : outcome.adopted
      ? 'ended (while adopted after a daemon restart, so its exit status is unknown)'
      : `exited with code ${outcome.exitCode}`
  const stderr = outcome.stderrTail ? `: ${outcome.stderrTail}` : ' (stderr was empty)'
  return `claude ${how} ${hadResult ? 'after its result' : 'before sending a result'}${stderr}`
}

/** `~` expanded, absolute, and an existing directory, else invalid params. */
function resolveWorkingDir(dir: string): string {
  const resolved = path.resolve(expandHome(dir))
  let isDir = false
  try {
    isDir = statSync(resolved).isDirectory()
  } catch {
    // reported below
  }
  if (!isDir) {
    throw new RpcError(ErrorCode.InvalidParams, `Invalid params for launchSession: working_dir ${resolved} is not an existing directory.`, {
      fields: [{path: 'working_dir', message: 'not an existing directory'}],
    })
  }
  return resolved
}

/** The page a request asked for, if it asked for one (hld's callers never do, and get everything). */
function pageOf(params: Page): Page | undefined {
  return params.limit === undefined && params.offset === undefined ? undefined : {limit: params.limit, offset: params.offset}
}
