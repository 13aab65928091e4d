/**
 * The session tables' queries, and the mapping from rows to hld's wire shapes. Every query that
 * runs per launch or per line of claude's output is a drizzle statement prepared once, here
 * (built and prepared per call, they showed in every launch); the service wraps each batch of
 * lines and their events in one transaction (recorder.ts). Listings, run per request, are built per call.
 */
import {type SQL, and, asc, desc, eq, getTableColumns, inArray, isNull, lte, max, sql} from 'drizzle-orm'
import type {SQLiteColumn, SQLiteSelect} from 'drizzle-orm/sqlite-core'

import type {
  ConversationEvent,
  ConversationEventType,
  FileSnapshot,
  LeavesFilter,
  RecentPath,
  Session,
  SessionResult,
  SessionStatus,
  ToolCallApprovalStatus,
} from '../../protocol/sessions.js'
import type {Store} from '../store/index.js'
import {bindRows, columnKeys, driverValues, placeholdersFor, rowPlaceholdersFor} from '../store/placeholders.js'
import {idsWithPrefix} from '../store/prefix.js'
import {conversationEvents, fileSnapshots, rawEvents, sessions} from '../store/schema/index.js'
import type {ConversationDraft} from './stream-parser.js'
import {preparedOnFirstUse} from '../store/prepared.js'

export type SessionRow = typeof sessions.$inferSelect
export type NewSessionRow = typeof sessions.$inferInsert
export type SessionUpdate = Partial<Omit<NewSessionRow, 'id' | 'runId'>>
type EventRow = typeof conversationEvents.$inferSelect

/** A window counted from the newest end: skip the `offset` newest, then take up to `limit`. */
export interface Page {
  limit?: number
  offset?: number
}

export interface SessionFilter {
  status?: SessionStatus
  archived?: boolean
}

function whereOf(filter: SessionFilter): SQL | undefined {
  return and(
    filter.status === undefined ? undefined : eq(sessions.status, filter.status),
    filter.archived === undefined ? undefined : eq(sessions.archived, filter.archived),
  )
}

/** Where events are read from: one session's, or one claude session's. */
export type EventSource = {session_id: string} | {claude_session_id: string}

const SESSION_COLUMNS = getTableColumns(sessions)
const RAW_KEYS = ['sessionId', 'eventJson', 'createdAt'] as const
/**
 * claude's lines per multi-row insert of raw_events: a busy session's read brings dozens, and per
 * statement drizzle and better-sqlite3 bind and step as much as SQLite stores a row.
 */
const RAW_LINES_PER_INSERT = 16
/** What an insert of a conversation event binds: the rest start as their defaults (not completed, no approval). */
const EVENT_KEYS = columnKeys(getTableColumns(conversationEvents)).filter(
  (key) => key !== 'id' && key !== 'isCompleted' && key !== 'approvalId' && key !== 'approvalStatus',
)

export class SessionRepository {
  private readonly db
  private readonly insertSession
  private readonly insertRawStmt
  private readonly insertRawManyStmt
  private readonly insertSnapshotStmt
  private readonly insertEventStmt
  private readonly completeToolStmt
  private readonly completeToolByRowStmt
  private readonly byIdStmt
  private readonly byRunIdStmt
  private readonly lastSequenceStmt
  private readonly lastLineStmt
  private readonly backfillStmt
  /** One prepared UPDATE per set of columns changed together (a handful: status, pid, the recorder's). */
  private readonly updates = new Map<string, {run(values: Record<string, unknown>): unknown}>()
  /** One prepared SELECT per list of statuses (the active ones: every decision asks which sessions run). */
  private readonly byStatuses = new Map<string, {all(values: Record<string, unknown>): SessionRow[]}>()
  /** findToolCallForApproval's three looks, each run for every approval. */
  private readonly toolCallByApprovalStmt
  private readonly toolCallByIdStmt
  private readonly openToolCallByNameStmt
  /** Runs at every approval of a tool call, and at its decision. */
  private readonly setApprovalStmt

  constructor(private readonly store: Store) {
    const db = (this.db = store.db)
    const id = sql.placeholder('id')
    this.insertSession = preparedOnFirstUse(() =>
      db
        .insert(sessions)
        .values(placeholdersFor(columnKeys(SESSION_COLUMNS)))
        .prepare(),
    )
    this.insertSnapshotStmt = preparedOnFirstUse(() =>
      db
        .insert(fileSnapshots)
        .values(placeholdersFor(['sessionId', 'toolId', 'filePath', 'content', 'createdAt']))
        .prepare(),
    )
    this.insertRawStmt = preparedOnFirstUse(() => db.insert(rawEvents).values(rowPlaceholdersFor(RAW_KEYS, 1)).prepare())
    this.insertRawManyStmt = preparedOnFirstUse(() =>
      db.insert(rawEvents).values(rowPlaceholdersFor(RAW_KEYS, RAW_LINES_PER_INSERT)).prepare(),
    )
    this.insertEventStmt = preparedOnFirstUse(() => db.insert(conversationEvents).values(placeholdersFor(EVENT_KEYS)).prepare())
    this.completeToolStmt = preparedOnFirstUse(() =>
      db
        .update(conversationEvents)
        .set({isCompleted: true})
        .where(
          and(
            eq(conversationEvents.sessionId, id),
            eq(conversationEvents.eventType, 'tool_call'),
            eq(conversationEvents.toolId, sql.placeholder('toolId')),
          ),
        )
        .prepare(),
    )
    this.completeToolByRowStmt = preparedOnFirstUse(() =>
      db
        .update(conversationEvents)
        .set({isCompleted: true})
        .where(eq(conversationEvents.id, sql.placeholder('rowId')))
        .prepare(),
    )
    // Approvals look a session up by id for every listing, and by run id for every approval.
    this.byIdStmt = preparedOnFirstUse(() => db.select().from(sessions).where(eq(sessions.id, id)).prepare())
    this.byRunIdStmt = preparedOnFirstUse(() =>
      db
        .select()
        .from(sessions)
        .where(eq(sessions.runId, sql.placeholder('runId')))
        .prepare(),
    )
    this.lastSequenceStmt = preparedOnFirstUse(() =>
      db
        .select({last: max(conversationEvents.sequence)})
        .from(conversationEvents)
        .where(eq(conversationEvents.sessionId, id))
        .prepare(),
    )
    this.lastLineStmt = preparedOnFirstUse(() =>
      db
        .select({line: rawEvents.eventJson})
        .from(rawEvents)
        .where(eq(rawEvents.sessionId, id))
        .orderBy(desc(rawEvents.id))
        .limit(1)
        .prepare(),
    )
    // max(id), not ORDER BY id DESC LIMIT 1: drizzle binds a limit as a parameter, and SQLite
    // prepares a statement again at every run whose LIMIT parameter was bound (at every run here):
    // 3-5x the query's own cost (CONTRIBUTING.md, Queries).
    const newestToolCall = (...where: SQL[]) =>
      preparedOnFirstUse(() =>
        db
          .select({id: max(conversationEvents.id)})
          .from(conversationEvents)
          .where(and(eq(conversationEvents.sessionId, id), eq(conversationEvents.eventType, 'tool_call'), ...where))
          .prepare(),
      )
    this.toolCallByApprovalStmt = newestToolCall(eq(conversationEvents.approvalId, sql.placeholder('approvalId')))
    this.toolCallByIdStmt = newestToolCall(eq(conversationEvents.toolId, sql.placeholder('toolId')))
    this.openToolCallByNameStmt = newestToolCall(
      eq(conversationEvents.toolName, sql.placeholder('toolName')),
      eq(conversationEvents.isCompleted, false),
      isNull(conversationEvents.approvalStatus),
    )
    this.setApprovalStmt = preparedOnFirstUse(() =>
      db
        .update(conversationEvents)
        .set(placeholdersFor(['approvalId', 'approvalStatus']))
        .where(eq(conversationEvents.id, sql.placeholder('eventId')))
        .prepare(),
    )
    this.backfillStmt = preparedOnFirstUse(() =>
      db
        .update(conversationEvents)
        .set(placeholdersFor(['claudeSessionId']))
        .where(and(eq(conversationEvents.sessionId, id), isNull(conversationEvents.claudeSessionId)))
        .prepare(),
    )
  }

  insert(row: NewSessionRow): void {
    // A prepared insert binds every column: one the row leaves out gets its default, as the builder would.
    const values: Record<string, unknown> = {}
    for (const [key, column] of Object.entries(SESSION_COLUMNS)) values[key] = row[key as keyof NewSessionRow] ?? column.default ?? null
    this.insertSession.run(driverValues(SESSION_COLUMNS, values))
  }

  update(id: string, fields: SessionUpdate): void {
    const keys = Object.keys(fields).filter((key) => fields[key as keyof SessionUpdate] !== undefined)
    if (keys.length === 0) return
    const shape = keys.join(',')
    let statement = this.updates.get(shape)
    if (!statement) {
      statement = this.db
        .update(sessions)
        .set(placeholdersFor(keys))
        .where(eq(sessions.id, sql.placeholder('id')))
        .prepare()
      this.updates.set(shape, statement)
    }
    statement.run({...driverValues(SESSION_COLUMNS, fields), id})
  }

  get(id: string): SessionRow | undefined {
    return this.byIdStmt.get({id})
  }

  getByRunId(runId: string): SessionRow | undefined {
    return this.byRunIdStmt.get({runId})
  }

  hasClaudeSession(claudeSessionId: string): boolean {
    return this.store.db.select({id: sessions.id}).from(sessions).where(eq(sessions.claudeSessionId, claudeSessionId)).get() !== undefined
  }

  /** Up to `limit` ids starting with `prefix`. */
  idsWithPrefix(prefix: string, limit: number): string[] {
    return idsWithPrefix(this.store.db, sessions, sessions.id, prefix, limit)
  }

  /** Oldest first: all of them, or the page of them counted from the newest. */
  list(filter: SessionFilter, page?: Page): SessionRow[] {
    const query = this.store.db.select().from(sessions).where(whereOf(filter))
    return inOrder<SessionRow>(query.$dynamic(), [sessions.createdAt, sessions.id], page)
  }

  count(filter: SessionFilter): number {
    return this.store.db
      .select({n: sql<number>`count(*)`})
      .from(sessions)
      .where(whereOf(filter))
      .get()!.n
  }

  /** Sessions no other session continues, newest activity first (Go's getSessionLeaves). */
  leaves(filter: LeavesFilter | undefined): SessionRow[] {
    const children = this.store.db
      .select({id: sessions.parentSessionId})
      .from(sessions)
      .where(sql`${sessions.parentSessionId} IS NOT NULL`)
    // hld has no drafts: the draft filter matches nothing, `normal` means not archived.
    if (filter === 'draft') return []
    const archived = filter === 'normal' ? false : filter === 'archived' ? true : undefined
    return this.store.db
      .select()
      .from(sessions)
      .where(and(sql`${sessions.id} NOT IN ${children}`, archived === undefined ? undefined : eq(sessions.archived, archived)))
      .orderBy(desc(sessions.lastActivityAt), desc(sessions.id))
      .all()
  }

  /** Which of `ids` exist, in one query. */
  existing(ids: string[]): Set<string> {
    const rows = this.store.db.select({id: sessions.id}).from(sessions).where(inArray(sessions.id, ids)).all()
    return new Set(rows.map((r) => r.id))
  }

  setArchived(ids: string[], archived: boolean): void {
    if (ids.length > 0) this.store.db.update(sessions).set({archived}).where(inArray(sessions.id, ids)).run()
  }

  /** Working directories sessions were launched in, the most recently used first. */
  recentPaths(limit: number): RecentPath[] {
    const rows = this.store.db
      .select({path: sessions.workingDir, lastUsed: sql<number>`max(${sessions.createdAt})`, usageCount: sql<number>`count(*)`})
      .from(sessions)
      .groupBy(sessions.workingDir)
      .orderBy(desc(sql`max(${sessions.createdAt})`))
      .limit(limit)
      .all()
    return rows.map((r) => ({path: r.path, last_used: new Date(r.lastUsed).toISOString(), usage_count: r.usageCount}))
  }

  insertSnapshot(sessionId: string, toolId: string, filePath: string, content: string, at: number): void {
    this.insertSnapshotStmt.run({sessionId, toolId, filePath, content, createdAt: at})
  }

  /** In the order claude read them. */
  snapshots(sessionId: string): FileSnapshot[] {
    return this.store.db
      .select()
      .from(fileSnapshots)
      .where(eq(fileSnapshots.sessionId, sessionId))
      .orderBy(asc(fileSnapshots.id))
      .all()
      .map((r) => ({tool_id: r.toolId, file_path: r.filePath, content: r.content, created_at: r.createdAt.toISOString()}))
  }

  /** Sessions whose dangerously_skip_permissions is on with an expiry at or before `at`. */
  skipPermissionsExpiredBy(at: number): SessionRow[] {
    return this.store.db
      .select()
      .from(sessions)
      .where(and(eq(sessions.dangerouslySkipPermissions, true), lte(sessions.dangerouslySkipPermissionsExpiresAt, new Date(at))))
      .all()
  }

  /** The earliest expiry of a dangerously_skip_permissions still on, if any. */
  nextSkipPermissionsExpiry(): Date | undefined {
    const row = this.store.db
      .select({at: sql<number | null>`min(${sessions.dangerouslySkipPermissionsExpiresAt})`})
      .from(sessions)
      .where(eq(sessions.dangerouslySkipPermissions, true))
      .get()
    return row?.at == null ? undefined : new Date(row.at)
  }

  listByStatus(statuses: readonly SessionStatus[]): SessionRow[] {
    const key = statuses.join(',')
    let statement = this.byStatuses.get(key)
    if (!statement) {
      const placeholders = statuses.map((_, i) => sql.placeholder(`s${i}`))
      statement = this.store.db.select().from(sessions).where(inArray(sessions.status, placeholders)).prepare()
      this.byStatuses.set(key, statement)
    }
    return statement.all(Object.fromEntries(statuses.map((status, i) => [`s${i}`, status])))
  }

  /** Where a session's recording stopped (for a daemon adopting it): its next sequence and its last raw line. */
  recordingState(sessionId: string): {nextSequence: number; lastLine?: string} {
    const last = this.lastSequenceStmt.get({id: sessionId})?.last ?? 0
    return {nextSequence: last + 1, lastLine: this.lastLineStmt.get({id: sessionId})?.line}
  }

  /** Every line of one read, in order: RAW_LINES_PER_INSERT rows per statement, the rest one by one. */
  insertRaw(sessionId: string, lines: readonly string[], at: number): void {
    const rows = lines.map((eventJson) => ({sessionId, eventJson, createdAt: at}))
    let i = 0
    for (; i + RAW_LINES_PER_INSERT <= rows.length; i += RAW_LINES_PER_INSERT)
      this.insertRawManyStmt.run(bindRows(RAW_KEYS, rows, i, RAW_LINES_PER_INSERT))
    for (; i < rows.length; i++) this.insertRawStmt.run(bindRows(RAW_KEYS, rows, i, 1))
  }

  /**
   * `openCalls` (the recorder's, per session): tool ids → the row of their tool_call, so that a
   * tool_result marks its call completed by row id, not by searching the session's calls (a third
   * of claude's lines are tool results). 0 marks a tool id seen twice; then, and for a call this
   * daemon did not record (adopted after a restart), the search it is.
   */
  insertEvent(
    sessionId: string,
    claudeSessionId: string | undefined,
    sequence: number,
    draft: ConversationDraft,
    at: number,
    openCalls?: Map<string, number>,
  ): number {
    // Driver values (created_at in ms), bound as they are: see placeholdersFor.
    const row = {
      sessionId,
      claudeSessionId: claudeSessionId ?? null,
      sequence,
      eventType: draft.event_type,
      createdAt: at,
      role: draft.role ?? null,
      content: draft.content ?? null,
      toolId: draft.tool_id ?? null,
      toolName: draft.tool_name ?? null,
      toolInputJson: draft.event_type === 'tool_call' ? JSON.stringify(draft.tool_input ?? {}) : null,
      parentToolUseId: draft.parent_tool_use_id ?? null,
      toolResultForId: draft.tool_result_for_id ?? null,
      toolResultContent: draft.tool_result_content ?? null,
    }
    const rowId = Number(this.insertEventStmt.run(row).lastInsertRowid)
    if (draft.event_type === 'tool_call' && draft.tool_id !== undefined && openCalls)
      openCalls.set(draft.tool_id, openCalls.has(draft.tool_id) ? 0 : rowId)
    if (draft.event_type === 'tool_result' && draft.tool_result_for_id) {
      const callRow = openCalls?.get(draft.tool_result_for_id)
      if (callRow) this.completeToolByRowStmt.run({rowId: callRow})
      else this.completeToolStmt.run({id: sessionId, toolId: draft.tool_result_for_id})
      openCalls?.delete(draft.tool_result_for_id)
    }
    return rowId
  }

  /** Events written before claude said its session id (the injected query) get it now. */
  backfillClaudeSessionId(sessionId: string, claudeSessionId: string): void {
    this.backfillStmt.run({id: sessionId, claudeSessionId})
  }

  /** In order: all of them, or the page of them counted from the newest. */
  events(source: EventSource, page?: Page): EventRow[] {
    const query = this.store.db.select().from(conversationEvents).where(eventsOf(source))
    return inOrder<EventRow>(query.$dynamic(), [conversationEvents.sequence, conversationEvents.id], page)
  }

  countEvents(source: EventSource): number {
    return this.store.db
      .select({n: sql<number>`count(*)`})
      .from(conversationEvents)
      .where(eventsOf(source))
      .get()!.n
  }

  /**
   * The tool_call an approval belongs to: the one already carrying this approval, else the
   * one with this tool_use_id, else the newest unfinished call of that tool with no approval.
   */
  findToolCallForApproval(sessionId: string, approvalId: string, match: {tool_use_id?: string; tool_name: string}): number | undefined {
    return (
      this.toolCallByApprovalStmt.get({id: sessionId, approvalId})?.id ??
      (match.tool_use_id === undefined
        ? this.openToolCallByNameStmt.get({id: sessionId, toolName: match.tool_name})?.id
        : this.toolCallByIdStmt.get({id: sessionId, toolId: match.tool_use_id})?.id) ??
      undefined
    )
  }

  setApproval(eventId: number, approvalId: string, status: ToolCallApprovalStatus): void {
    this.setApprovalStmt.run({eventId, approvalId, approvalStatus: status})
  }
}

/** Ascending by `columns`: every row, or the page counted from the other end (read descending, then turned round). */
function inOrder<Row>(query: SQLiteSelect, columns: SQLiteColumn[], page: Page | undefined): Row[] {
  if (!page) return query.orderBy(...columns.map((c) => asc(c))).all() as Row[]
  const rows = query
    .orderBy(...columns.map((c) => desc(c)))
    .limit(page.limit ?? Number.MAX_SAFE_INTEGER)
    .offset(page.offset ?? 0)
    .all() as Row[]
  return rows.reverse()
}

function eventsOf(source: EventSource): SQL {
  return 'session_id' in source
    ? eq(conversationEvents.sessionId, source.session_id)
    : eq(conversationEvents.claudeSessionId, source.claude_session_id)
}

/** Drops null and undefined members: hld omits empty optional keys. */
function compact<T>(value: {[K in keyof T]: T[K] | null}): T {
  // A plain loop: this runs once per row of a listing (100,000 for some), and entries/fromEntries cost 5x.
  const kept: Record<string, unknown> = {}
  for (const key in value) {
    const member = value[key]
    if (member !== null && member !== undefined) kept[key] = member
  }
  return kept as T
}

const nonEmpty = <T>(list: T[] | null): T[] | null => (list && list.length > 0 ? list : null)

export function toWireSession(row: SessionRow): Session {
  return compact<Session>({
    id: row.id,
    run_id: row.runId,
    claude_session_id: row.claudeSessionId,
    parent_session_id: row.parentSessionId,
    status: row.status as SessionStatus,
    query: row.query,
    summary: row.summary,
    title: row.title ?? '',
    model: row.model,
    model_id: row.modelId,
    working_dir: row.workingDir,
    max_turns: row.maxTurns,
    system_prompt: row.systemPrompt,
    append_system_prompt: row.appendSystemPrompt,
    permission_prompt_tool: row.permissionPromptTool,
    allowed_tools: nonEmpty(row.allowedTools),
    disallowed_tools: nonEmpty(row.disallowedTools),
    additional_directories: nonEmpty(row.additionalDirectories),
    approvals_enabled: row.approvalsEnabled,
    created_at: row.createdAt.toISOString(),
    start_time: row.createdAt.toISOString(),
    last_activity_at: row.lastActivityAt.toISOString(),
    completed_at: row.completedAt?.toISOString(),
    end_time: row.completedAt?.toISOString(),
    error_message: row.errorMessage,
    error: row.errorMessage,
    cost_usd: row.costUsd,
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cache_creation_input_tokens: row.cacheCreationInputTokens,
    cache_read_input_tokens: row.cacheReadInputTokens,
    duration_ms: row.durationMs,
    num_turns: row.numTurns,
    result: resultOf(row),
    custom_instructions: row.customInstructions,
    archived: row.archived,
    auto_accept_edits: row.autoAcceptEdits,
    dangerously_skip_permissions: skipsPermissions(row),
    dangerously_skip_permissions_expires_at: skipsPermissions(row) ? row.dangerouslySkipPermissionsExpiresAt?.toISOString() : null,
    proxy_enabled: false,
  })
}

/** Whether every approval of the session is taken without asking, now. */
export function skipsPermissions(row: SessionRow, now = Date.now()): boolean {
  const expiresAt = row.dangerouslySkipPermissionsExpiresAt
  return row.dangerouslySkipPermissions && (expiresAt === null || expiresAt.getTime() > now)
}

/** Go's `claudecode.Result`, rebuilt from the stored columns once there is anything to rebuild it from. */
function resultOf(row: SessionRow): SessionResult | null {
  if (row.resultContent === null && row.numTurns === null && row.costUsd === null && row.durationMs === null) return null
  const isError = row.status === 'failed'
  return compact<SessionResult>({
    type: 'result',
    subtype: 'session_completed',
    total_cost_usd: row.costUsd ?? 0,
    is_error: isError,
    duration_ms: row.durationMs ?? 0,
    duration_api_ms: 0,
    num_turns: row.numTurns ?? 0,
    result: row.resultContent ?? '',
    session_id: row.claudeSessionId ?? '',
    error: isError ? row.errorMessage : null,
  })
}

export function toWireEvent(row: EventRow): ConversationEvent {
  return compact<ConversationEvent>({
    id: row.id,
    session_id: row.sessionId,
    claude_session_id: row.claudeSessionId,
    sequence: row.sequence,
    event_type: row.eventType as ConversationEventType,
    created_at: row.createdAt.toISOString(),
    role: row.role as ConversationEvent['role'],
    content: row.content,
    tool_id: row.toolId,
    tool_name: row.toolName,
    tool_input_json: row.toolInputJson,
    parent_tool_use_id: row.parentToolUseId,
    tool_result_for_id: row.toolResultForId,
    tool_result_content: row.toolResultContent,
    is_completed: row.isCompleted,
    approval_status: row.approvalStatus as ToolCallApprovalStatus | null,
    approval_id: row.approvalId,
  })
}
