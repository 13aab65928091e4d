/** The session methods on the router; each is one call into the service. */
import {
  ContinueSession,
  GetConversation,
  GetSessionState,
  InterruptSession,
  LaunchSession,
  ListSessions,
} from '../../protocol/sessions.js'
import * as schema from '../../protocol/sessions.schema.js'
import type {Router} from '../rpc/router.js'
import type {SessionService} from './service.js'

export function registerSessionHandlers(router: Router, sessions: SessionService): void {
  router
    .register(LaunchSession, schema.LaunchSessionParams, (params) => sessions.launch(params))
    .register(ListSessions, schema.ListSessionsParams, (params) => sessions.list(params))
    .register(GetSessionState, schema.GetSessionStateParams, (params) => ({session: sessions.state(params.session_id)}))
    .register(GetConversation, schema.GetConversationParams, (params) => sessions.conversation(params))
    .register(ContinueSession, schema.ContinueSessionParams, (params) => sessions.continue(params))
    .register(InterruptSession, schema.InterruptSessionParams, (params) => sessions.interrupt(params.session_id))
}
