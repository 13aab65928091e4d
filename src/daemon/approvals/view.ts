/**
 * Approvals as the wire shows them: rows mapped to `Approval`, with their session's context,
 * and the pending ones kept ready (encoded) so fetchApprovals reads no approval rows however
 * large the table grows.
 */
import type {Approval, ApprovalSession, DecisionProvenance} from '../../protocol/approvals.js'
import {capText, truncatedToolInput} from '../capped.js'
import type {ApprovalRow} from '../store/schema/approvals.js'
import type {SessionLink} from './session-link.js'

type WireApproval = Omit<Approval, 'session'>

/**
 * The wire shape of a row, minus session context; keys without a value are left out, as hld does.
 * Unless `whole`, a model-made field over MAX_LISTED_BYTES is cut, with a marker (see capped.ts).
 */
function wireOf(row: ApprovalRow, whole = false): WireApproval {
  const where = `getApproval (hld approvals show ${row.id})`
  const wire: WireApproval = {
    id: row.id,
    source: row.source,
    type: row.type,
    run_id: row.runId,
    session_id: row.sessionId,
    status: row.status,
    created_at: new Date(row.createdAt).toISOString(),
    unassociated: row.sessionId === null,
  }
  if (row.toolUseId !== null) wire.tool_use_id = row.toolUseId
  if (row.toolName !== null) wire.tool_name = whole ? row.toolName : capText(row.toolName, where)
  if (row.toolInput !== null) {
    const truncated = whole ? undefined : truncatedToolInput(row.toolInput, where)
    wire.tool_input = truncated ?? (JSON.parse(row.toolInput) as unknown)
    if (truncated) wire.tool_input_truncated = true
  }
  if (row.message !== null) wire.message = whole ? row.message : capText(row.message, where)
  // One column holds a contact's answer or a reviewer's comment (or why it expired).
  if (row.comment !== null) {
    if (row.type === 'human_contact' && row.status !== 'expired') wire.response = row.comment
    else wire.comment = row.comment
  }
  if (row.decidedAt !== null) wire.decided_at = wire.responded_at = new Date(row.decidedAt).toISOString()
  if (row.decidedBy !== null) wire.decided_by = JSON.parse(row.decidedBy) as DecisionProvenance
  return wire
}

interface SessionContext {
  session: ApprovalSession | null
  /** Changes whenever what approvals show of the session changes. */
  key: string
}

const NO_SESSION: SessionContext = {session: null, key: ''}

/** Session contexts for one call: each session is looked up once, however many approvals it has. */
export class SessionContexts {
  private readonly byId = new Map<string, SessionContext>()

  constructor(private readonly sessions: SessionLink) {}

  of(sessionId: string | null): SessionContext {
    if (sessionId === null) return NO_SESSION
    let context = this.byId.get(sessionId)
    if (!context) {
      const ref = this.sessions.findById(sessionId)
      const session = ref ? {id: ref.id, title: ref.title, summary: ref.summary, status: ref.status} : null
      context = {session, key: session ? `${session.title}\u0000${session.summary}\u0000${session.status}` : ''}
      this.byId.set(sessionId, context)
    }
    return context
  }
}

/** An approval as the wire shows it: capped as in lists, or `whole` (getApproval). */
export function viewOf(row: ApprovalRow, contexts: SessionContexts, whole = false): Approval {
  return {...wireOf(row, whole), session: contexts.of(row.sessionId).session}
}

interface PendingEntry {
  row: ApprovalRow
  wire: WireApproval
  /** The last listing's JSON of this approval, its UTF-8 size, and the session context it was built with. */
  encoded?: {json: string; bytes: number; contextKey: string}
}

/** Pending approvals as JSON: how many, and their members joined by commas (no brackets). */
export interface EncodedList {
  count: number
  members: string
  /** Set when more come after these (the page was full): the last one listed. */
  last?: ListPosition
}

/** The last approval of a page: the next page starts after it. */
export interface ListPosition {
  createdAt: number
  id: string
}

/** The pending approvals, in wire shape. The service adds and removes rows right after the store accepted the change. */
export class PendingApprovals {
  private readonly entries = new Map<string, PendingEntry>()
  /** Bumped by every add and delete: what the caches below were built from. */
  private version = 0
  private sorted: {version: number; entries: PendingEntry[]} | undefined
  private joined: {version: number; sessionId: string | undefined; members: string} | undefined

  add(row: ApprovalRow): void {
    this.entries.set(row.id, {row, wire: wireOf(row)})
    this.version++
  }

  delete(id: string): void {
    if (this.entries.delete(id)) this.version++
  }

  /**
   * Oldest first (in creation order), all of them or one session's: those after `from`, up to
   * `maxBytes` of JSON (at least one). A listing is mostly encoding, so each approval's JSON is
   * kept and rebuilt only when its session's context changed, and a whole list is reused while no
   * approval came, went or was rebuilt.
   */
  listEncoded(sessionId: string | undefined, contexts: SessionContexts, from: ListPosition | undefined, maxBytes: number): EncodedList {
    if (this.sorted?.version !== this.version) {
      // Stable: approvals of one millisecond stay in the order they were added (created).
      this.sorted = {version: this.version, entries: [...this.entries.values()].sort((a, b) => a.row.createdAt - b.row.createdAt)}
    }
    const {entries} = this.sorted
    let start = 0
    if (from) {
      // After `from` itself when it is still pending; decided since, after its time (those of its
      // very millisecond may then come again: a client pages by id).
      const at = this.entries.has(from.id) ? entries.findIndex((entry) => entry.row.id === from.id) + 1 : 0
      start = at > 0 ? at : entries.findIndex((entry) => entry.row.createdAt >= from.createdAt)
      if (start < 0) start = entries.length
    }
    let rebuilt = false
    let bytes = 0
    let listed: ApprovalRow | undefined
    let full = false
    const parts: string[] = []
    for (let i = start; i < entries.length; i++) {
      const entry = entries[i]
      if (sessionId !== undefined && entry.row.sessionId !== sessionId) continue
      const context = contexts.of(entry.row.sessionId)
      if (entry.encoded?.contextKey !== context.key) {
        const json = JSON.stringify({...entry.wire, session: context.session})
        entry.encoded = {json, bytes: Buffer.byteLength(json), contextKey: context.key}
        rebuilt = true
      }
      const {json, bytes: size} = entry.encoded
      if (listed && bytes + size + 1 > maxBytes) {
        full = true
        break
      }
      parts.push(json)
      bytes += size + 1
      listed = entry.row
    }
    if (full) return {count: parts.length, members: parts.join(','), last: {createdAt: listed!.createdAt, id: listed!.id}}
    if (from) return {count: parts.length, members: parts.join(',')}
    if (rebuilt || this.joined?.version !== this.version || this.joined.sessionId !== sessionId) {
      this.joined = {version: this.version, sessionId, members: parts.join(',')}
    }
    return {count: parts.length, members: this.joined.members}
  }
}
