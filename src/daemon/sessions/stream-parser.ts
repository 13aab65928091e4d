/**
 * One line of claude's stream-json (`--output-format stream-json --verbose`) → what the session
 * learns from it, mapped to the Go hld's conversation events (docs/sessions.md). Pure: the
 * service stores and publishes what this returns.
 */
import type {ConversationEventType} from '../../protocol/sessions.js'

export interface ConversationDraft {
  event_type: ConversationEventType
  role?: 'user' | 'assistant' | 'system'
  content?: string
  tool_id?: string
  tool_name?: string
  tool_input?: unknown
  parent_tool_use_id?: string
  tool_result_for_id?: string
  tool_result_content?: string
}

export interface TokenUsage {
  input_tokens: number
  output_tokens: number
  cache_creation_input_tokens: number
  cache_read_input_tokens: number
}

export interface StreamResult {
  subtype: string
  isError: boolean
  costUsd?: number
  durationMs?: number
  numTurns?: number
  result?: string
  /** Why it failed, when it did. */
  error?: string
}

export interface ParsedLine {
  claudeSessionId?: string
  /** The full model id, from the init event. */
  modelId?: string
  conversation: ConversationDraft[]
  /** Usage of a top-level assistant message (sub-agents' usage is not the session's context). */
  usage?: TokenUsage
  result?: StreamResult
}

type Json = Record<string, unknown>

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)

/** Returns null for a line that is not a JSON object (it is still stored raw). */
export function parseStreamLine(line: string): ParsedLine | null {
  let event: unknown
  try {
    event = JSON.parse(line)
  } catch {
    return null
  }
  if (!isObject(event)) return null
  const parsed: ParsedLine = {conversation: [], claudeSessionId: str(event.session_id)}
  switch (event.type) {
    case 'system': {
      if (event.subtype === 'init') parsed.modelId = str(event.model)
      break
    }
    case 'assistant':
    case 'user': {
      mapMessage(event, parsed)
      break
    }
    case 'result': {
      parsed.result = mapResult(event)
      break
    }
  }
  return parsed
}

function mapMessage(event: Json, parsed: ParsedLine): void {
  const message = isObject(event.message) ? event.message : {}
  const role = message.role === 'assistant' || message.role === 'user' ? message.role : event.type === 'assistant' ? 'assistant' : 'user'
  const parent = str(event.parent_tool_use_id)
  const base = parent === undefined ? {} : {parent_tool_use_id: parent}
  const content = message.content
  if (typeof content === 'string') {
    parsed.conversation.push({event_type: 'message', role, content, ...base})
  } else if (Array.isArray(content)) {
    for (const block of content.filter(isObject)) {
      const draft = mapBlock(block, role)
      if (draft) parsed.conversation.push({...draft, ...base})
    }
  }
  if (role === 'assistant' && parent === undefined && isObject(message.usage)) {
    const usage = message.usage
    parsed.usage = {
      input_tokens: num(usage.input_tokens) ?? 0,
      output_tokens: num(usage.output_tokens) ?? 0,
      cache_creation_input_tokens: num(usage.cache_creation_input_tokens) ?? 0,
      cache_read_input_tokens: num(usage.cache_read_input_tokens) ?? 0,
    }
  }
}

function mapBlock(block: Json, role: 'user' | 'assistant'): ConversationDraft | undefined {
  switch (block.type) {
    case 'text': {
      return {event_type: 'message', role, content: str(block.text) ?? ''}
    }
    case 'thinking': {
      return {event_type: 'thinking', role, content: str(block.thinking) ?? ''}
    }
    case 'tool_use': {
      return {event_type: 'tool_call', role, tool_id: str(block.id), tool_name: str(block.name), tool_input: block.input ?? {}}
    }
    case 'tool_result': {
      return {
        event_type: 'tool_result',
        role: 'user',
        tool_result_for_id: str(block.tool_use_id),
        tool_result_content: toolResultText(block.content),
      }
    }
    default: {
      return undefined
    }
  }
}

/** tool_result content is a string or a list of `{type:"text",text}` blocks. */
function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  return content
    .filter(isObject)
    .map((block) => str(block.text))
    .filter((text): text is string => text !== undefined)
    .join('\n')
}

function mapResult(event: Json): StreamResult {
  const subtype = str(event.subtype) ?? 'unknown'
  const isError = event.is_error === true || subtype.startsWith('error')
  const errors = Array.isArray(event.errors) ? event.errors.filter((e): e is string => typeof e === 'string') : []
  const result: StreamResult = {
    subtype,
    isError,
    // Older CLIs named the cost cost_usd or total_cost.
    costUsd: num(event.total_cost_usd) ?? num(event.cost_usd) ?? num(event.total_cost),
    durationMs: num(event.duration_ms),
    numTurns: num(event.num_turns),
    result: str(event.result),
  }
  if (isError) result.error = errors.length > 0 ? errors.join('; ') : (result.result ?? `claude ended with ${subtype}`)
  return result
}

/** hld's summary: whitespace runs collapsed, cut to 50 characters, "..." when cut. */
export function summarize(query: string): string {
  const flat = query.replaceAll(/\s+/g, ' ').trim()
  const chars = [...flat]
  return chars.length <= 50 ? flat : `${chars.slice(0, 50).join('')}...`
}
