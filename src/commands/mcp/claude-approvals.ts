import {Command} from '@oclif/core'

export default class McpClaudeApprovals extends Command {
  static summary = 'Serve the approvals MCP server on stdio, for Claude Code --permission-prompt-tool.'
  static description =
    'The hld daemon puts this in each session\'s MCP config as server "approvals" with HUMANLAYER_RUN_ID and ' +
    'HUMANLAYER_DAEMON_SOCKET set, and runs claude with --permission-prompt-tool mcp__approvals__request_permission. ' +
    'Each request_permission call creates an approval and answers once it is decided: in the daemon by default, ' +
    'or in the HumanLayer API when an api_key is configured. stdout is the MCP channel; logs go to ' +
    'mcp-claude-approvals-<run_id>.log beside the daemon log.'

  static examples = [
    '<%= config.bin %> <%= command.id %>   # with HUMANLAYER_RUN_ID (and HUMANLAYER_DAEMON_SOCKET) set',
    `claude -p --mcp-config '{"mcpServers":{"approvals":{"command":"hld","args":["mcp","claude-approvals"]}}}' --permission-prompt-tool mcp__approvals__request_permission -- "…"`,
  ]

  async run(): Promise<void> {
    await this.parse(McpClaudeApprovals)
    const {serveClaudeApprovals} = await import('../../mcp/claude-approvals.js')
    await serveClaudeApprovals()
    // A socket some library left open must not keep a finished server alive.
    process.exit(0)
  }
}
