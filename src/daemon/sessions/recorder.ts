/**
 * claude's stdout lines → the store: every raw line, the conversation events mapped from it,
 * and what the session learns (claude session id, model, tokens, result). Runs inside the
 * caller's transaction and returns the conversation_updated events to publish after commit.
 */
import type {NewEvent} from '../../protocol/events.js'
import {capText, truncatedToolInput} from '../capped.js'
import type {Logger} from '../logger.js'
import type {SessionRepository, SessionUpdate} from './repository.js'
import {type ConversationDraft, type StreamResult, parseStreamLine} from './stream-parser.js'

/** Published conversation text and tool inputs are capped (capped.ts), so a subscriber's frame stays small. */
const WHOLE = 'getConversation'

/** The part of a live session the recorder reads and advances. */
export interface RecordingRun {
  id: string
  runId: string
  nextSequence: number
  claudeSessionId?: string
  result?: StreamResult
}

export function recordLines(repo: SessionRepository, run: RecordingRun, lines: string[], log: Logger): NewEvent[] {
  const published: NewEvent[] = []
  const now = Date.now()
  const update: SessionUpdate = {lastActivityAt: new Date(now)}
  for (const line of lines) {
    repo.insertRaw(run.id, line, now)
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
      repo.insertEvent(run.id, run.claudeSessionId, run.nextSequence++, draft, now)
      published.push(conversationUpdated(run, draft))
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
