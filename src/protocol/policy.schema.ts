import {z} from 'zod'

import type {MethodSpec} from './methods.schema.js'
import {CheckPolicy, DecideToolUse, GetPolicy, ListAudit, ReplayPolicy} from './policy.js'

const sessionId = z.string().trim().min(1, 'session_id is required')
const toolInput = z.unknown().refine((value) => value !== undefined, 'tool_input is required')

export const DecideToolUseParams = z.object({
  run_id: z.string().min(1, 'run_id is required'),
  tool_name: z.string().min(1, 'tool_name is required'),
  tool_input: toolInput,
  tool_use_id: z.string().min(1).optional(),
  /** claude's working directory when it made the call. */
  cwd: z.string().min(1).optional(),
})

export const GetPolicyParams = z.object({session_id: sessionId.optional()})

export const CheckPolicyParams = z.object({
  tool_name: z.string().min(1, 'tool_name is required'),
  tool_input: toolInput,
  session_id: sessionId.optional(),
  /** Where relative paths resolve when no session is given; the CLI sends its own directory. */
  working_dir: z.string().min(1).optional(),
})

const since = z.number().int().nonnegative().optional()

export const ListAuditParams = z.object({
  session_id: sessionId.optional(),
  /** Only entries decided at or after this time (ms since the epoch). */
  since_ms: since,
  limit: z.number().int().min(1).max(100_000).optional(),
})

export const ReplayPolicyParams = z.object({session_id: sessionId.optional(), since_ms: since})

export const POLICY_METHODS: MethodSpec[] = [
  {method: DecideToolUse, params: DecideToolUseParams},
  {method: GetPolicy, params: GetPolicyParams},
  {method: CheckPolicy, params: CheckPolicyParams},
  {method: ListAudit, params: ListAuditParams},
  {method: ReplayPolicy, params: ReplayPolicyParams},
]
