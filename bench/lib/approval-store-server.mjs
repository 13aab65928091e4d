// The approvals baseline: a bare Node NDJSON server on a Unix socket that stores approvals in
// better-sqlite3 (the daemon's own schema: the bench migrates the file first) and does what the
// approval round trips need, nothing else:
//   createApproval {run_id, tool_name, tool_input}  → inserts the pending row, commits, tells
//                                                     subscribers (new_approval), replies its id
//   fetchApprovals                                  → the pending rows, oldest first
//   waitForDecision {approval_id}                   → replies once it is decided
//   sendDecision {approval_id, decision, comment}   → updates the row, commits, replies, wakes waiters
//   Subscribe                                       → confirms, then pushes events
// Durability as the daemon's: WAL, synchronous=FULL, so every acknowledged create and decision is
// synced to disk before its reply (the daemon syncs the same writes before replying).
// Usage: node approval-store-server.mjs <socket> <database>; prints "ready" once listening.
import {randomUUID} from 'node:crypto'
import {createRequire} from 'node:module'

import {serveNdjson} from './ndjson-server.mjs'

const require = createRequire(import.meta.url)
const Database = require('better-sqlite3')

const [socketPath, databasePath] = process.argv.slice(2)
const db = new Database(databasePath)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = FULL')
const insert = db.prepare(
  `INSERT INTO approvals (id, source, type, run_id, session_id, tool_name, tool_input, status, created_at)
   VALUES (?, 'local', 'function_call', ?, ?, ?, ?, 'pending', ?)`,
)
const pending = db.prepare("SELECT * FROM approvals WHERE status = 'pending' ORDER BY created_at")
const decide = db.prepare("UPDATE approvals SET status = ?, comment = ?, decided_at = ? WHERE id = ? AND status = 'pending'")
const byId = db.prepare('SELECT * FROM approvals WHERE id = ?')

const subscribers = new Set()
/** Approval id → the replies waiting for its decision. */
const waiters = new Map()
const STATUS = {approve: 'approved', deny: 'denied'}

const reply = (socket, id, result) => socket.write(`${JSON.stringify({jsonrpc: '2.0', result, id})}\n`)

function handle(socket, request) {
  const {method, params = {}, id} = request
  if (method === 'Subscribe') {
    subscribers.add(socket)
    socket.on('close', () => subscribers.delete(socket))
    return reply(socket, id, {status: 'subscribed'})
  }
  if (method === 'createApproval') {
    const approvalId = `local-${randomUUID()}`
    insert.run(approvalId, params.run_id, params.run_id, params.tool_name, JSON.stringify(params.tool_input), Date.now())
    const event = `${JSON.stringify({jsonrpc: '2.0', result: {event: {type: 'new_approval', data: {approval_id: approvalId}}}, id: null})}\n`
    for (const subscriber of subscribers) subscriber.write(event)
    return reply(socket, id, {approval_id: approvalId})
  }
  if (method === 'fetchApprovals') return reply(socket, id, {approvals: pending.all()})
  if (method === 'waitForDecision') {
    const row = byId.get(params.approval_id)
    if (row.status !== 'pending') return reply(socket, id, {approval: row, decided: true})
    const list = waiters.get(row.id) ?? []
    list.push((decided) => reply(socket, id, {approval: decided, decided: true}))
    return waiters.set(row.id, list)
  }
  if (method === 'sendDecision') {
    decide.run(STATUS[params.decision], params.comment ?? null, Date.now(), params.approval_id)
    const row = byId.get(params.approval_id)
    reply(socket, id, {success: true, approval: row})
    for (const wake of waiters.get(row.id) ?? []) wake(row)
    return waiters.delete(row.id)
  }
  socket.write(`${JSON.stringify({jsonrpc: '2.0', error: {code: -32601, message: 'Method not found'}, id})}\n`)
}

serveNdjson(socketPath, handle)
