#!/usr/bin/env node
// The approvals MCP server as sessions start it: straight to the server, without oclif, so that
// claude has its permission tool within node's own start-up time (see src/mcp/claude-approvals.ts).
// `hld mcp claude-approvals` runs the same server for people and other MCP clients.
const {serveClaudeApprovals} = await import('../dist/mcp/claude-approvals.js')
await serveClaudeApprovals()
// A socket some library left open must not keep a finished server alive.
process.exit(0)
