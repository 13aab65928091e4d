import {z} from 'zod'

import {CreateApproval, FetchApprovals, GetApproval, SendDecision, WaitForDecision} from './approvals.js'
import type {MethodSpec} from './methods.schema.js'

/** An approval id, or a unique prefix of one (`local-` may be left out). */
const approvalId = z.string().trim().min(1, 'approval_id is required')

export const CreateApprovalParams = z.object({
  run_id: z.string().min(1, 'run_id is required'),
  tool_name: z.string().min(1, 'tool_name is required'),
  // Any JSON value, as hld; `undefined` (a missing key) is the one thing refused.
  tool_input: z.unknown().refine((value) => value !== undefined, 'tool_input is required'),
  tool_use_id: z.string().min(1).optional(),
})

export const GetApprovalParams = z.object({approval_id: approvalId})

export const FetchApprovalsParams = z.object({
  session_id: z.string().min(1).optional(),
  /** Also list decided approvals, newest first, up to `limit` of them. */
  include_decided: z.boolean().optional(),
  limit: z.number().int().min(1).max(10_000).optional(),
  /** Ours: the `next_cursor` of the previous page (with the same other params); none for the first page. */
  cursor: z.string().min(1).max(4096).optional(),
})

export const SendDecisionParams = z
  .object({
    approval_id: approvalId,
    decision: z.enum(['approve', 'deny', 'respond']),
    comment: z.string().optional(),
    response: z.string().optional(),
    /** `cli` from the hld CLI; a label for the record only, it grants nothing. */
    channel: z.enum(['cli', 'rpc']).optional(),
    /**
     * Who the CLI runs as, on its own machine: recorded when the decision came over ssh (the
     * daemon cannot see that machine). A label for the record only, it grants nothing.
     */
    decider: z
      .object({user: z.string().max(256).optional(), host: z.string().max(256).optional()})
      .strict()
      .optional(),
  })
  .superRefine((params, ctx) => {
    if (params.decision === 'deny' && !params.comment?.trim()) {
      ctx.addIssue({code: 'custom', path: ['comment'], message: 'comment is required for deny: say why, the agent reads it'})
    }
    if (params.decision === 'respond' && !params.response?.trim()) {
      ctx.addIssue({code: 'custom', path: ['response'], message: 'response is required for respond'})
    }
  })

export const WaitForDecisionParams = z.object({
  approval_id: approvalId,
  timeout_ms: z.number().int().min(0).max(3_600_000).optional(),
})

export const APPROVALS_METHODS: MethodSpec[] = [
  {method: CreateApproval, params: CreateApprovalParams},
  {method: GetApproval, params: GetApprovalParams},
  {method: FetchApprovals, params: FetchApprovalsParams},
  {method: SendDecision, params: SendDecisionParams},
  {method: WaitForDecision, params: WaitForDecisionParams},
]
