/**
 * claude's argv for one session, in the order the Go daemon uses (claude-code-cli.md §2.1),
 * with the query last after `--print --` so a query starting with `-` stays a query (#432).
 */
export interface ClaudeArgs {
  query: string
  /** The parent's claude session id, for a continued session. */
  resume?: string
  model?: string
  mcpConfigFile?: string
  /** claude's --settings, a file or (as the daemon gives it) JSON: the policy's PreToolUse hook. */
  settings?: string
  permissionPromptTool?: string
  maxTurns?: number
  systemPrompt?: string
  appendSystemPrompt?: string
  allowedTools?: string[]
  disallowedTools?: string[]
  /** Absolute paths. */
  additionalDirectories?: string[]
}

export function buildClaudeArgs(spec: ClaudeArgs): string[] {
  const args: string[] = []
  // --fork-session gives the child its own claude session id, so the parent's stays its own.
  if (spec.resume) args.push('--resume', spec.resume, '--fork-session')
  if (spec.model) args.push('--model', spec.model)
  args.push('--output-format', 'stream-json', '--verbose')
  if (spec.mcpConfigFile) args.push('--mcp-config', spec.mcpConfigFile)
  if (spec.settings) args.push('--settings', spec.settings)
  if (spec.permissionPromptTool) args.push('--permission-prompt-tool', spec.permissionPromptTool)
  if (spec.maxTurns !== undefined && spec.maxTurns > 0) args.push('--max-turns', String(spec.maxTurns))
  if (spec.systemPrompt) args.push('--system-prompt', spec.systemPrompt)
  if (spec.appendSystemPrompt) args.push('--append-system-prompt', spec.appendSystemPrompt)
  if (spec.allowedTools?.length) args.push('--allowedTools', spec.allowedTools.join(','))
  if (spec.disallowedTools?.length) args.push('--disallowedTools', spec.disallowedTools.join(','))
  for (const dir of spec.additionalDirectories ?? []) args.push('--add-dir', dir)
  args.push('--print', '--', spec.query)
  return args
}
