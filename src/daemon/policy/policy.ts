/**
 * A policy: rules from their sources, compiled once, and the judgement of one tool call.
 *   built-in denies (hld's own socket, database, decision commands) › deny › ask › allow › default
 * The default allows what Claude Code itself runs without asking (reading, searching, todos) and
 * asks for everything else. A Bash command is judged part by part (splitCommand): any denied
 * part denies it, any asked or unallowed part asks, and it is allowed only when every part is.
 */
import {splitCommand} from '../../shared/shell.js'
import {
  type Effect,
  type ParsedRule,
  PolicyError,
  type PreparedCall,
  type ToolCall,
  type Verdict,
  coversTool,
  firstWord,
  parseRule,
  pathAndAncestors,
  prepareCall,
} from './rules.js'

export type TimeoutVerdict = 'allow' | 'deny'

/** One rule as a source gives it. */
export interface RuleSpec {
  rule: string
  effect: Effect
  /** Where it came from, as `hld policy show` prints it: `policy file …`, `launch --deny`, `built-in`. */
  source: string
  /** Examples the rule must match / must not match, checked when the policy loads. */
  match?: unknown[]
  not_match?: unknown[]
  /** Ask rules: how long a human gets, and what happens then. */
  timeout_ms?: number
  on_timeout?: TimeoutVerdict
  /** An allow rule of every tool (`*`): only a session's dangerously_skip_permissions makes one. */
  everything?: boolean
}

export interface PartJudgement {
  command: string
  decision: Verdict
  rule: string | null
  source: string
}

export interface Judgement {
  decision: Verdict
  /** The deciding rule's text, or null when the default decided. */
  rule: string | null
  source: string
  /** What the model (deny) or the reviewer (ask) reads. */
  reason: string
  timeout_ms?: number
  on_timeout?: TimeoutVerdict
  /** A Bash command's parts, each judged. */
  parts?: PartJudgement[]
}

interface CompiledRule extends ParsedRule {
  /** Its place in the policy: the first rule given wins among rules of one effect. */
  order: number
  source: string
  timeout_ms?: number
  on_timeout?: TimeoutVerdict
}

/** Tools Claude Code runs without asking: allowed (and audited) unless a rule says otherwise. */
export const DEFAULT_ALLOWED_TOOLS: readonly string[] = [
  'Read',
  'Glob',
  'Grep',
  'LS',
  'NotebookRead',
  'TodoRead',
  'TodoWrite',
  'TaskCreate',
  'TaskGet',
  'TaskList',
  'TaskUpdate',
  'TaskOutput',
  'ToolSearch',
]
const DEFAULT_SOURCE = 'default'
const BUILT_IN_SOURCE = 'built-in'

/** Environment assignments an allow rule may look past (`NODE_ENV=test npm test`); deny and ask look past any. */
const SAFE_ENV = new Set([
  'NODE_ENV',
  'CI',
  'DEBUG',
  'LANG',
  'LC_ALL',
  'TZ',
  'NO_COLOR',
  'FORCE_COLOR',
  'RUST_BACKTRACE',
  'RUST_LOG',
  'PYTHONUNBUFFERED',
])
/** More parts than this and the command is asked about as a whole: nothing legitimate needs them. */
const MAX_PARTS = 200
const MAX_CACHED_TOOLS = 1000

/** One effect's rules, looked up by tool name (and, within a tool, by key) rather than tried one by one. */
class RuleSet {
  private readonly byTool = new Map<string, CompiledRule[]>()
  private readonly patterned: CompiledRule[] = []
  /** What `for` found, by tool name: a policy sees few tool names, so this stays small. */
  private readonly cache = new Map<string, ToolRules>()

  constructor(rules: CompiledRule[]) {
    for (const rule of rules) {
      if (!rule.tools) {
        this.patterned.push(rule)
        continue
      }
      for (const tool of rule.tools) {
        let list = this.byTool.get(tool)
        if (!list) this.byTool.set(tool, (list = []))
        list.push(rule)
      }
    }
  }

  /** The rules that apply to a tool. */
  for(tool: string): ToolRules {
    let found = this.cache.get(tool)
    if (found) return found
    const rules = [...(this.byTool.get(tool) ?? []), ...this.patterned.filter((rule) => rule.toolPattern!.test(tool))]
    found = new ToolRules(rules.sort((a, b) => a.order - b.order))
    if (this.cache.size >= MAX_CACHED_TOOLS) this.cache.clear()
    this.cache.set(tool, found)
    return found
  }
}

/**
 * One tool's rules of one effect, indexed by what a call must have for each to match: a command's
 * first word or a host (the rule's key), or the directory a path rule is anchored at (which
 * depends on the working directory: the index is built again when that changes).
 */
class ToolRules {
  private readonly staticIndex: Index
  private readonly anchored: CompiledRule[]
  private indexFor?: {cwd: string; home: string; index: Index}

  constructor(readonly all: CompiledRule[]) {
    this.staticIndex = new Index(
      all.filter((rule) => !rule.anchor),
      (rule) => rule.key,
    )
    this.anchored = all.filter((rule) => rule.anchor)
  }

  /** The rules that may match a call whose subjects have these keys, in the order they were given. */
  candidates(call: PreparedCall, keys: readonly (string | undefined)[]): CompiledRule[] {
    if (this.anchored.length === 0) return this.staticIndex.lookup(keys)
    if (this.indexFor?.cwd !== call.cwd || this.indexFor.home !== call.home) {
      const index = new Index(this.all, (rule) => rule.anchor?.(call.cwd, call.home) ?? rule.key)
      this.indexFor = {cwd: call.cwd, home: call.home, index}
    }
    return this.indexFor.index.lookup(keys)
  }
}

class Index {
  private readonly byKey = new Map<string, CompiledRule[]>()
  private readonly unkeyed: CompiledRule[] = []

  constructor(
    private readonly rules: CompiledRule[],
    keyOf: (rule: CompiledRule) => string | undefined,
  ) {
    for (const rule of rules) {
      const key = keyOf(rule)
      if (key === undefined) {
        this.unkeyed.push(rule)
        continue
      }
      let list = this.byKey.get(key)
      if (!list) this.byKey.set(key, (list = []))
      list.push(rule)
    }
  }

  lookup(keys: readonly (string | undefined)[]): CompiledRule[] {
    if (this.byKey.size === 0) return this.rules
    let keyed: CompiledRule[] | undefined
    let merged = false
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]
      const hit = key === undefined || keys.indexOf(key) < i ? undefined : this.byKey.get(key)
      if (!hit) continue
      merged = keyed !== undefined
      keyed = keyed ? keyed.concat(hit) : hit
    }
    if (!keyed) return this.unkeyed
    if (this.unkeyed.length === 0 && !merged) return keyed
    return [...this.unkeyed, ...keyed].sort((a, b) => a.order - b.order)
  }
}

export class Policy {
  readonly rules: readonly CompiledRule[]
  /** The rule sets in order of precedence, with the effect of a match. */
  private readonly sets: readonly (readonly [RuleSet, Effect])[]
  private readonly allows: RuleSet

  /** Throws PolicyError naming the rule when one does not parse or fails one of its examples. */
  constructor(specs: readonly RuleSpec[], builtIns: readonly RuleSpec[] = []) {
    let order = 0
    const compile = (spec: RuleSpec): CompiledRule => {
      const parsed = parseRule(spec.rule, spec.effect, {allowEverything: spec.everything})
      const rule: CompiledRule = {...parsed, order: order++, source: spec.source, timeout_ms: spec.timeout_ms, on_timeout: spec.on_timeout}
      checkExamples(rule, spec)
      return rule
    }
    this.rules = specs.map(compile)
    const effect = (wanted: Effect): RuleSet => new RuleSet(this.rules.filter((r) => r.effect === wanted))
    this.allows = effect('allow')
    this.sets = [
      [new RuleSet(builtIns.map(compile)), 'deny'],
      [effect('deny'), 'deny'],
      [effect('ask'), 'ask'],
      [this.allows, 'allow'],
    ]
  }

  judge(toolCall: ToolCall): Judgement {
    const call = prepareCall(toolCall)
    const command = shellCommand(call)
    if (command !== undefined) return this.judgeCommand(call, command)
    for (const [set, effect] of this.sets) {
      const keys = call.path === undefined ? [call.host] : pathAndAncestors(call.path)
      const rule = set
        .for(call.tool_name)
        .candidates(call, keys)
        .find((r) => r.matches(call))
      if (rule) return fromRule(rule, effect, call)
    }
    if (DEFAULT_ALLOWED_TOOLS.includes(call.tool_name)) {
      return {decision: 'allow', rule: null, source: DEFAULT_SOURCE, reason: `${call.tool_name} only reads; the default policy allows it`}
    }
    return {
      decision: 'ask',
      rule: null,
      source: DEFAULT_SOURCE,
      reason: `No rule allows ${call.tool_name}; the default policy asks a human`,
    }
  }

  private judgeCommand(call: PreparedCall, command: string): Judgement {
    let parts = splitCommand(command)
    if (parts.length === 0) parts = [command.trim()]
    if (parts.length > MAX_PARTS) {
      return {
        decision: 'ask',
        rule: null,
        source: DEFAULT_SOURCE,
        reason: `The command has more than ${MAX_PARTS} parts; a human decides it as a whole`,
      }
    }
    // Deny and ask rules also see the whole line, so a /regex/ can span operators.
    const subjects = [...new Set([command.trim(), ...parts.map((part) => unwrap(part, true))])]
    const words = subjects.map(firstWord)
    for (const [set, effect] of this.sets) {
      if (effect === 'allow') break
      for (const rule of set.for(call.tool_name).candidates(call, words)) {
        const hit = subjects.find((subject) => rule.matches(call, subject))
        if (hit !== undefined) return fromRule(rule, effect, call, hit)
      }
    }
    const allows = this.allows.for(call.tool_name)
    const judged: PartJudgement[] = parts.map((part) => {
      const subject = unwrap(part, false)
      const rule = allows.candidates(call, [firstWord(subject)]).find((r) => r.matches(call, subject))
      return rule
        ? {command: part, decision: 'allow', rule: rule.text, source: rule.source}
        : {command: part, decision: 'ask', rule: null, source: DEFAULT_SOURCE}
    })
    const unallowed = judged.filter((part) => part.decision !== 'allow')
    if (unallowed.length === 0) {
      const rules = [...new Set(judged.map((part) => part.rule))]
      const first = allows.all.find((r) => r.text === judged[0].rule)!
      return {
        decision: 'allow',
        rule: rules.join(', '),
        source: [...new Set(judged.map((part) => part.source))].join(', '),
        reason: `Allowed by ${rules.join(', ')} (${first.source})`,
        parts: judged,
      }
    }
    const list = unallowed.map((part) => JSON.stringify(part.command)).join(', ')
    return {
      decision: 'ask',
      rule: null,
      source: DEFAULT_SOURCE,
      reason:
        parts.length === 1
          ? `No rule allows ${list}; the default policy asks a human`
          : `No rule allows ${list} of this compound command; a human decides`,
      parts: judged,
    }
  }
}

function fromRule(rule: CompiledRule, effect: Effect, call: PreparedCall, subject?: string): Judgement {
  const what = subject !== undefined ? JSON.stringify(subject) : describeCall(call)
  const reason =
    effect === 'deny'
      ? `${rule.source === BUILT_IN_SOURCE ? 'hld' : 'Policy'} denied ${what}: it matches the deny rule ${rule.text} (${rule.source})`
      : effect === 'ask'
        ? `${what} matches the ask rule ${rule.text} (${rule.source}); a human decides`
        : `Allowed by ${rule.text} (${rule.source})`
  return {
    decision: effect,
    rule: rule.text,
    source: rule.source,
    reason,
    ...(rule.timeout_ms === undefined ? {} : {timeout_ms: rule.timeout_ms}),
    ...(rule.on_timeout === undefined ? {} : {on_timeout: rule.on_timeout}),
  }
}

function describeCall(call: PreparedCall): string {
  const target = call.path ?? (call.tool_input as {url?: unknown} | null)?.url
  return typeof target === 'string' ? `${call.tool_name} on ${JSON.stringify(target)}` : call.tool_name
}

/** The command of a Bash (or PowerShell) call, or undefined for other tools. */
function shellCommand(call: ToolCall): string | undefined {
  if (call.tool_name !== 'Bash' && call.tool_name !== 'PowerShell') return undefined
  const command = (call.tool_input as {command?: unknown} | null)?.command
  return typeof command === 'string' ? command : ''
}

const WRAPPERS: RegExp[] = [
  /^timeout\s+(?:-{1,2}[\w-]+(?:[=\s]\S+)?\s+)*\d[\w.]*\s+/,
  /^nice\s+(?:-n\s*-?\d+\s+|-\d+\s+)?/,
  /^stdbuf\s+(?:-[ioe]\S+\s+)+/,
  /^(?:time|nohup|builtin|noglob)\s+/,
  /^command\s+(?!-[vV])/,
  /^xargs\s+(?!-)/,
]

/**
 * One part with what runs it stripped (`timeout 30 npm test` is judged as `npm test`), as Claude
 * Code does. Leading `VAR=value` assignments go too: every one for deny and ask, only harmless
 * ones for allow, so `PATH=. npm test` is not allowed by `Bash(npm test)`.
 */
export function unwrap(part: string, anyAssignment: boolean): string {
  let text = part.trim()
  for (let round = 0; round < 16; round++) {
    const assignment = /^([A-Za-z_]\w*)=(?:'[^']*'|"(?:[^"\\]|\\.)*"|[^\s'"]*)\s+/.exec(text)
    if (assignment && (anyAssignment || SAFE_ENV.has(assignment[1]))) {
      text = text.slice(assignment[0].length)
      continue
    }
    const wrapper = WRAPPERS.map((re) => re.exec(text)).find((m) => m && m[0].length < text.length)
    if (!wrapper) break
    text = text.slice(wrapper[0].length)
  }
  return text
}

/** A rule matches one example call the way the policy would apply it. */
export function ruleMatches(rule: ParsedRule, toolCall: ToolCall): boolean {
  if (!coversTool(rule, toolCall.tool_name)) return false
  const call = prepareCall(toolCall)
  const command = shellCommand(call)
  if (command === undefined || rule.kind !== 'bash') return rule.matches(call, command)
  const parts = splitCommand(command)
  if (rule.effect === 'allow') return parts.length > 0 && parts.every((part) => rule.matches(call, unwrap(part, false)))
  return [command.trim(), ...parts.map((part) => unwrap(part, true))].some((subject) => rule.matches(call, subject))
}

/** The example cwd: relative rules and inputs resolve against it alike, so any fixed directory does. */
const EXAMPLE_CWD = '/project'
const EXAMPLE_HOME = '/home/user'

function checkExamples(rule: CompiledRule, spec: RuleSpec): void {
  for (const [examples, wanted] of [
    [spec.match ?? [], true],
    [spec.not_match ?? [], false],
  ] as const) {
    for (const example of examples) {
      const call = exampleCall(rule, example)
      if (ruleMatches(rule, call) !== wanted) {
        throw new PolicyError(
          `Rule ${JSON.stringify(rule.text)} (${rule.effect}, ${rule.source}) ${wanted ? 'does not match' : 'matches'} its ${wanted ? 'match' : 'not_match'} example ${JSON.stringify(example)}; fix the rule or the example`,
        )
      }
    }
  }
}

function exampleCall(rule: CompiledRule, example: unknown): ToolCall {
  const tool = rule.tools?.[0] ?? 'mcp__example__tool'
  let input: unknown = example
  if (typeof example === 'string') {
    if (tool === 'Bash' || tool === 'PowerShell') input = {command: example}
    else if (tool === 'WebFetch') input = {url: example}
    else if (rule.kind === 'path') input = {file_path: example}
    else
      throw new PolicyError(
        `Rule ${JSON.stringify(rule.text)} (${rule.source}): give its examples as tool input objects, e.g. {"param": "value"}`,
      )
  } else if (typeof example !== 'object' || example === null) {
    throw new PolicyError(
      `Rule ${JSON.stringify(rule.text)} (${rule.source}): an example must be a string or a tool input object, not ${JSON.stringify(example)}`,
    )
  }
  return {tool_name: tool, tool_input: input, cwd: EXAMPLE_CWD, home: EXAMPLE_HOME}
}
