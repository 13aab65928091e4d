/**
 * The REST operations (operationIds of the Go hld's OpenAPI document), each one call into the
 * same services the JSON-RPC handlers use, with the same zod params schemas; this file only
 * maps REST paths, bodies and status codes onto them and wraps results in `{data: …}`.
 */
import type {z} from 'zod'

import type {Approval} from '../../protocol/approvals.js'
import * as approvalSchema from '../../protocol/approvals.schema.js'
import {ErrorCode, RpcError} from '../../protocol/errors.js'
import type {LeavesFilter} from '../../protocol/sessions.js'
import * as sessionSchema from '../../protocol/sessions.schema.js'
import {invalidParams} from '../rpc/router.js'
import type {ApprovalService} from '../approvals/service.js'
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
 * tool_input an object); hld's own status and keys stay beside it.
 */
export function restApproval(approval: Approval): Record<string, unknown> {
  const goStatus = approval.status === 'pending' ? 'pending' : approval.status === 'approved' || approval.status === 'responded' ? 'approved' : 'denied'
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

export function restOperations({sessions, approvals, version}: RestServices): Record<string, Operation> {
  const session = (id: string) => sessions.state(id)
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

    createSession: async ({body}) => {
      if ((body as {draft?: unknown}).draft === true) throw new RpcError(ErrorCode.InvalidParams, 'Draft sessions are not supported by hld; launch it instead.')
      const params = parse(sessionSchema.LaunchSessionParams, 'createSession', body)
      return ok(await sessions.launch(params), 201)
    },

    // Leaves by default, as in Go; `filter` was checked against the document's enum.
    listSessions: ({query}) => {
      const filter = query.filter as LeavesFilter | undefined
      const archived = filter === 'normal' ? false : filter === 'archived' ? true : undefined
      const data =
        query.leavesOnly === 'false' ? (filter === 'draft' ? [] : sessions.list({archived}).sessions) : sessions.leaves(filter).sessions
      const count = (archived: boolean) => sessions.list({archived, limit: 1}).total ?? 0
      return {status: 200, body: {data, counts: {normal: count(false), archived: count(true), draft: 0}}}
    },

    getSession: ({params}) => ok(session(params.id)),

    updateSession: ({params, body}) => {
      const id = sessions.resolve(params.id).id
      const update = body as Record<string, unknown>
      const supported = new Set(['auto_accept_edits', 'dangerously_skip_permissions', 'dangerously_skip_permissions_timeout_ms', 'archived', 'title'])
      const other = Object.keys(update).filter((key) => !supported.has(key))
      if (other.length > 0) throw new RpcError(ErrorCode.InvalidParams, `hld cannot change ${other.join(', ')} of a session; it changes ${[...supported].join(', ')}.`)
      if (update.title !== undefined) {
        const {title} = parse(sessionSchema.UpdateSessionTitleParams, 'updateSession', {session_id: id, title: update.title})
        sessions.setTitle(id, title)
      }
      if (update.archived !== undefined) sessions.archive([id], parse(sessionSchema.ArchiveSessionParams, 'updateSession', {session_id: id, archived: update.archived}).archived)
      if (update.auto_accept_edits !== undefined || update.dangerously_skip_permissions !== undefined) {
        const timeout = update.dangerously_skip_permissions_timeout_ms ?? undefined
        sessions.updateSettings(
          parse(sessionSchema.UpdateSessionSettingsParams, 'updateSession', {
            session_id: id,
            auto_accept_edits: update.auto_accept_edits,
            dangerously_skip_permissions: update.dangerously_skip_permissions,
            dangerously_skip_permissions_timeout_ms: timeout,
          }),
        )
      }
      return ok(session(id))
    },

    continueSession: async ({params, body}) =>
      ok(await sessions.continue(parse(sessionSchema.ContinueSessionParams, 'continueSession', {...(body as object), session_id: params.id})), 201),

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
      const {approvals: list} = approvals.fetch({session_id: sessionId}).value()
      return ok(list.map(restApproval))
    },

    getApproval: ({params}) => ok(restApproval(approvals.get(params.id))),

    decideApproval: async ({params, body}) => {
      const decision = parse(approvalSchema.SendDecisionParams, 'decideApproval', {...(body as object), approval_id: params.id})
      await approvals.decide(decision)
      return ok({success: true})
    },
  }
}
