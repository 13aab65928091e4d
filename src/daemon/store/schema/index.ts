// Every table the daemon owns. drizzle-kit reads this file to generate migrations into drizzle/.
export * from './meta.js'
export * from './events.js'
export * from './sessions.js'
export * from './approvals.js'
export * from './policy.js'
