/**
 * Rules no policy overrides: an agent must not decide its own approvals. They deny tool calls
 * that name hld's socket or database, run hld's decision commands, or touch its config and
 * policy files. Only a session launched with the loudly named
 * `--dangerously-allow-self-approval` goes without them. A best effort against an honest mistake
 * or a naive attempt, not a sandbox: a determined agent can build a path at run time.
 */
import path from 'node:path'

import type {RuleSpec} from './policy.js'
import {escapeRegex} from './rules.js'

export interface HldPaths {
  socketPath: string
  databasePath: string
  /** The directory of daemon.json and policy.json. */
  configDir: string
}

const SOURCE = 'built-in'

export function builtInRules(paths: HldPaths): RuleSpec[] {
  const deny = (rule: string): RuleSpec => ({rule, effect: 'deny', source: SOURCE})
  const literal = (text: string): string => escapeRegex(text).replaceAll('/', '\\/')
  const rules: RuleSpec[] = [
    // The decision commands, whatever the binary is called or where it lives.
    deny(String.raw`Bash(/\b(hld|humanlayer|hlyr|run\.js)\b.*\bapprovals?\b.*\b(approve|deny|respond)\b/s)`),
    deny(String.raw`Bash(/\bsendDecision\b/)`),
  ]
  for (const file of [paths.socketPath, paths.databasePath]) {
    rules.push(deny(`Bash(/${literal(file)}/)`), deny(`Read(//${trimSlash(file)}*)`), deny(`Edit(//${trimSlash(file)}*)`))
  }
  for (const file of ['policy.json', 'daemon.json']) {
    const full = path.join(paths.configDir, file)
    rules.push(deny(`Bash(/${literal(full)}/)`), deny(`Edit(//${trimSlash(full)})`))
  }
  return rules
}

function trimSlash(file: string): string {
  return file.replace(/^\/+/, '')
}
