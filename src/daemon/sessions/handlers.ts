/** The session methods on the router; each is one call into the service. */
import {
  ArchiveSession,
  BulkArchiveSessions,
  ContinueSession,
  GetConversation,
  GetRecentPaths,
  GetSessionLeaves,
  GetSessionSnapshots,
  GetSessionState,
  InterruptSession,
  LaunchSession,
  ListSessions,
  UpdateSessionSettings,
  UpdateSessionTitle,
} from '../../protocol/sessions.js'
import type {Decider} from '../approvals/deciders.js'
import {type Router, schemasFrom} from '../rpc/router.js'
import type {SessionService} from './service.js'

/** Loaded (with zod) by the first call that validates with one of them. */
const schema = schemasFrom(() => import('../../protocol/sessions.schema.js'))

/** Refuses (throws Forbidden) a decider from inside a session's process tree; see approvals/deciders.ts. */
export type AdmitDecider = (by: Decider, subject: string) => unknown

export function registerSessionHandlers(router: Router, sessions: SessionService, admit: AdmitDecider): void {
  router
    .register(LaunchSession, schema('LaunchSessionParams'), (params, ctx) => {
      admitApprovingSettings(admit, {channel: 'rpc', peer: ctx.peer}, params, 'a new session')
      return sessions.launch(params)
    })
    .register(ListSessions, schema('ListSessionsParams'), (params) => sessions.list(params))
    .register(GetSessionState, schema('GetSessionStateParams'), (params) => ({session: sessions.state(params.session_id)}))
    .register(GetConversation, schema('GetConversationParams'), (params) => sessions.conversation(params))
    .register(ContinueSession, schema('ContinueSessionParams'), (params) => sessions.continue(params))
    .register(InterruptSession, schema('InterruptSessionParams'), (params) => sessions.interrupt(params.session_id))
    .register(GetSessionLeaves, schema('GetSessionLeavesParams'), (params) => sessions.leaves(params.filter))
    .register(GetSessionSnapshots, schema('GetSessionSnapshotsParams'), (params) => sessions.snapshots(params.session_id))
    .register(UpdateSessionSettings, schema('UpdateSessionSettingsParams'), (params, ctx) => {
      admitApprovingSettings(admit, {channel: 'rpc', peer: ctx.peer}, params, `the settings of session ${params.session_id}`)
      return sessions.updateSettings(params)
    })
    .register(UpdateSessionTitle, schema('UpdateSessionTitleParams'), (params) => sessions.setTitle(params.session_id, params.title))
    .register(GetRecentPaths, schema('GetRecentPathsParams'), (params) => sessions.recentPaths(params.limit))
    // One id: an unknown one is an error (resolve throws not found); bulk lists failed ids instead.
    .register(ArchiveSession, schema('ArchiveSessionParams'), (params) => {
      sessions.archive([sessions.resolve(params.session_id).id], params.archived)
      return {success: true as const}
    })
    .register(BulkArchiveSessions, schema('BulkArchiveSessionsParams'), (params) => sessions.archive(params.session_ids, params.archived))
}

/**
 * Settings that approve without asking (auto_accept_edits, dangerously_skip_permissions) are
 * decisions too, ahead of time: an agent must not give them to itself or to a session it
 * launches. Turning them off is always allowed.
 */
export function admitApprovingSettings(
  admit: AdmitDecider,
  by: Decider,
  params: {auto_accept_edits?: boolean; dangerously_skip_permissions?: boolean},
  subject: string,
): void {
  if (params.auto_accept_edits === true || params.dangerously_skip_permissions === true) admit(by, subject)
}
