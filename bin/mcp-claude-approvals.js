#!/usr/bin/env node
// The approvals MCP server as sessions start it: straight to the server, without oclif, so that
// claude has its permission tool within node's own start-up time (see src/mcp/claude-approvals.ts).
// `hld mcp claude-approvals` runs the same server for people and other MCP clients. The bundle is
// that module and what answering `initialize` needs, in one file (scripts/build-lean.js).
// CommonJS like everything in bin/ (bin/package.json); the bundle is an ES module.
'use strict'
import('../dist/mcp/claude-approvals.bundle.js')
  .then(({serveClaudeApprovals}) => serveClaudeApprovals())
  .then(() => {
    // A socket some library left open must not keep a finished server alive.
    process.exit(0)
  })
