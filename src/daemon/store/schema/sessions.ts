/** Sessions, their conversation (mapped from claude's stream) and every raw stream line. */
import {sql} from 'drizzle-orm'
import {type AnySQLiteColumn, index, integer, real, sqliteTable, text} from 'drizzle-orm/sqlite-core'

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    /** The approval correlation key, distinct from `id`. */
    runId: text('run_id').notNull().unique(),
    claudeSessionId: text('claude_session_id'),
    parentSessionId: text('parent_session_id').references((): AnySQLiteColumn => sessions.id),
    status: text('status').notNull(),
    query: text('query').notNull(),
    summary: text('summary').notNull(),
    title: text('title'),
    model: text('model'),
    modelId: text('model_id'),
    workingDir: text('working_dir').notNull(),
    maxTurns: integer('max_turns'),
    systemPrompt: text('system_prompt'),
    appendSystemPrompt: text('append_system_prompt'),
    permissionPromptTool: text('permission_prompt_tool'),
    allowedTools: text('allowed_tools', {mode: 'json'}).$type<string[]>(),
    disallowedTools: text('disallowed_tools', {mode: 'json'}).$type<string[]>(),
    additionalDirectories: text('additional_directories', {mode: 'json'}).$type<string[]>(),
    /** The user's MCP servers (`{mcpServers}`), kept so a continued session gets them too. */
    mcpConfig: text('mcp_config', {mode: 'json'}).$type<{mcpServers: Record<string, unknown>}>(),
    approvalsEnabled: integer('approvals_enabled', {mode: 'boolean'}).notNull().default(true),
    /** claude's pid, leader of its process group: what a restarted daemon terminates. */
    pid: integer('pid'),
    /** The private MCP config file given to claude, removed when the session ends. */
    mcpConfigPath: text('mcp_config_path'),
    /**
     * How many bytes of claude's output file (sessions/<id>.out beside the database) are stored,
     * updated in the transaction that stores them: where a restarted daemon resumes reading.
     */
    outputOffset: integer('output_offset'),
    createdAt: integer('created_at', {mode: 'timestamp_ms'}).notNull(),
    lastActivityAt: integer('last_activity_at', {mode: 'timestamp_ms'}).notNull(),
    completedAt: integer('completed_at', {mode: 'timestamp_ms'}),
    errorMessage: text('error_message'),
    costUsd: real('cost_usd'),
    inputTokens: integer('input_tokens'),
    outputTokens: integer('output_tokens'),
    cacheCreationInputTokens: integer('cache_creation_input_tokens'),
    cacheReadInputTokens: integer('cache_read_input_tokens'),
    durationMs: integer('duration_ms'),
    numTurns: integer('num_turns'),
    resultContent: text('result_content'),
    /** Stored, never given to claude (as in the Go hld). */
    customInstructions: text('custom_instructions'),
    /** Hidden from lists unless asked for (`hld session list --archived`). */
    archived: integer('archived', {mode: 'boolean'}).notNull().default(false),
    /** Edit, Write and MultiEdit requests are approved without asking. */
    autoAcceptEdits: integer('auto_accept_edits', {mode: 'boolean'}).notNull().default(false),
    /** Every request is approved without asking, until the expiry (when there is one). */
    dangerouslySkipPermissions: integer('dangerously_skip_permissions', {mode: 'boolean'}).notNull().default(false),
    dangerouslySkipPermissionsExpiresAt: integer('dangerously_skip_permissions_expires_at', {mode: 'timestamp_ms'}),
    dangerouslySkipPermissionsTimeoutMs: integer('dangerously_skip_permissions_timeout_ms'),
  },
  (t) => [
    // With created_at, a page of one status is read in order instead of sorting all its sessions.
    index('sessions_status_created_idx').on(t.status, t.createdAt),
    index('sessions_claude_session_idx').on(t.claudeSessionId),
    index('sessions_parent_idx').on(t.parentSessionId),
    index('sessions_created_idx').on(t.createdAt),
    index('sessions_working_dir_idx').on(t.workingDir, t.createdAt),
  ],
)

export const conversationEvents = sqliteTable(
  'conversation_events',
  {
    id: integer('id').primaryKey({autoIncrement: true}),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, {onDelete: 'cascade'}),
    claudeSessionId: text('claude_session_id'),
    sequence: integer('sequence').notNull(),
    eventType: text('event_type').notNull(),
    createdAt: integer('created_at', {mode: 'timestamp_ms'}).notNull(),
    role: text('role'),
    content: text('content'),
    toolId: text('tool_id'),
    toolName: text('tool_name'),
    toolInputJson: text('tool_input_json'),
    parentToolUseId: text('parent_tool_use_id'),
    toolResultForId: text('tool_result_for_id'),
    toolResultContent: text('tool_result_content'),
    isCompleted: integer('is_completed', {mode: 'boolean'}).notNull().default(false),
    approvalStatus: text('approval_status'),
    approvalId: text('approval_id'),
  },
  (t) => [
    index('conversation_session_seq_idx').on(t.sessionId, t.sequence),
    index('conversation_claude_session_seq_idx').on(t.claudeSessionId, t.sequence),
    index('conversation_tool_idx').on(t.sessionId, t.toolId),
    index('conversation_approval_idx').on(t.approvalId),
    index('conversation_pending_approval_idx')
      .on(t.approvalStatus)
      .where(sql`${t.approvalStatus} = 'pending'`),
  ],
)

export const rawEvents = sqliteTable(
  'raw_events',
  {
    id: integer('id').primaryKey({autoIncrement: true}),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, {onDelete: 'cascade'}),
    /** The stdout line exactly as claude wrote it. */
    eventJson: text('event_json').notNull(),
    createdAt: integer('created_at', {mode: 'timestamp_ms'}).notNull(),
  },
  (t) => [index('raw_events_session_idx').on(t.sessionId, t.id)],
)

/** What a file held when claude's Read tool returned it (getSessionSnapshots), capped. */
export const fileSnapshots = sqliteTable(
  'file_snapshots',
  {
    id: integer('id').primaryKey({autoIncrement: true}),
    sessionId: text('session_id')
      .notNull()
      .references(() => sessions.id, {onDelete: 'cascade'}),
    /** The Read tool call's id. */
    toolId: text('tool_id').notNull(),
    filePath: text('file_path').notNull(),
    content: text('content').notNull(),
    createdAt: integer('created_at', {mode: 'timestamp_ms'}).notNull(),
  },
  (t) => [index('file_snapshots_session_idx').on(t.sessionId, t.id)],
)
