/**
 * Seeds a daemon's database file before the daemon starts: one transaction of prepared
 * inserts per table, through `openStore` so the schema is the migrated one. Rows look like
 * what a daemon writes (ended sessions, a long conversation, decided approvals). Pending approvals
 * cannot be seeded: at start the daemon expires those whose session is not running, and no
 * seeded session is (it marks sessions a previous daemon left active as failed).
 */
import {randomUUID} from 'node:crypto'

import {openStore} from '../../src/daemon/store/index.js'

export interface SeedPlan {
  /** Ended sessions; the first one carries the conversation. */
  sessions: number
  conversationEvents: number
  /** Approved approvals, spread over the sessions. */
  decidedApprovals: number
}

export interface Seeded {
  /** The session holding the conversation. */
  conversationSessionId: string
  ms: {sessions: number; conversation: number; approvals: number}
}

const TOOL_INPUT = JSON.stringify({command: 'touch marker.txt', description: 'Create marker'})

export function seedDatabase(file: string, plan: SeedPlan): Seeded {
  const store = openStore(file)
  const {sqlite} = store
  const start = Date.now() - plan.sessions * 1000
  const sessionIds = Array.from({length: plan.sessions}, () => randomUUID())
  const timed = (work: () => void): number => {
    const t = performance.now()
    sqlite.transaction(work)()
    return performance.now() - t
  }
  try {
    const insertSession = sqlite.prepare(
      `INSERT INTO sessions (id, run_id, claude_session_id, status, query, summary, title, model, working_dir, approvals_enabled,
         created_at, last_activity_at, completed_at, cost_usd, input_tokens, output_tokens, duration_ms, num_turns, result_content)
       VALUES (?, ?, ?, 'completed', ?, ?, '', 'sonnet', '/home/user/project', 1, ?, ?, ?, 0.0123, 1200, 340, 8200, 3, 'Done.')`,
    )
    const sessions = timed(() => {
      for (const [i, id] of sessionIds.entries()) {
        const query = `Fix the failing test in module ${i} and explain the cause`
        const at = start + i * 1000
        insertSession.run(id, `run-${id}`, randomUUID(), query, query.slice(0, 50), at, at + 900, at + 900)
      }
    })

    const conversationSessionId = sessionIds[0]
    const insertEvent = sqlite.prepare(
      `INSERT INTO conversation_events (session_id, claude_session_id, sequence, event_type, created_at, role, content,
         tool_id, tool_name, tool_input_json, tool_result_for_id, tool_result_content, is_completed)
       VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    // A repeating turn: the assistant says something, calls a tool, and gets its result.
    const conversation = timed(() => {
      for (let i = 0; i < plan.conversationEvents; i++) {
        const tool = `toolu_${Math.floor(i / 3)}`
        const at = start + i
        if (i % 3 === 0)
          insertEvent.run(
            conversationSessionId,
            i + 1,
            'message',
            at,
            'assistant',
            `Step ${i}: looking at the next file.`,
            null,
            null,
            null,
            null,
            null,
            0,
          )
        else if (i % 3 === 1)
          insertEvent.run(conversationSessionId, i + 1, 'tool_call', at, 'assistant', null, tool, 'Bash', TOOL_INPUT, null, null, 1)
        else insertEvent.run(conversationSessionId, i + 1, 'tool_result', at, 'user', null, null, null, null, tool, 'ok', 0)
      }
    })

    const insertApproval = sqlite.prepare(
      `INSERT INTO approvals (id, source, type, run_id, session_id, tool_use_id, tool_name, tool_input, status, comment, created_at, decided_at)
       VALUES (?, 'local', 'function_call', ?, ?, ?, 'Bash', ?, 'approved', 'ok', ?, ?)`,
    )
    const approvals = timed(() => {
      for (let i = 0; i < plan.decidedApprovals; i++) {
        const sessionId = sessionIds[i % sessionIds.length]
        insertApproval.run(`local-${randomUUID()}`, `run-${sessionId}`, sessionId, `toolu_${i}`, TOOL_INPUT, start + i, start + i + 1)
      }
    })
    return {conversationSessionId, ms: {sessions, conversation, approvals}}
  } finally {
    store.close()
  }
}
