import {z} from 'zod'

import type {MethodSpec} from './methods.schema.js'
import {
  ArchiveSession,
  BulkArchiveSessions,
  ContinueSession,
  GetConversation,
  GetRecentPaths,
  GetSessionLeaves,
  GetSessionSnapshots,
  GetSessionState,
  InterruptSession,
  LaunchSession,
  ListSessions,
  SESSION_STATUSES,
  UpdateSessionSettings,
  UpdateSessionTitle,
} from './sessions.js'

/** A session id, or a unique prefix of one (the daemon resolves it). */
const sessionId = z.string().trim().min(1, 'session_id is required')
const toolList = z.array(z.string().min(1))
const ruleList = z.array(z.string().trim().min(1, 'a rule cannot be empty')).max(10_000)

/** What claude is asked. `/clear` and `/compact` hang a print-mode claude (upstream #507). */
const query = z
  .string()
  .refine((q) => q.trim() !== '', 'query is required')
  .refine(
    (q) => !/^\/(clear|compact)\b/.test(q.trim()),
    '/clear and /compact hang a claude session run by hld; launch a new session instead of clearing, or continue this one',
  )

/** `{mcpServers: {...}}`, as claude's --mcp-config takes it. */
export const McpConfig = z.looseObject({mcpServers: z.record(z.string(), z.looseObject({}))})

/** hld sends continueSession's mcp_config as a JSON string (a quirk); accept both forms. */
const mcpConfigParam = z.preprocess((value) => {
  if (typeof value !== 'string') return value
  try {
    return JSON.parse(value) as unknown
  } catch {
    return value
  }
}, McpConfig)

/** Settings a continued session inherits from its parent unless the request overrides them. */
const inheritable = {
  system_prompt: z.string().optional(),
  append_system_prompt: z.string().optional(),
  allowed_tools: toolList.optional(),
  disallowed_tools: toolList.optional(),
  additional_directories: z.array(z.string().min(1)).optional(),
  mcp_config: mcpConfigParam.optional(),
  permission_prompt_tool: z.string().min(1).optional(),
  title: z.string().optional(),
  max_turns: z.number().int().positive().optional(),
  /** Ours: do not inject the approvals MCP server (`--no-approvals`). */
  disable_approvals: z.boolean().optional(),
  /** Stored with the session; as in the Go hld, claude is not given them. */
  custom_instructions: z.string().optional(),
  /** Ours: policy rules of this session (Claude Code rule syntax), added to a continued session's parent's. */
  allow: ruleList.optional(),
  ask: ruleList.optional(),
  deny: ruleList.optional(),
  /** Ours: how long an ask waits for a human before `on_timeout` decides. */
  approval_timeout_ms: z
    .number()
    .int()
    .positive()
    .max(30 * 24 * 3600 * 1000)
    .optional(),
  on_timeout: z.enum(['allow', 'deny']).optional(),
  /** Ours: turns off the built-in rules that keep the agent from deciding its own approvals. */
  dangerously_allow_self_approval: z.boolean().optional(),
}

export const LaunchSessionParams = z.object({
  query,
  model: z.string().min(1).optional(),
  /** Defaults to the daemon's own directory; the CLI always sends the caller's. */
  working_dir: z.string().min(1).optional(),
  ...inheritable,
  /** Accepted for Go clients; claude always runs with --verbose (stream-json needs it). */
  verbose: z.boolean().optional(),
  auto_accept_edits: z.boolean().optional(),
  dangerously_skip_permissions: z.boolean().optional(),
  /** Milliseconds after which dangerously_skip_permissions turns itself off. */
  dangerously_skip_permissions_timeout: z.number().int().positive().optional(),
})

/** Ours, beyond hld: a window counted from the newest (so `limit` alone is the newest `limit`). */
const page = {
  limit: z.number().int().positive().optional(),
  offset: z.number().int().nonnegative().optional(),
}

export const ListSessionsParams = z.object({
  status: z.enum(SESSION_STATUSES).optional(),
  /** Ours: only archived (true) or only not archived (false) sessions; absent lists both, as Go does. */
  archived: z.boolean().optional(),
  ...page,
})

export const GetSessionStateParams = z.object({session_id: sessionId})

export const GetConversationParams = z
  .object({session_id: sessionId.optional(), claude_session_id: z.string().min(1).optional(), ...page})
  .refine((p) => p.session_id !== undefined || p.claude_session_id !== undefined, 'session_id or claude_session_id is required')

export const ContinueSessionParams = z.object({
  session_id: sessionId,
  query,
  ...inheritable,
})

export const InterruptSessionParams = z.object({session_id: sessionId})

export const GetSessionLeavesParams = z.object({filter: z.enum(['normal', 'archived', 'draft', '']).optional()})

export const GetSessionSnapshotsParams = z.object({session_id: sessionId})

/** Go's keys; a timeout only counts when skip-permissions is turned on in the same call. */
export const UpdateSessionSettingsParams = z
  .object({
    session_id: sessionId,
    auto_accept_edits: z.boolean().optional(),
    dangerously_skip_permissions: z.boolean().optional(),
    dangerously_skip_permissions_timeout_ms: z.number().int().positive().optional(),
  })
  .refine(
    (p) => p.auto_accept_edits !== undefined || p.dangerously_skip_permissions !== undefined,
    'name a setting to change: auto_accept_edits or dangerously_skip_permissions',
  )

/** Titles are shown in tables and terminals: one line, bounded. */
export const UpdateSessionTitleParams = z.object({
  session_id: sessionId,
  title: z
    .string()
    .max(500, 'title is at most 500 characters')
    .refine((t) => !/[\r\n]/.test(t), 'title is one line'),
})

export const GetRecentPathsParams = z.object({limit: z.number().int().positive().max(1000).optional()})

export const ArchiveSessionParams = z.object({session_id: sessionId, archived: z.boolean()})

export const BulkArchiveSessionsParams = z.object({
  session_ids: z.array(sessionId).min(1, 'session_ids is required and cannot be empty').max(1000),
  archived: z.boolean(),
})

export const SESSIONS_METHODS: MethodSpec[] = [
  {method: LaunchSession, params: LaunchSessionParams},
  {method: ListSessions, params: ListSessionsParams},
  {method: GetSessionState, params: GetSessionStateParams},
  {method: GetConversation, params: GetConversationParams},
  {method: ContinueSession, params: ContinueSessionParams},
  {method: InterruptSession, params: InterruptSessionParams},
  {method: GetSessionLeaves, params: GetSessionLeavesParams},
  {method: GetSessionSnapshots, params: GetSessionSnapshotsParams},
  {method: UpdateSessionSettings, params: UpdateSessionSettingsParams},
  {method: UpdateSessionTitle, params: UpdateSessionTitleParams},
  {method: GetRecentPaths, params: GetRecentPathsParams},
  {method: ArchiveSession, params: ArchiveSessionParams},
  {method: BulkArchiveSessions, params: BulkArchiveSessionsParams},
]
