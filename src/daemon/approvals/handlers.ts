/** The approval methods on the router; each is a thin call into the service. */
import {CreateApproval, FetchApprovals, GetApproval, SendDecision, WaitForDecision} from '../../protocol/approvals.js'
import * as schema from '../../protocol/approvals.schema.js'
import type {Router} from '../rpc/router.js'
import type {ApprovalService} from './service.js'

export function registerApprovalHandlers(router: Router, approvals: ApprovalService): void {
  router
    .register(CreateApproval, schema.CreateApprovalParams, (params) => approvals.create(params))
    .register(GetApproval, schema.GetApprovalParams, (params) => ({approval: approvals.get(params.approval_id)}))
    .register(FetchApprovals, schema.FetchApprovalsParams, (params) => approvals.fetch(params))
    .register(SendDecision, schema.SendDecisionParams, async ({channel, ...params}, ctx) => ({
      success: true as const,
      approval: await approvals.decide(params, {channel: channel ?? 'rpc', peer: ctx.peer}),
    }))
    .register(WaitForDecision, schema.WaitForDecisionParams, (params, ctx) => approvals.waitForDecision(params, ctx.signal))
}
