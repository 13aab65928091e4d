// The wire contract shared by the client, the daemon and the MCP server. Type-light on
// purpose: the zod schemas (`*.schema.ts`) are imported only where params are validated.
export * from './daemon.js'
export * from './errors.js'
export * from './events.js'
export * from './framing.js'
export * from './method.js'
export * from './subscribe.js'
export * from './sessions.js'
export * from './approvals.js'
export * from './policy.js'
