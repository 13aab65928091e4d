/**
 * The decision service: every tool call a session's PreToolUse hook asks about is judged by the
 * session's policy (built-in › policy file › launch flags › default) and audited.
 *   allow / deny → answered at once;
 *   ask → an approval, created through the approvals service exactly as the MCP permission tool
 *         creates one (so the session shows waiting_input and every channel can decide it); the
 *         call waits for the human, or for the approval timeout and its default verdict.
 * Policy never writes the approvals' tables: it asks the approvals service.
 */
import {homedir} from 'node:os'

import type {Approval} from '../../protocol/approvals.js'
import {ErrorCode, RpcError} from '../../protocol/errors.js'
import type {
  AuditEntry,
  CheckPolicyResult,
  DecidedBy,
  DecideToolUseResult,
  GetPolicyResult,
  ListAuditResult,
  PolicyRuleView,
  ReplayPolicyResult,
} from '../../protocol/policy.js'
import {formatDuration} from '../../shared/duration.js'
import {type ApprovalService, runNow} from '../approvals/service.js'
import type {AutoApproval} from '../approvals/session-link.js'
import type {Logger} from '../../shared/logger.js'
import type {Db} from '../store/index.js'
import {resolvePrefix} from '../store/prefix.js'
import type {AuditRow, SessionPolicyRow} from '../store/schema/policy.js'
import {builtInRules, type HldPaths} from './built-in.js'
import {type PolicyDocument, PolicyFile} from './file.js'
import {hookSettings} from './hook-settings.js'
import {DEFAULT_ALLOWED_TOOLS, type Judgement, Policy, type RuleSpec, type TimeoutVerdict} from './policy.js'
import {PolicyRepository} from './repository.js'
import {type Effect, parseRule, PolicyError} from './rules.js'

/** What a launch (or continue) says about a session's policy. */
export interface SessionPolicyParams {
  allow?: string[]
  ask?: string[]
  deny?: string[]
  approval_timeout_ms?: number
  on_timeout?: TimeoutVerdict
  dangerously_allow_self_approval?: boolean
}

export interface SessionToPrepare {
  id: string
  runId: string
  workingDir: string
  parentId?: string
  approvalsEnabled: boolean
}

/** What the sessions service needs of policy. */
export interface SessionPolicyLink {
  prepareSession(session: SessionToPrepare, params: SessionPolicyParams): object
}

export interface PolicyServiceDeps {
  db: Db
  approvals: ApprovalService
  log: Logger
  paths: HldPaths
  policyFile: string
  /** What the hook is told: where the daemon is, and how long to try reaching it. */
  socketPath: string
  reconnectMs: number
  /**
   * An api_key is configured: approvals live in the HumanLayer API, created there by each
   * session's approvals MCP server. An ask is then handed back to claude, whose permission
   * prompt tool asks the API, exactly as without a policy.
   */
  cloud?: boolean
  /**
   * Store.write: `decide` takes the write lock itself (decideToolUse runs outside the router's
   * gate), choosing each write's durability; default: at once.
   */
  write?: <T>(work: () => T, options?: {durable?: boolean}) => Promise<T>
  home?: string
  /** A session's settings (updateSessionSettings) that add rules to its policy. */
  sessionSettings?: (sessionId: string) => SessionPolicySettings | undefined
}

export interface SessionPolicySettings {
  auto_accept_edits: boolean
  /** On and not expired. */
  dangerously_skip_permissions: boolean
}

/**
 * A session's settings are allow rules of its policy, below its deny and ask rules as Claude
 * Code's permission modes are: a deny rule blocks in every mode, and an explicit ask rule asks
 * even in acceptEdits or bypassPermissions mode. Whatever they allow, the hook and the
 * approvals path (the MCP permission tool) both approve without asking (settingApproval).
 */
const SETTING_SOURCE = 'session setting '
/**
 * auto_accept_edits: an `Edit` rule covers every edit tool (EDIT_TOOLS, NotebookEdit too);
 * `Write` and `MultiEdit` come first so that each is audited by its own name.
 */
const AUTO_ACCEPT_EDITS: readonly RuleSpec[] = ['Write', 'MultiEdit', 'Edit'].map((rule) => ({
  rule,
  effect: 'allow',
  source: `${SETTING_SOURCE}auto_accept_edits`,
}))
/** dangerously_skip_permissions: every tool, the one allow rule that may say so. */
const SKIP_PERMISSIONS: readonly RuleSpec[] = [
  {rule: '*', effect: 'allow', source: `${SETTING_SOURCE}dangerously_skip_permissions`, everything: true},
]
/** What a setting's approval says, as the Go hld words it. */
const SETTING_COMMENTS: Record<AutoApproval['setting'], string> = {
  dangerously_skip_permissions: 'Auto-accepted (dangerous skip permissions enabled)',
  auto_accept_edits: 'Auto-accepted (auto-accept mode enabled)',
}

/** One long-poll on the approvals service; the loop re-checks the timeout between them. */
const WAIT_CHUNK_MS = 60_000
const DEFAULT_AUDIT_LIMIT = 1000

export class PolicyService implements SessionPolicyLink {
  private readonly repo: PolicyRepository
  private readonly file: PolicyFile
  private readonly builtIns: RuleSpec[]
  private readonly home: string
  /** Compiled policies by session (or '' for none), valid while the file's document is the same object. */
  private readonly compiled = new Map<string, {doc: PolicyDocument; policy: Policy}>()

  constructor(private readonly deps: PolicyServiceDeps) {
    this.repo = new PolicyRepository(deps.db)
    this.file = new PolicyFile(deps.policyFile)
    this.builtIns = builtInRules(deps.paths)
    this.home = deps.home ?? process.env.HOME ?? homedir()
  }

  /** Throws PolicyError when the policy file does not load: the daemon refuses to start on it. */
  checkFile(): void {
    this.file.load()
  }

  /**
   * Records a new session's policy, its parent's rules first (continue inherits them), and
   * returns the `--settings` that route its tool calls here. Throws invalid params, before
   * anything is launched, when a rule does not parse.
   */
  prepareSession(session: SessionToPrepare, params: SessionPolicyParams): object {
    const parent = session.parentId ? this.repo.sessionById(session.parentId) : undefined
    const rules: SessionPolicyRow['rules'] = [...(parent?.rules ?? [])]
    for (const effect of ['deny', 'ask', 'allow'] as const) {
      for (const [index, rule] of (params[effect] ?? []).entries()) {
        try {
          parseRule(rule, effect)
        } catch (error) {
          throw new RpcError(ErrorCode.InvalidParams, `Invalid params: ${effect}[${index}]: ${(error as Error).message}`, {
            fields: [{path: `${effect}.${index}`, message: (error as Error).message}],
          })
        }
        rules.push({rule, effect, source: `launch --${effect}`})
      }
    }
    this.repo.insertSession({
      sessionId: session.id,
      runId: session.runId,
      workingDir: session.workingDir,
      rules,
      approvalTimeoutMs: params.approval_timeout_ms ?? parent?.approvalTimeoutMs ?? null,
      onTimeout: params.on_timeout ?? parent?.onTimeout ?? null,
      approvalsEnabled: session.approvalsEnabled,
      allowSelfApproval: params.dangerously_allow_self_approval ?? parent?.allowSelfApproval ?? false,
      createdAt: Date.now(),
    })
    return hookSettings({runId: session.runId, socketPath: this.deps.socketPath, reconnectMs: this.deps.reconnectMs})
  }

  /**
   * The hook's question. Waits (for a human or a timeout) when the policy asks.
   *
   * Durability, per write: the audit row of a call a rule decided commits with
   * synchronous=NORMAL. That is on the path of every tool call, and a sync there costs more
   * than the rest of the decision; in WAL mode such a row survives any crash of a process, and
   * only an OS crash or power loss can drop the last of them, which ends the session too. What
   * a human is asked or decides is synced before the answer: the approval as it is created
   * (the human must find it after any crash) and the audit row of a human's or a timeout's
   * decision.
   */
  async decide(
    params: {run_id: string; tool_name: string; tool_input: unknown; tool_use_id?: string; cwd?: string},
    signal: AbortSignal,
  ): Promise<DecideToolUseResult> {
    const started = Date.now()
    const session = this.repo.sessionByRunId(params.run_id)
    if (!session) {
      throw new RpcError(
        ErrorCode.NotFound,
        `No session has run_id ${params.run_id}; only sessions this daemon launched are decided by its policy.`,
      )
    }
    const write = this.deps.write ?? runNow
    const audit = async (result: DecideToolUseResult, durable: boolean, provenance?: unknown): Promise<DecideToolUseResult> => {
      await write(
        () =>
          this.repo.insertAudit({
            sessionId: session.sessionId,
            runId: session.runId,
            toolUseId: params.tool_use_id ?? null,
            toolName: params.tool_name,
            toolInput: params.tool_input,
            decision: result.decision,
            decidedBy: result.decided_by,
            rule: result.rule,
            source: result.source,
            provenance: provenance === undefined ? null : JSON.stringify(provenance),
            approvalId: result.approval_id ?? null,
            reason: result.reason,
            decidedAt: Date.now(),
            latencyMs: Date.now() - started,
          }),
        {durable},
      )
      return result
    }

    let judgement: Judgement
    let doc: PolicyDocument
    try {
      ;({judgement, doc} = this.judge(session, params.tool_name, params.tool_input, params.cwd))
    } catch (error) {
      // A policy file that does not load: nothing is allowed by half a policy; a human decides.
      if (!(error instanceof PolicyError)) throw error
      this.deps.log.error('policy does not load; asking a human', {error: error.message})
      judgement = {decision: 'ask', rule: null, source: 'error', reason: `${error.message} (so a human decides)`}
      doc = {rules: []}
    }
    const {decision, rule, source, reason} = judgement
    // Decided by a rule (or handed back to claude): no human involved, NORMAL.
    if (decision !== 'ask') return audit({decision, reason, rule, source, decided_by: 'policy'}, false)
    if (!session.approvalsEnabled) return audit({decision: 'ask', reason, rule, source, decided_by: 'policy'}, false)
    if (this.deps.cloud)
      return audit({decision: 'ask', reason: `${reason} (through the HumanLayer API)`, rule, source, decided_by: 'cloud'}, false)

    const timeoutMs = judgement.timeout_ms ?? session.approvalTimeoutMs ?? doc.approval_timeout_ms
    const verdict = judgement.on_timeout ?? session.onTimeout ?? doc.on_timeout ?? 'deny'
    const {approval_id: approvalId} = await write(
      () =>
        this.deps.approvals.create({
          run_id: session.runId,
          tool_name: params.tool_name,
          tool_input: params.tool_input,
          ...(params.tool_use_id ? {tool_use_id: params.tool_use_id} : {}),
        }),
      {durable: true},
    )
    for (;;) {
      const approval = this.deps.approvals.get(approvalId)
      if (approval.status !== 'pending') return audit(this.outcome(approval, verdict, timeoutMs), true, approval.decided_by)
      let waitMs = WAIT_CHUNK_MS
      if (timeoutMs !== undefined) {
        const left = Date.parse(approval.created_at) + timeoutMs - Date.now()
        if (left <= 0) {
          const why = `No human decided within ${formatDuration(timeoutMs)}: the approval timed out, and the timeout verdict is ${verdict}.`
          await write(() => this.deps.approvals.timeOut(approvalId, verdict, why, judgement.rule ?? undefined), {durable: true})
          continue
        }
        waitMs = Math.min(waitMs, left)
      }
      await this.deps.approvals.waitForDecision({approval_id: approvalId, timeout_ms: waitMs}, signal)
      if (signal.aborted) throw new RpcError(ErrorCode.Unavailable, 'The caller left before a decision; ask again to go on waiting.')
    }
  }

  /**
   * For the approvals path (an approval created by the MCP permission tool, or pending when a
   * setting is turned on): the setting that approves this call without asking, when the
   * session's policy allows it by a setting's rule alone. A deny or ask rule that matches wins,
   * as it does for the hook, so the two paths agree.
   */
  settingApproval(sessionId: string, toolName: string, toolInput: unknown): AutoApproval | undefined {
    // Without a setting on, no rule of one can approve: nothing to judge (the common case, at every approval).
    const settings = this.deps.sessionSettings?.(sessionId)
    if (!settings?.auto_accept_edits && !settings?.dangerously_skip_permissions) return undefined
    const session = this.repo.sessionById(sessionId)
    if (!session) return undefined
    let judgement: Judgement
    try {
      ;({judgement} = this.judge(session, toolName, toolInput))
    } catch (error) {
      if (error instanceof PolicyError) return undefined
      throw error
    }
    if (judgement.decision !== 'allow') return undefined
    const sources = judgement.source.split(', ')
    if (!sources.every((source) => source.startsWith(SETTING_SOURCE))) return undefined
    const setting = sources[0].slice(SETTING_SOURCE.length) as AutoApproval['setting']
    return {setting, comment: SETTING_COMMENTS[setting]}
  }

  /** `hld policy check`: what the policy would decide, without deciding anything. */
  check(params: {tool_name: string; tool_input: unknown; session_id?: string; working_dir?: string}): CheckPolicyResult {
    const session = params.session_id === undefined ? undefined : this.session(params.session_id)
    const {judgement} = this.judge(session, params.tool_name, params.tool_input, params.working_dir)
    return judgement
  }

  /** `hld policy show`: the effective rules in order of precedence, with where each came from. */
  show(params: {session_id?: string}): GetPolicyResult {
    const session = params.session_id === undefined ? undefined : this.session(params.session_id)
    const doc = this.file.load()
    const specs = this.specsFor(session, doc)
    const view = (spec: RuleSpec): PolicyRuleView => ({
      rule: spec.rule,
      effect: spec.effect,
      source: spec.source,
      ...(spec.timeout_ms === undefined ? {} : {timeout_ms: spec.timeout_ms}),
      ...(spec.on_timeout === undefined ? {} : {on_timeout: spec.on_timeout}),
    })
    const order: Effect[] = ['deny', 'ask', 'allow']
    const rules = [
      ...(session?.allowSelfApproval ? [] : this.builtIns.map(view)),
      ...order.flatMap((effect) => specs.filter((spec) => spec.effect === effect).map(view)),
    ]
    const timeout = session?.approvalTimeoutMs ?? doc.approval_timeout_ms
    const onTimeout = session?.onTimeout ?? doc.on_timeout
    return {
      file: this.file.file,
      file_exists: this.file.exists,
      rules,
      default_allowed_tools: [...DEFAULT_ALLOWED_TOOLS],
      ...(timeout == null ? {} : {approval_timeout_ms: timeout, on_timeout: onTimeout ?? 'deny'}),
      ...(session ? {session_id: session.sessionId} : {}),
    }
  }

  audit(params: {session_id?: string; since_ms?: number; limit?: number}): ListAuditResult {
    const sessionId = params.session_id === undefined ? undefined : this.session(params.session_id).sessionId
    const rows = this.repo.audit({sessionId, sinceMs: params.since_ms, limit: params.limit ?? DEFAULT_AUDIT_LIMIT})
    return {entries: rows.map(auditView)}
  }

  /** `hld policy test`: recorded calls judged again by today's policy; what would change. */
  replay(params: {session_id?: string; since_ms?: number}): ReplayPolicyResult {
    const sessionId = params.session_id === undefined ? undefined : this.session(params.session_id).sessionId
    const rows = this.repo.auditOldestFirst({sinceMs: params.since_ms, sessionId})
    const changes: ReplayPolicyResult['changes'] = []
    const sessions = new Map<string, SessionPolicyRow | undefined>()
    for (const row of rows) {
      if (row.sessionId !== null && !sessions.has(row.sessionId)) sessions.set(row.sessionId, this.repo.sessionById(row.sessionId))
      const session = row.sessionId === null ? undefined : sessions.get(row.sessionId)
      let input: unknown
      try {
        input = JSON.parse(row.toolInput)
      } catch {
        input = row.toolInput
      }
      const {judgement} = this.judge(session, row.toolName, input)
      // What a human or a timeout decided was an ask; compare like with like.
      const recorded = row.decidedBy === 'policy' ? row.decision : 'ask'
      if (judgement.decision !== recorded) changes.push({entry: auditView(row), now: judgement})
    }
    return {checked: rows.length, changes}
  }

  private judge(
    session: SessionPolicyRow | undefined,
    toolName: string,
    toolInput: unknown,
    cwd?: string,
  ): {judgement: Judgement; doc: PolicyDocument} {
    const doc = this.file.load()
    const settings = session && this.deps.sessionSettings?.(session.sessionId)
    const specs = this.specsFor(session, doc, settings)
    // A setting turned on or off is a different policy; a session's own rules never change.
    const key = `${session?.sessionId ?? ''}\0${settings?.auto_accept_edits ? 'e' : ''}${settings?.dangerously_skip_permissions ? 's' : ''}`
    let entry = this.compiled.get(key)
    if (!entry || entry.doc !== doc) {
      if (this.compiled.size > 1000) this.compiled.clear()
      entry = {doc, policy: new Policy(specs, session?.allowSelfApproval ? [] : this.builtIns)}
      this.compiled.set(key, entry)
    }
    const judgement = entry.policy.judge({
      tool_name: toolName,
      tool_input: toolInput,
      cwd: session?.workingDir ?? cwd ?? process.cwd(),
      home: this.home,
    })
    return {judgement, doc}
  }

  /** The policy file's rules, the session's own (launch flags, inherited ones first), and its settings' rules. */
  private specsFor(
    session: SessionPolicyRow | undefined,
    doc: PolicyDocument,
    settings = session && this.deps.sessionSettings?.(session.sessionId),
  ): RuleSpec[] {
    if (!session) return doc.rules
    return [
      ...doc.rules,
      ...session.rules,
      ...(settings?.auto_accept_edits ? AUTO_ACCEPT_EDITS : []),
      ...(settings?.dangerously_skip_permissions ? SKIP_PERMISSIONS : []),
    ]
  }

  /** A session with a policy (every session this hld launched has one), by id or unique prefix. */
  private session(idOrPrefix: string): SessionPolicyRow {
    const wanted = idOrPrefix.trim()
    const id = resolvePrefix(wanted, {
      noun: 'session with a policy',
      listCommand: 'hld session list',
      exists: (candidate) => this.repo.sessionById(candidate) !== undefined,
      candidates: (limit) => this.repo.sessionIdsWithPrefix(wanted, limit),
    })
    return this.repo.sessionById(id)!
  }

  private outcome(approval: Approval, verdict: TimeoutVerdict, timeoutMs: number | undefined): DecideToolUseResult {
    const base = {rule: null, approval_id: approval.id}
    const by = approval.decided_by
    switch (approval.status) {
      case 'approved':
        if (by?.channel === 'policy') {
          // A session setting approved it (auto_accept_edits turned on while it waited): no human.
          const reason = approval.comment || 'Approved by a session setting'
          return {...base, decision: 'allow', decided_by: 'policy', rule: by.rule ?? null, source: 'session setting', reason}
        }
        return {
          ...base,
          decision: 'allow',
          decided_by: 'human',
          source: 'approval',
          reason: approval.comment ? `Approved by a human: ${approval.comment}` : 'Approved by a human',
        }
      case 'denied':
        return {
          ...base,
          decision: 'deny',
          decided_by: 'human',
          source: 'approval',
          reason: approval.comment || 'Denied by a human reviewer',
        }
      case 'timed_out': {
        const applied = by?.verdict ?? verdict
        return {
          ...base,
          decision: applied,
          decided_by: 'timeout',
          source: 'timeout',
          reason: approval.comment || `No human decided within ${formatDuration(timeoutMs ?? 0)}: the approval timed out (${applied}).`,
        }
      }
      default:
        return {
          ...base,
          decision: 'deny',
          decided_by: 'human',
          source: 'approval',
          reason: approval.comment || `The approval ended without a decision (${approval.status}).`,
        }
    }
  }
}

function auditView(row: AuditRow): AuditEntry {
  let input: unknown
  try {
    input = JSON.parse(row.toolInput)
  } catch {
    input = row.toolInput
  }
  return {
    id: row.id,
    session_id: row.sessionId,
    run_id: row.runId,
    ...(row.toolUseId === null ? {} : {tool_use_id: row.toolUseId}),
    tool_name: row.toolName,
    tool_input: input,
    decision: row.decision,
    decided_by: row.decidedBy as DecidedBy,
    rule: row.rule,
    source: row.source,
    ...(row.provenance === null ? {} : {provenance: JSON.parse(row.provenance) as unknown}),
    ...(row.approvalId === null ? {} : {approval_id: row.approvalId}),
    reason: row.reason,
    decided_at: new Date(row.decidedAt).toISOString(),
    latency_ms: row.latencyMs,
  }
}
