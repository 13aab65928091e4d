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

/**
 * The Go hld's `claudecode.Result`, rebuilt from what the session stored (as Go does): present
 * once the session has a result text, turn count, cost or duration.
 */
export interface SessionResult {
  type: 'result'
  subtype: 'session_completed'
  total_cost_usd: number
  is_error: boolean
  duration_ms: number
  duration_api_ms: number
  num_turns: number
  /** The final text claude reported. */
  result: string
  /** claude's session id, as in claude's own result event. */
  session_id: string
  error?: string
}

/**
 * One session, as `listSessions` and `getSessionState` return it: a superset of the Go hld's
 * `session.Info` (start_time, end_time, error, result as an object…) and of its SessionState
 * (created_at, completed_at, error_message…), so clients of either decode it.
 */
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
  /** Go's Info name for created_at. */
  start_time: string
  last_activity_at: string
  completed_at?: string
  /** Go's Info name for completed_at. */
  end_time?: string
  error_message?: string
  /** Go's Info name for error_message. */
  error?: string
  cost_usd?: number
  input_tokens?: number
  output_tokens?: number
  cache_creation_input_tokens?: number
  cache_read_input_tokens?: number
  duration_ms?: number
  num_turns?: number
  result?: SessionResult
  custom_instructions?: string
  archived: boolean
  auto_accept_edits: boolean
  dangerously_skip_permissions: boolean
  dangerously_skip_permissions_expires_at?: string
  /** Always false: hld has no model proxy (Go clients expect the key). */
  proxy_enabled: false
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
export const InterruptSession = method<z.output<typeof schema.InterruptSessionParams>, InterruptSessionResult>('interruptSession')

/** What claude's Read tool returned for a file (getSessionSnapshots); capped, see `truncated`. */
export interface FileSnapshot {
  tool_id: string
  file_path: string
  content: string
  created_at: string
}

export interface RecentPath {
  path: string
  last_used: string
  usage_count: number
}

/** Go's `getSessionLeaves` filter: `normal` (not archived), `archived`, `draft` (hld has none), or all. */
export type LeavesFilter = 'normal' | 'archived' | 'draft' | ''

export const GetSessionLeaves = method<z.output<typeof schema.GetSessionLeavesParams>, {sessions: Session[]}>('getSessionLeaves')
export const GetSessionSnapshots = method<z.output<typeof schema.GetSessionSnapshotsParams>, {snapshots: FileSnapshot[]}>(
  'getSessionSnapshots',
)
export const UpdateSessionSettings = method<z.output<typeof schema.UpdateSessionSettingsParams>, {success: true}>('updateSessionSettings')
export const UpdateSessionTitle = method<z.output<typeof schema.UpdateSessionTitleParams>, {success: true}>('updateSessionTitle')
export const GetRecentPaths = method<z.output<typeof schema.GetRecentPathsParams>, {paths: RecentPath[]}>('getRecentPaths')
export const ArchiveSession = method<z.output<typeof schema.ArchiveSessionParams>, {success: true}>('archiveSession')
/** `failed_sessions`: the ids that name no session (Go's key); the rest were changed. */
export const BulkArchiveSessions = method<
  z.output<typeof schema.BulkArchiveSessionsParams>,
  {success: boolean; failed_sessions?: string[]}
>('bulkArchiveSessions')
