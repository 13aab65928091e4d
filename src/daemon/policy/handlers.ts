/** The policy methods on the router; each is a thin call into the service. */
import {CheckPolicy, DecideToolUse, GetPolicy, ListAudit, ReplayPolicy} from '../../protocol/policy.js'
import {ErrorCode, RpcError} from '../../protocol/errors.js'
import {type Router, schemasFrom} from '../rpc/router.js'
import type {PolicyService} from './service.js'
import {PolicyError} from './rules.js'

/** Loaded (with zod) by the first call that validates with one of them. */
const schema = schemasFrom(() => import('../../protocol/policy.schema.js'))

export function registerPolicyHandlers(router: Router, policy: PolicyService): void {
  router
    .register(DecideToolUse, schema('DecideToolUseParams'), (params, ctx) => policy.decide(params, ctx.signal))
    .register(GetPolicy, schema('GetPolicyParams'), (params) => explained(() => policy.show(params)))
    .register(CheckPolicy, schema('CheckPolicyParams'), (params) => explained(() => policy.check(params)))
    .register(ListAudit, schema('ListAuditParams'), (params) => policy.audit(params))
    .register(ReplayPolicy, schema('ReplayPolicyParams'), (params) => explained(() => policy.replay(params)))
}

/** A policy that does not load is the caller's to fix: a conflict with its message, not an internal error. */
function explained<T>(run: () => T): T {
  try {
    return run()
  } catch (error) {
    if (error instanceof PolicyError) throw new RpcError(ErrorCode.Conflict, error.message)
    throw error
  }
}
