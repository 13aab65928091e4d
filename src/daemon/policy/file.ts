/**
 * The user's policy document, `policy.json` beside `daemon.json` (~/.config/humanlayer/):
 *   {"deny": ["Bash(git push *)"],
 *    "ask": [{"rule": "Bash(npm publish *)", "timeout": "5m", "on_timeout": "deny"}],
 *    "allow": ["Bash(npm test)", {"rule": "Bash(npm run test:*)", "match": ["npm run test --watch"]}],
 *    "approval_timeout": "10m", "on_timeout": "deny"}
 * Read again when it changes (checked by mtime on each decision). A document that does not load
 * is an error that names the file and what is wrong; the daemon then asks a human about every
 * call instead of applying half a policy.
 */
import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {parseDuration} from '../../shared/duration.js'
import {Policy, type RuleSpec, type TimeoutVerdict} from './policy.js'
import {type Effect, PolicyError} from './rules.js'

export interface PolicyDocument {
  rules: RuleSpec[]
  approval_timeout_ms?: number
  on_timeout?: TimeoutVerdict
}

const EFFECTS: readonly Effect[] = ['deny', 'ask', 'allow']
const TOP_KEYS = new Set([...EFFECTS, 'approval_timeout', 'on_timeout', '$schema', 'description'])
const RULE_KEYS = new Set(['rule', 'match', 'not_match', 'timeout', 'on_timeout', 'description'])

export function policyFilePath(configFile: string): string {
  return path.join(path.dirname(configFile), 'policy.json')
}

/** Parses and checks a document (rules, examples, durations); throws PolicyError naming the file. */
export function parsePolicyDocument(text: string, file: string): PolicyDocument {
  const fail = (why: string): never => {
    throw new PolicyError(`Policy file ${file}: ${why}`)
  }
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    return fail(`not valid JSON: ${(error as Error).message}`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return fail('must hold a JSON object with "allow", "ask" and/or "deny" lists')
  const doc = raw as Record<string, unknown>
  const unknown = Object.keys(doc).filter((key) => !TOP_KEYS.has(key))
  if (unknown.length > 0) fail(`unknown key ${unknown.join(', ')}; known keys: ${[...TOP_KEYS].filter((k) => k !== '$schema').join(', ')}`)
  const source = `policy file ${file}`
  const rules: RuleSpec[] = []
  for (const effect of EFFECTS) {
    const list = doc[effect]
    if (list === undefined) continue
    if (!Array.isArray(list)) fail(`"${effect}" must be a list of rules`)
    ;(list as unknown[]).forEach((entry, index) => {
      const where = `${effect}[${index}]`
      if (typeof entry === 'string') return rules.push({rule: entry, effect, source})
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return fail(`${where} must be a rule string or {"rule": …}`)
      const item = entry as Record<string, unknown>
      const extra = Object.keys(item).filter((key) => !RULE_KEYS.has(key))
      if (extra.length > 0) fail(`${where} has unknown key ${extra.join(', ')}; known keys: ${[...RULE_KEYS].join(', ')}`)
      if (typeof item.rule !== 'string') fail(`${where} needs "rule": a rule string such as "Bash(npm test)"`)
      for (const key of ['match', 'not_match'] as const)
        if (item[key] !== undefined && !Array.isArray(item[key])) fail(`${where}.${key} must be a list of examples`)
      if ((item.timeout !== undefined || item.on_timeout !== undefined) && effect !== 'ask') fail(`${where}: only ask rules take a timeout`)
      return rules.push({
        rule: item.rule as string,
        effect,
        source,
        match: item.match as unknown[] | undefined,
        not_match: item.not_match as unknown[] | undefined,
        timeout_ms: item.timeout === undefined ? undefined : duration(item.timeout, `${where}.timeout`, fail),
        on_timeout: item.on_timeout === undefined ? undefined : verdict(item.on_timeout, `${where}.on_timeout`, fail),
      })
    })
  }
  const parsed: PolicyDocument = {
    rules,
    approval_timeout_ms: doc.approval_timeout === undefined ? undefined : duration(doc.approval_timeout, 'approval_timeout', fail),
    on_timeout: doc.on_timeout === undefined ? undefined : verdict(doc.on_timeout, 'on_timeout', fail),
  }
  // Compiling checks every rule's syntax and examples now, not at the first tool call.
  new Policy(rules)
  return parsed
}

function duration(value: unknown, where: string, fail: (why: string) => never): number {
  const ms = typeof value === 'number' ? value : typeof value === 'string' ? parseDuration(value) : undefined
  if (ms === undefined || !Number.isSafeInteger(ms) || ms <= 0)
    return fail(`${where} must be a duration such as "30s", "10m" or "1h", not ${JSON.stringify(value)}`)
  return ms
}

function verdict(value: unknown, where: string, fail: (why: string) => never): TimeoutVerdict {
  if (value !== 'allow' && value !== 'deny') return fail(`${where} must be "allow" or "deny", not ${JSON.stringify(value)}`)
  return value
}

/**
 * What a missing policy file means. One object (shared: never changed), so that what is compiled
 * from it is not compiled again per call: PolicyService keeps a compiled policy while its document
 * is the same object.
 */
const NO_POLICY: PolicyDocument = {rules: []}

/** The document at `file`, read again when its mtime changes; a missing file is an empty policy. */
export class PolicyFile {
  private seen: {mtimeMs: number; size: number; result: PolicyDocument | PolicyError} | undefined

  constructor(readonly file: string) {}

  get exists(): boolean {
    return this.stat() !== undefined
  }

  /** The current document; throws PolicyError while the file does not load. */
  load(): PolicyDocument {
    const stat = this.stat()
    if (!stat) {
      this.seen = undefined
      return NO_POLICY
    }
    if (!this.seen || this.seen.mtimeMs !== stat.mtimeMs || this.seen.size !== stat.size) {
      let result: PolicyDocument | PolicyError
      try {
        result = parsePolicyDocument(readFileSync(this.file, 'utf8'), this.file)
      } catch (error) {
        result =
          error instanceof PolicyError ? error : new PolicyError(`Policy file ${this.file}: cannot read it: ${(error as Error).message}`)
      }
      this.seen = {mtimeMs: stat.mtimeMs, size: stat.size, result}
    }
    if (this.seen.result instanceof PolicyError) throw this.seen.result
    return this.seen.result
  }

  private stat(): {mtimeMs: number; size: number} | undefined {
    try {
      // Checked at every tool call: a missing file (the usual case) is not worth an exception.
      return statSync(this.file, {throwIfNoEntry: false})
    } catch {
      return undefined
    }
  }
}
