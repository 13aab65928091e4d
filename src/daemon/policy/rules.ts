/**
 * Claude Code's permission rule syntax (`Tool`, `Tool(specifier)`), plus one extension:
 * `Tool(/regex/flags)`, matched against the command, path or URL. A rule is parsed once into a
 * matcher; a syntax error names the rule and the position (1-based) of what is wrong.
 */
import path from 'node:path'

export type Effect = 'allow' | 'ask' | 'deny'
export type Verdict = 'allow' | 'ask' | 'deny'

export class PolicyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PolicyError'
  }
}

/** What a rule is matched against: one tool call, where it runs. */
export interface ToolCall {
  tool_name: string
  tool_input: unknown
  /** The session's working directory: relative paths in rules and inputs resolve against it. */
  cwd: string
  home: string
}

/** A call with what rules match it against worked out once, not once per rule. */
export interface PreparedCall extends ToolCall {
  /** The file path it works on, absolute (callPath). */
  path?: string
  /** The host of its `url`, lower case. */
  host?: string
}

export function prepareCall(call: ToolCall): PreparedCall {
  const {tool_name, tool_input, cwd, home} = call
  return {tool_name, tool_input, cwd, home, path: callPath(call), host: urlHost(tool_input)}
}

export interface ParsedRule {
  text: string
  effect: Effect
  /** Exact tool names the rule covers, or undefined when `toolPattern` decides. */
  tools?: readonly string[]
  toolPattern?: RegExp
  kind: 'tool' | 'bash' | 'path' | 'domain' | 'param' | 'regex'
  /**
   * What every call the rule matches has, literally, so that a policy can look its rules up
   * instead of trying each: for a shell rule the command's first word (`Bash(git push *)` →
   * `git`), for a WebFetch rule the host. Undefined when the rule cannot say.
   */
  key?: string
  /** For a path rule: the directory (or file) every path it matches is, or is under, for calls from `cwd`. */
  anchor?: (cwd: string, home: string) => string
  /**
   * Matches one call. For `bash`, `subject` is one simple command of the call (policy.ts splits
   * compound commands); for the others the call's own input decides.
   */
  matches(call: PreparedCall, subject?: string): boolean
}

/**
 * The tools that edit files: an `Edit` rule covers them all, as in Claude Code, and so does
 * auto_accept_edits, which is an `Edit` rule.
 */
export const EDIT_TOOLS: readonly string[] = ['Edit', 'Write', 'MultiEdit', 'NotebookEdit']

/** Tools whose rules share a path. */
const FAMILIES: Record<string, readonly string[]> = {
  Edit: EDIT_TOOLS,
  Read: ['Read', 'Grep', 'Glob', 'LS', 'NotebookRead'],
}
const PATH_TOOLS = new Set(['Edit', 'Write', 'MultiEdit', 'NotebookEdit', 'Read', 'Grep', 'Glob', 'LS', 'NotebookRead'])
const SHELL_TOOLS = new Set(['Bash', 'PowerShell'])

const TOOL_NAME = /^[A-Za-z_*][\w.*-]*$/

export interface ParseOptions {
  /**
   * Lets an allow rule cover every tool (`*`). Only the dangerously_skip_permissions setting
   * gives one: a policy file or a launch flag cannot.
   */
  allowEverything?: boolean
}

export function parseRule(text: string, effect: Effect, options: ParseOptions = {}): ParsedRule {
  const fail = (position: number, why: string): never => {
    throw new PolicyError(`Rule ${JSON.stringify(text)} (${effect}), at position ${position}: ${why}`)
  }
  const open = text.indexOf('(')
  const name = (open === -1 ? text : text.slice(0, open)).trim()
  if (!name) fail(1, 'expected a tool name, such as Bash, Edit or mcp__server__tool')
  if (!TOOL_NAME.test(name)) {
    const bad = [...name].findIndex((ch, i) => !(i === 0 ? /[A-Za-z_*]/ : /[\w.*-]/).test(ch))
    fail(text.indexOf(name) + bad + 1, `${JSON.stringify(name[bad])} cannot be part of a tool name`)
  }
  let spec: string | undefined
  if (open !== -1) {
    if (!text.trimEnd().endsWith(')')) fail(text.length + 1, 'expected ")" at the end of the rule')
    spec = text.trimEnd().slice(open + 1, -1)
    if (spec.trim() === '') fail(open + 2, 'empty parentheses: write the tool name alone to match every use')
  }
  const tools = name.includes('*') ? undefined : (FAMILIES[name] ?? [name])
  let toolPattern: RegExp | undefined
  if (!tools) {
    const anchored = /^mcp__[^*_][^*]*?__/.test(name)
    if (effect === 'allow' && !anchored && !options.allowEverything) {
      fail(name.indexOf('*') + 1, 'an allow rule may use * in the tool name only after mcp__<server>__ (allowing every tool is not a rule)')
    }
    toolPattern = new RegExp(`^${name.split('*').map(escapeRegex).join('.*')}$`)
  }
  const base = {text, effect, tools, toolPattern}
  if (spec === undefined || spec.trim() === '*') return {...base, kind: 'tool', matches: () => true}

  const specAt = open + 2
  if (spec.startsWith('/') && spec.length > 2 && /\/[imsu]{0,4}$/.test(spec.slice(1))) {
    const last = spec.lastIndexOf('/')
    if (last > 0) {
      let regex: RegExp
      try {
        regex = new RegExp(spec.slice(1, last), spec.slice(last + 1))
      } catch (error) {
        return fail(specAt, `bad regular expression: ${(error as Error).message}`)
      }
      if (regex.global || regex.sticky)
        fail(specAt + last + 1, 'the g and y flags make a regex match differently each time; leave them out')
      const key = tools?.every((tool) => SHELL_TOOLS.has(tool)) ? regexFirstWord(regex) : undefined
      return {...base, kind: 'regex', key, matches: (call, subject) => regexSubjects(call, subject).some((s) => regex.test(s))}
    }
  }
  if (tools && tools.some((tool) => SHELL_TOOLS.has(tool))) {
    const {pattern, key} = bashPattern(spec)
    return {...base, kind: 'bash', key, matches: (_call, subject) => subject !== undefined && pattern.test(subject)}
  }
  if (tools && tools.some((tool) => PATH_TOOLS.has(tool))) {
    if (spec.includes('\0')) fail(specAt + spec.indexOf('\0'), 'a path cannot contain a NUL byte')
    return {...base, kind: 'path', ...pathMatcher(spec, effect)}
  }
  if (name === 'WebFetch') {
    const domain = /^domain:(.+)$/.exec(spec.trim())
    if (!domain) fail(specAt, 'WebFetch takes domain:HOST (e.g. WebFetch(domain:example.com)) or /regex/')
    const wanted = domain![1].trim().toLowerCase()
    const host = new RegExp(`^${wanted.split('*').map(escapeRegex).join('[^/]*')}$`)
    return {...base, kind: 'domain', key: wanted.includes('*') ? undefined : wanted, matches: (call) => host.test(call.host ?? '')}
  }
  const param = /^\s*([A-Za-z_]\w*)\s*:\s*(.*?)\s*$/.exec(spec)
  if (!param) {
    return fail(specAt, `${name} has no specifier syntax of its own: use ${name}, ${name}(param:value) or ${name}(/regex/)`)
  }
  const [, key, value] = param
  const wanted = new RegExp(`^${value.split('*').map(escapeRegex).join('.*')}$`, 's')
  return {
    ...base,
    kind: 'param',
    matches: (call) => {
      const input = call.tool_input as Record<string, unknown> | null
      const actual = input && typeof input === 'object' ? input[key] : undefined
      return (typeof actual === 'string' || typeof actual === 'number' || typeof actual === 'boolean') && wanted.test(String(actual))
    },
  }
}

/**
 * `Bash(npm run build)` is exact; `*` matches any text (spaces too); a trailing ` *` (or `:*`)
 * also matches the bare prefix but not a longer word: `Bash(ls *)` matches `ls` and `ls -la`,
 * not `lsof`.
 */
function bashPattern(spec: string): {pattern: RegExp; key?: string} {
  let body = spec.trim()
  let tail = ''
  if (body.endsWith(':*')) body = `${body.slice(0, -2)} *`
  if (body.endsWith(' *')) {
    body = body.slice(0, -2)
    tail = '(?:\\s.*)?'
  }
  const first = firstWord(body)
  const pattern = new RegExp(`^${body.split('*').map(escapeRegex).join('.*')}${tail}$`, 's')
  return {pattern, key: first === '' || first.includes('*') ? undefined : first}
}

/** The file path a file tool call works on, absolute, or undefined when it names none. */
export function callPath(call: ToolCall): string | undefined {
  const input = call.tool_input as Record<string, unknown> | null
  if (!input || typeof input !== 'object') return undefined
  const raw = input.file_path ?? input.notebook_path ?? input.path
  // Grep and Glob without a path search the working directory.
  if (raw === undefined && ['Grep', 'Glob', 'LS'].includes(call.tool_name)) return call.cwd
  if (typeof raw !== 'string' || raw === '') return undefined
  return path.resolve(call.cwd, raw.startsWith('~/') ? path.join(call.home, raw.slice(2)) : raw)
}

/**
 * gitignore-style paths, anchored as Claude Code anchors them: `//abs`, `~/home`, `/…` and
 * `./…` or `…` relative to the session's working directory (hld's "settings source"). A bare
 * name (`.env`) matches at any depth; a single directory (`src/**`) too, for deny and ask rules.
 * Compiled for the working directory and home of the calls it sees (a policy serves one session,
 * so that is once), with the literal start of the pattern checked before the regex.
 */
function pathMatcher(spec: string, effect: Effect): Pick<ParsedRule, 'anchor' | 'matches'> {
  let compiledFor: {cwd: string; home: string; anchor: string; regex: RegExp} | undefined
  const compiled = (cwd: string, home: string): {anchor: string; regex: RegExp} => {
    if (compiledFor?.cwd !== cwd || compiledFor.home !== home) {
      const glob = pathGlob(spec, effect, cwd, home)
      compiledFor = {cwd, home, anchor: literalStart(glob), regex: new RegExp(`^${globToRegex(glob)}$`, 's')}
    }
    return compiledFor
  }
  return {
    anchor: (cwd, home) => compiled(cwd, home).anchor,
    matches: (call) => {
      if (call.path === undefined) return false
      const {anchor, regex} = compiled(call.cwd, call.home)
      return call.path.startsWith(anchor) && regex.test(call.path)
    },
  }
}

function pathGlob(spec: string, effect: Effect, cwd: string, home: string): string {
  let glob: string
  if (spec.startsWith('//')) glob = spec.slice(1)
  else if (spec.startsWith('~/')) glob = `${home}/${spec.slice(2)}`
  else if (spec.startsWith('/')) glob = `${cwd}${spec}`
  else {
    const relative = spec.startsWith('./') ? spec.slice(2) : spec
    const anyDepth = (!spec.startsWith('./') && !relative.includes('/')) || (effect !== 'allow' && /^[^/*]+\/\*\*$/.test(relative))
    glob = anyDepth ? `${cwd}/**/${relative}` : `${cwd}/${relative}`
  }
  return glob.replace(/\/+/g, '/')
}

/**
 * The directory part before a glob's first wildcard (all of it when it has none): every path the
 * glob matches is it or is under it (`a/**` matches `a`). The root is ''.
 */
function literalStart(glob: string): string {
  const wildcard = glob.search(/[*?]/)
  if (wildcard === -1) return glob
  return glob.slice(0, Math.max(0, glob.lastIndexOf('/', wildcard - 1)))
}

/** A path and the directories above it, as path rules' anchors name them: `/a/b` → '', `/a`, `/a/b`. */
export function pathAndAncestors(target: string): string[] {
  const out = ['']
  for (let slash = target.indexOf('/', 1); slash !== -1; slash = target.indexOf('/', slash + 1)) out.push(target.slice(0, slash))
  if (target !== '') out.push(target)
  return out
}

/** A command's first word: what it runs. */
export function firstWord(command: string): string {
  const end = command.search(/\s/)
  return end === -1 ? command : command.slice(0, end)
}

/**
 * The first word every match of a shell /regex/ starts with, when the regex says so plainly:
 * `^curl\s…` or `^git push…` (no alternation, no i or m flag). Undefined otherwise.
 */
function regexFirstWord(regex: RegExp): string | undefined {
  if (regex.ignoreCase || regex.multiline || regex.source.includes('|')) return undefined
  const plain = /^\^((?:[\w=,%@:/-]|\\[./\\])+)(?: |\\s)(?![*?{])/.exec(regex.source)
  return plain ? plain[1].replace(/\\(.)/g, '$1') : undefined
}

function globToRegex(glob: string): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]
    if (ch === '*' && glob[i + 1] === '*') {
      const slashAfter = glob[i + 2] === '/'
      const slashBefore = glob[i - 1] === '/'
      if (slashBefore && slashAfter) {
        out = `${out.slice(0, -1)}(?:/.*)?/` // a/**/b: zero or more directories
        i += 2
      } else if (slashBefore && i + 2 === glob.length) {
        out = `${out.slice(0, -1)}(?:/.*)?` // a/**: a itself and everything under it
        i += 1
      } else {
        out += '.*'
        i += 1
      }
    } else if (ch === '*') out += '[^/]*'
    else if (ch === '?') out += '[^/]'
    else out += escapeRegex(ch)
  }
  return out
}

function urlHost(input: unknown): string | undefined {
  const url = (input as {url?: unknown} | null)?.url
  if (typeof url !== 'string') return undefined
  try {
    return new URL(url).hostname.toLowerCase()
  } catch {
    return undefined
  }
}

/** What a /regex/ rule is tested against: the command part, the path (as given and resolved), the URL, or the input. */
function regexSubjects(call: PreparedCall, subject: string | undefined): string[] {
  if (subject !== undefined) return [subject]
  const input = call.tool_input as Record<string, unknown> | null
  const out: string[] = []
  if (call.path) out.push(call.path)
  for (const key of ['file_path', 'notebook_path', 'path', 'url', 'command']) {
    if (input && typeof input === 'object' && typeof input[key] === 'string') out.push(input[key])
  }
  if (out.length === 0) out.push(JSON.stringify(input) ?? '')
  return out
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** True when the rule applies to this tool at all. */
export function coversTool(rule: ParsedRule, toolName: string): boolean {
  return rule.tools ? rule.tools.includes(toolName) : rule.toolPattern!.test(toolName)
}
