/**
 * Sessions on the wire: the Go hld's method names and snake_case keys (its hld/rpc handlers;
 * our differences are in docs/sessions.md). Optional keys are omitted when empty, as hld does.
 */
import type {z} from 'zod'

import {method} from './method.js'
import type * as schema from './sessions.schema.js'

export const SESSION_STATUSES = [
  /** Launched beyond max_concurrent_sessions: waits for a free slot, then starts in launch order. */
  'queued',
  'starting',
  'running',
  'waiting_input',
  'interrupting',
  'completed',
  'failed',
  'interrupted',
] as const
export type SessionStatus = (typeof SESSION_STATUSES)[number]

/** Statuses a session never leaves. */
export const TERMINAL_STATUSES: readonly SessionStatus[] = ['completed', 'failed', 'interrupted']

// Params types are the schemas' outputs: what the daemon's handlers see, and what the client
// sends (continueSession's mcp_config may also be a JSON string on the wire, for hld clients).

/** One session, as `listSessions` and `getSessionState` return it. */
export interface Session {
  id: string
  run_id: string
  claude_session_id?: string
  parent_session_id?: string
  status: SessionStatus
  query: string
  /** The query with whitespace collapsed, cut to 50 characters. */
  summary: string
  title: string
  model?: string
  model_id?: string
  working_dir: string
  max_turns?: number
  system_prompt?: string
  append_system_prompt?: string
  permission_prompt_tool?: string
  allowed_tools?: string[]
  disallowed_tools?: string[]
  additional_directories?: string[]
  /** False when launched with `disable_approvals` (`--no-approvals`). */
  approvals_enabled: boolean
  created_at: string
  last_activity_at: string
  completed_at?: string
  error_message?: string
  cost_usd?: number
  input_tokens?: number
  output_tokens?: number
  cache_creation_input_tokens?: number
  cache_read_input_tokens?: number
  duration_ms?: number
  num_turns?: number
  /** The final `result` text claude reported. */
  result?: string
}

export type ConversationEventType = 'message' | 'tool_call' | 'tool_result' | 'thinking' | 'system'
export type ToolCallApprovalStatus = 'pending' | 'approved' | 'denied' | 'resolved'

export interface ConversationEvent {
  id: number
  session_id: string
  claude_session_id?: string
  sequence: number
  event_type: ConversationEventType
  created_at: string
  role?: 'user' | 'assistant' | 'system'
  content?: string
  tool_id?: string
  tool_name?: string
  /** The tool input, serialised (hld keeps it a string). */
  tool_input_json?: string
  parent_tool_use_id?: string
  tool_result_for_id?: string
  tool_result_content?: string
  is_completed: boolean
  approval_status?: ToolCallApprovalStatus
  approval_id?: string
}

export interface LaunchSessionResult {
  session_id: string
  run_id: string
}

export interface ContinueSessionResult {
  session_id: string
  run_id: string
  /** Always "" as in hld: the child's claude session id arrives later, from its stream. */
  claude_session_id: string
  parent_session_id: string
}

export interface InterruptSessionResult {
  success: true
  session_id: string
  /** `interrupted` at once for a session still queued (it never started). */
  status: 'interrupting' | 'interrupted'
}

export const LaunchSession = method<z.output<typeof schema.LaunchSessionParams>, LaunchSessionResult>('launchSession')
/** `total` (ours) comes with a page (`limit` or `offset`): how many there are in all. */
export interface ListSessionsResult {
  sessions: Session[]
  total?: number
}

export interface GetConversationResult {
  events: ConversationEvent[]
  total?: number
}

export const ListSessions = method<z.output<typeof schema.ListSessionsParams>, ListSessionsResult>('listSessions')
export const GetSessionState = method<z.output<typeof schema.GetSessionStateParams>, {session: Session}>('getSessionState')
export const GetConversation = method<z.output<typeof schema.GetConversationParams>, GetConversationResult>('getConversation')
export const ContinueSession = method<z.output<typeof schema.ContinueSessionParams>, ContinueSessionResult>('continueSession')
export const InterruptSession = method<z.output<typeof schema.InterruptSessionParams>, InterruptSessionResult>(
  'interruptSession',
)
