/** The approval methods on the router; each is a thin call into the service. */
import {CreateApproval, FetchApprovals, GetApproval, SendDecision, WaitForDecision} from '../../protocol/approvals.js'
import {type HandlerContext, type Router, schemasFrom} from '../rpc/router.js'
import type {Decider} from './deciders.js'
import type {ApprovalService} from './service.js'

/** Loaded (with zod) by the first call that validates with one of them. */
const schema = schemasFrom(() => import('../../protocol/approvals.schema.js'))

export function registerApprovalHandlers(router: Router, approvals: ApprovalService): void {
  router
    .register(CreateApproval, schema('CreateApprovalParams'), (params) => approvals.create(params))
    .register(GetApproval, schema('GetApprovalParams'), (params) => ({approval: approvals.get(params.approval_id)}))
    .register(FetchApprovals, schema('FetchApprovalsParams'), (params) => approvals.fetch(params))
    .register(SendDecision, schema('SendDecisionParams'), async ({channel, decider, ...params}, ctx) => ({
      success: true as const,
      approval: await approvals.decide(params, deciderOf(ctx, channel, decider)),
    }))
    .register(WaitForDecision, schema('WaitForDecisionParams'), (params, ctx) => approvals.waitForDecision(params, ctx.signal))
}

/**
 * Who sent a decision. Through `hld daemon dial-stdio` (a connection that began with
 * connectionOrigin) it came over ssh: the peer is dial-stdio, and what the CLI over there says of
 * itself is kept with it. Otherwise the kernel's peer says who, and what a client says is not kept.
 */
function deciderOf(ctx: HandlerContext, channel: 'cli' | 'rpc' | undefined, said: {user?: string; host?: string} | undefined): Decider {
  const {origin} = ctx.connection
  if (!origin) return {channel: channel ?? 'rpc', peer: ctx.peer}
  return {
    channel: 'ssh',
    peer: ctx.peer,
    remote: {...said, ...(origin.ssh_connection === undefined ? {} : {ssh_connection: origin.ssh_connection})},
  }
}
