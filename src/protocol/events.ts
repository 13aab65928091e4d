/**
 * Events pushed to subscribers, with the Go hld's type names and `data` keys (its hld/bus;
 * docs/events.md lists them). `id` is our addition: a monotonic number from the durable
 * event log, which lets a subscriber resume with `since` and lose nothing.
 */
import type {DecisionProvenance} from './approvals.js'

export interface EventDataMap {
  new_approval: {
    approval_id: string
    session_id: string | null
    run_id: string | null
    tool_name: string
    source?: 'local' | 'cloud'
    /** Cloud-era key; a human contact carries its question in `message` and an empty tool_name. */
    type?: 'function_call' | 'human_contact'
    message?: string
  }
  approval_resolved: {
    approval_id: string
    session_id: string | null
    run_id?: string | null
    approved: boolean
    response_text: string
    tool_use_id?: string
    status?: string
    type?: 'function_call' | 'human_contact'
    /** Cloud-era key: answered in Slack, email or the web app, not through hld. */
    resolved_externally?: boolean
    /** Who decided (see DecisionProvenance); absent for an approval that expired. */
    decided_by?: DecisionProvenance
  }
  session_status_changed: {
    session_id: string
    run_id?: string
    old_status: string
    new_status: string
    parent_session_id?: string
    error?: string
    /** Set when the title changed (old_status equals new_status then). */
    title?: string
  }
  conversation_updated: {
    session_id: string
    run_id?: string
    claude_session_id: string
    event_type: 'message' | 'tool_call' | 'tool_result' | 'thinking' | 'system'
    content_type: 'text' | 'tool_use' | 'tool_result' | 'thinking' | 'system'
    parent_tool_use_id?: string | null
    role?: string
    content?: string
    tool_id?: string
    tool_name?: string
    tool_input?: unknown
    tool_result_for_id?: string
    tool_result_content?: string
    subtype?: string
  }
  /** Published when updateSessionSettings changes a session's settings, or skip-permissions expires. */
  session_settings_changed: {
    session_id: string
    run_id?: string
    event_type: 'settings_updated'
    auto_accept_edits?: boolean
    dangerously_skip_permissions?: boolean
    dangerously_skip_permissions_timeout_ms?: number
    /** `expired` when skip-permissions ran out. */
    reason?: string
    expired_at?: string
  }
}

export type EventType = keyof EventDataMap

export const EVENT_TYPES = [
  'new_approval',
  'approval_resolved',
  'session_status_changed',
  'conversation_updated',
  'session_settings_changed',
] as const satisfies readonly EventType[]

export type DaemonEvent = {
  [K in EventType]: {id: number; type: K; timestamp: string; data: EventDataMap[K]}
}[EventType]

/** What a service hands the bus; the bus assigns `id` and `timestamp`. */
export type NewEvent = {[K in EventType]: {type: K; data: EventDataMap[K]}}[EventType]
