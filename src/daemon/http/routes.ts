/**
 * The REST operations (operationIds of the Go hld's OpenAPI document), each one call into the
 * same services the JSON-RPC handlers use, with the same zod params schemas; this file only
 * maps REST paths, bodies and status codes onto them and wraps results in `{data: …}`.
 */
import type {z} from 'zod'

import type {Approval} from '../../protocol/approvals.js'
import * as approvalSchema from '../../protocol/approvals.schema.js'
import {ErrorCode, RpcError} from '../../protocol/errors.js'
import type {LeavesFilter, Session, SessionStatus} from '../../protocol/sessions.js'
import * as sessionSchema from '../../protocol/sessions.schema.js'
import {invalidParams} from '../rpc/router.js'
import type {Decider} from '../approvals/deciders.js'
import type {ApprovalService} from '../approvals/service.js'
import type {Peer} from '../../shared/peer.js'
import {type AdmitDecider, admitApprovingSettings} from '../sessions/handlers.js'
import type {SessionService} from '../sessions/service.js'

export interface RestServices {
  sessions: SessionService
  approvals: ApprovalService
  version: string
}

/** What an operation gets: path params, query, body, all as the request sent them. */
export interface RestRequest {
  params: Record<string, string>
  query: Record<string, string | string[] | undefined>
  body: unknown
  /**
   * Every process holding the client's end of the connection, from the kernel (see peer.ts);
   * empty when it cannot tell. Computed on demand: only decisions and settings ask.
   */
  peers: () => Peer[]
}

export interface RestResponse {
  status: number
  body: unknown
}

export type Operation = (request: RestRequest) => RestResponse | Promise<RestResponse>

const ok = (data: unknown, status = 200): RestResponse => ({status, body: {data}})

/** Our params schema over a REST body: the same validation (and messages) as over the socket. */
function parse<S extends z.ZodType>(schema: S, name: string, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw invalidParams(name, parsed.error)
  return parsed.data
}

/**
 * An approval in the Go shape (status pending | approved | denied, session_id a string,
 * tool_input an object); hld's own status and keys stay beside it. Statuses Go lacks become the
 * outcome the tool call got: `responded` and a timeout whose verdict was allow are approved;
 * `expired`, `resolved_externally` and other timeouts are denied (the tool did not run here).
 */
export function restApproval(approval: Approval): Record<string, unknown> {
  const allowed =
    approval.status === 'approved' ||
    approval.status === 'responded' ||
    (approval.status === 'timed_out' && approval.decided_by?.verdict === 'allow')
  const goStatus = approval.status === 'pending' ? 'pending' : allowed ? 'approved' : 'denied'
  const input = approval.tool_input
  return {
    ...approval,
    session_id: approval.session_id ?? '',
    status: goStatus,
    hld_status: approval.status,
    tool_name: approval.tool_name ?? '',
    tool_input: typeof input === 'object' && input !== null && !Array.isArray(input) ? input : {value: input ?? null},
  }
}

/**
 * hld's session statuses the document's SessionStatus enum lacks, as the Go status a client
 * should act on; hld's own stays in `hld_status`. `queued` (a launch waiting for a slot under
 * max_concurrent_sessions) has not started yet.
 */
const REST_SESSION_STATUS: Partial<Record<string, SessionStatus>> = {queued: 'starting'}
/** The document's SessionStatus enum (the Go hld's statuses). */
const GO_SESSION_STATUSES: ReadonlySet<string> = new Set([
  'draft',
  'starting',
  'running',
  'completed',
  'failed',
  'interrupting',
  'interrupted',
  'waiting_input',
  'discarded',
])

export function restSession(session: Session): Session & {hld_status?: string} {
  const status: string = session.status
  if (GO_SESSION_STATUSES.has(status)) return session
  return {...session, status: REST_SESSION_STATUS[status] ?? 'running', hld_status: status}
}

export function restOperations({sessions, approvals, version}: RestServices): Record<string, Operation> {
  const session = (id: string) => restSession(sessions.state(id))
  return {
    getHealth: () => {
      const claude = sessions.claudeHealth()
      return {
        status: 200,
        body: {
          status: claude.available ? 'ok' : 'degraded',
          version,
          dependencies: {claude: claude.available ? {available: true, path: claude.detail} : {available: false, error: claude.detail}},
        },
      }
    },

    createSession: async ({body, peers}) => {
      if ((body as {draft?: unknown}).draft === true)
        throw new RpcError(ErrorCode.InvalidParams, 'Draft sessions are not supported by hld; launch it instead.')
      const params = parse(sessionSchema.LaunchSessionParams, 'createSession', body)
      admitApprovingSettings(admitEvery(approvals, peers()), {channel: 'rest', peer: null}, params, 'a new session')
      return ok(await sessions.launch(params), 201)
    },

    // Leaves by default, as in Go; `filter` was checked against the document's enum.
    listSessions: ({query}) => {
      const filter = query.filter as LeavesFilter | undefined
      const archived = filter === 'normal' ? false : filter === 'archived' ? true : undefined
      const data = (
        query.leavesOnly === 'false' ? (filter === 'draft' ? [] : sessions.list({archived}).sessions) : sessions.leaves(filter).sessions
      ).map(restSession)
      const count = (archived: boolean) => sessions.list({archived, limit: 1}).total ?? 0
      return {status: 200, body: {data, counts: {normal: count(false), archived: count(true), draft: 0}}}
    },

    getSession: ({params}) => ok(session(params.id)),

    updateSession: ({params, body, peers}) => {
      const id = sessions.resolve(params.id).id
      const update = body as Record<string, unknown>
      const supported = new Set([
        'auto_accept_edits',
        'dangerously_skip_permissions',
        'dangerously_skip_permissions_timeout_ms',
        'archived',
        'title',
      ])
      const other = Object.keys(update).filter((key) => !supported.has(key))
      if (other.length > 0)
        throw new RpcError(
          ErrorCode.InvalidParams,
          `hld cannot change ${other.join(', ')} of a session; it changes ${[...supported].join(', ')}.`,
        )
      if (update.title !== undefined) {
        const {title} = parse(sessionSchema.UpdateSessionTitleParams, 'updateSession', {session_id: id, title: update.title})
        sessions.setTitle(id, title)
      }
      if (update.archived !== undefined)
        sessions.archive(
          [id],
          parse(sessionSchema.ArchiveSessionParams, 'updateSession', {session_id: id, archived: update.archived}).archived,
        )
      if (update.auto_accept_edits !== undefined || update.dangerously_skip_permissions !== undefined) {
        const timeout = update.dangerously_skip_permissions_timeout_ms ?? undefined
        const settings = parse(sessionSchema.UpdateSessionSettingsParams, 'updateSession', {
          session_id: id,
          auto_accept_edits: update.auto_accept_edits,
          dangerously_skip_permissions: update.dangerously_skip_permissions,
          dangerously_skip_permissions_timeout_ms: timeout,
        })
        admitApprovingSettings(admitEvery(approvals, peers()), {channel: 'rest', peer: null}, settings, `the settings of session ${id}`)
        sessions.updateSettings(settings)
      }
      return ok(session(id))
    },

    continueSession: async ({params, body}) =>
      ok(
        await sessions.continue(
          parse(sessionSchema.ContinueSessionParams, 'continueSession', {...(body as object), session_id: params.id}),
        ),
        201,
      ),

    interruptSession: ({params}) => ok(sessions.interrupt(params.id)),

    getSessionMessages: ({params}) => ok(sessions.conversation({session_id: params.id}).events),

    getSessionSnapshots: ({params}) => ok(sessions.snapshots(params.id).snapshots),

    bulkArchiveSessions: ({body}) => {
      const {session_ids: ids, archived} = parse(sessionSchema.BulkArchiveSessionsParams, 'bulkArchiveSessions', body)
      const result = sessions.archive(ids, archived)
      return ok(result, result.success ? 200 : 207)
    },

    getRecentPaths: ({query}) => {
      const limit = query.limit === undefined ? undefined : Number(query.limit)
      return ok(sessions.recentPaths(parse(sessionSchema.GetRecentPathsParams, 'getRecentPaths', {limit}).limit).paths)
    },

    createApproval: ({body}) => ok(approvals.create(parse(approvalSchema.CreateApprovalParams, 'createApproval', body)), 201),

    listApprovals: ({query}) => {
      const sessionId = typeof query.sessionId === 'string' && query.sessionId !== '' ? query.sessionId : undefined
      // The document's list has no pages: every page of ours, in one reply.
      const list: Approval[] = []
      for (let cursor: string | undefined, more = true; more;) {
        const page = approvals.fetch({session_id: sessionId, ...(cursor === undefined ? {} : {cursor})}).value()
        list.push(...page.approvals)
        cursor = page.next_cursor
        more = cursor !== undefined
      }
      return ok(list.map(restApproval))
    },

    getApproval: ({params}) => ok(restApproval(approvals.get(params.id))),

    decideApproval: async ({params, body, peers}) => {
      // A `channel` in the body is ignored: the decider's channel is `rest`.
      const decision = parse(approvalSchema.SendDecisionParams, 'decideApproval', {...(body as object), approval_id: params.id})
      await approvals.decide(decision, restDecider(approvals, peers(), decision.approval_id))
      return ok({success: true})
    },
  }
}

/**
 * The decider of a REST request, its channel `rest`. Every process holding the connection must
 * be outside the sessions (the others are checked here, the first by the decision itself); with
 * none found, the peer is null and the decision is refused as unverified, as over the socket.
 */
function restDecider(approvals: ApprovalService, peers: Peer[], subject: string): Decider {
  for (const peer of peers.slice(1)) approvals.admit({channel: 'rest', peer}, subject)
  return {channel: 'rest', peer: peers[0] ?? null}
}

/** Admits a REST request when every process holding its connection may decide (none found: unverified). */
function admitEvery(approvals: ApprovalService, peers: Peer[]): AdmitDecider {
  return (by, subject) => {
    for (const peer of peers.length > 0 ? peers : [null]) approvals.admit({...by, peer}, subject)
  }
}
