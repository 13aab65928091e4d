/**
 * claude's stdout lines → the store: every raw line, the conversation events mapped from it,
 * and what the session learns (claude session id, model, tokens, result). Runs inside the
 * caller's transaction and returns the conversation_updated events to publish after commit.
 */
import type {NewEvent} from '../../protocol/events.js'
import type {EventBus} from '../bus/index.js'
import {capText, truncatedToolInput} from '../capped.js'
import type {Logger} from '../../shared/logger.js'
import type {SessionRepository, SessionUpdate} from './repository.js'
import {type ConversationDraft, type StreamResult, parseStreamLine} from './stream-parser.js'

/** Published conversation text and tool inputs are capped (capped.ts), so a subscriber's frame stays small. */
const WHOLE = 'getConversation'
/** A file snapshot keeps at most this many characters of what Read returned. */
export const MAX_SNAPSHOT_CHARS = 1024 * 1024

/** The part of a live session the recorder reads and advances. */
export interface RecordingRun {
  id: string
  runId: string
  nextSequence: number
  claudeSessionId?: string
  result?: StreamResult
  /** Read tool calls waiting for their result: tool id → the file_path claude asked for. */
  readCalls?: Map<string, string>
  /** Tool calls waiting for their result: tool id → their row (see SessionRepository.insertEvent). */
  openCalls?: Map<string, number>
}

/**
 * One read's worth of lines, the session's update and their conversation_updated events, stored
 * in one transaction and published (to subscribers once committed). Throws what storing throws
 * (SQLITE_BUSY while another process holds the lock); then nothing was stored or published.
 */
export function storeLines(
  bus: EventBus,
  repo: SessionRepository,
  run: RecordingRun,
  lines: string[],
  log: Logger,
  outputOffset: number,
): void {
  bus.storeWith(() => {
    for (const event of recordLines(repo, run, lines, log, outputOffset)) publishEvent(bus, event, log)
  })
}

/** What is stored stands even if a subscriber fails; the failure is logged, not spread. */
export function publishEvent(bus: EventBus, event: NewEvent, log: Logger): void {
  try {
    bus.publish(event)
  } catch (error) {
    log.error('publishing an event failed', {type: event.type, error})
  }
}

/**
 * `outputOffset`: where in claude's output file these lines end, stored with them so that a
 * restarted daemon resumes exactly after them.
 */
export function recordLines(repo: SessionRepository, run: RecordingRun, lines: string[], log: Logger, outputOffset?: number): NewEvent[] {
  const published: NewEvent[] = []
  const now = Date.now()
  const update: SessionUpdate = {lastActivityAt: new Date(now)}
  if (outputOffset !== undefined) update.outputOffset = outputOffset
  repo.insertRaw(run.id, lines, now)
  for (const line of lines) {
    const parsed = parseStreamLine(line)
    if (!parsed) {
      log.debug('claude stdout line is not JSON', {session_id: run.id, line: line.slice(0, 200)})
      continue
    }
    if (parsed.claudeSessionId && !run.claudeSessionId) {
      run.claudeSessionId = parsed.claudeSessionId
      update.claudeSessionId = parsed.claudeSessionId
      repo.backfillClaudeSessionId(run.id, parsed.claudeSessionId)
    }
    if (parsed.modelId) update.modelId = parsed.modelId
    if (parsed.usage) {
      update.inputTokens = parsed.usage.input_tokens
      update.outputTokens = parsed.usage.output_tokens
      update.cacheCreationInputTokens = parsed.usage.cache_creation_input_tokens
      update.cacheReadInputTokens = parsed.usage.cache_read_input_tokens
    }
    for (const draft of parsed.conversation) {
      repo.insertEvent(run.id, run.claudeSessionId, run.nextSequence++, draft, now, (run.openCalls ??= new Map()))
      published.push(conversationUpdated(run, draft))
      snapshotReads(repo, run, draft, now)
    }
    if (parsed.result) {
      run.result = parsed.result
      update.costUsd = parsed.result.costUsd
      update.numTurns = parsed.result.numTurns
      update.durationMs = parsed.result.durationMs
      update.resultContent = parsed.result.result
    }
  }
  repo.update(run.id, update)
  return published
}

/** What claude's Read tool returned becomes a file snapshot (Go's getSessionSnapshots). */
function snapshotReads(repo: SessionRepository, run: RecordingRun, draft: ConversationDraft, now: number): void {
  if (draft.event_type === 'tool_call' && draft.tool_name === 'Read' && draft.tool_id) {
    const filePath = (draft.tool_input as {file_path?: unknown} | undefined)?.file_path
    if (typeof filePath === 'string') (run.readCalls ??= new Map()).set(draft.tool_id, filePath)
    return
  }
  if (draft.event_type !== 'tool_result' || !draft.tool_result_for_id) return
  const filePath = run.readCalls?.get(draft.tool_result_for_id)
  if (filePath === undefined) return
  run.readCalls!.delete(draft.tool_result_for_id)
  const result = draft.tool_result_content ?? ''
  // A failed Read (no such file, too large) says so in place of the content: nothing to keep.
  if (result.startsWith('<tool_use_error>')) return
  repo.insertSnapshot(run.id, draft.tool_result_for_id, filePath, fileContentOfRead(result), now)
}

/**
 * The file text in a Read result: the line-number gutter (`   12→` or `   12<tab>`) and claude's
 * trailing <system-reminder> blocks removed, capped. A partial read (offset/limit) stays partial:
 * the daemon does not read files itself, unlike Go, which re-reads the whole file from disk.
 */
export function fileContentOfRead(result: string): string {
  const body = result.replace(/(\s*<system-reminder>[\s\S]*?<\/system-reminder>)+\s*$/, '')
  const lines = body.split('\n')
  const gutter = /^ *\d+(→|\t)/
  const numbered = lines.every((line) => line === '' || gutter.test(line))
  const text = numbered ? lines.map((line) => line.replace(gutter, '')).join('\n') : body
  if (text.length <= MAX_SNAPSHOT_CHARS) return text
  return `${text.slice(0, MAX_SNAPSHOT_CHARS)}\n… [${text.length - MAX_SNAPSHOT_CHARS} more characters not kept]`
}

const CONTENT_TYPE = {message: 'text', tool_call: 'tool_use', tool_result: 'tool_result', thinking: 'thinking', system: 'system'} as const

/** hld's conversation_updated keys; absent members are left out. */
function conversationUpdated(run: RecordingRun, draft: ConversationDraft): NewEvent {
  return {
    type: 'conversation_updated',
    data: {
      session_id: run.id,
      run_id: run.runId,
      claude_session_id: run.claudeSessionId ?? '',
      event_type: draft.event_type,
      content_type: CONTENT_TYPE[draft.event_type],
      parent_tool_use_id: draft.parent_tool_use_id ?? null,
      ...(draft.role === undefined ? {} : {role: draft.role}),
      ...(draft.content === undefined ? {} : {content: capText(draft.content, WHOLE)}),
      ...(draft.tool_id === undefined ? {} : {tool_id: draft.tool_id}),
      ...(draft.tool_name === undefined ? {} : {tool_name: draft.tool_name}),
      ...(draft.event_type === 'tool_call' ? cappedInput(draft.tool_input) : {}),
      ...(draft.tool_result_for_id === undefined ? {} : {tool_result_for_id: draft.tool_result_for_id}),
      ...(draft.tool_result_content === undefined ? {} : {tool_result_content: capText(draft.tool_result_content, WHOLE)}),
    },
  }
}

function cappedInput(input: unknown): {tool_input: unknown; tool_input_truncated?: true} {
  const truncated = truncatedToolInput(JSON.stringify(input ?? {}), WHOLE)
  return truncated ? {tool_input: truncated, tool_input_truncated: true} : {tool_input: input}
}
