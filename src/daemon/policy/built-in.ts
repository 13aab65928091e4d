/**
 * Rules no policy overrides: an agent must not decide its own approvals, nor read what would let
 * it. They deny tool calls that name hld's socket or database, run hld's decision commands,
 * touch its config and policy files, or read its secrets: the REST API's token, daemon.json
 * (which may hold the api_key) and the sessions' MCP configs (which hold it in cloud mode).
 * Only a session launched with the loudly named `--dangerously-allow-self-approval` goes without
 * them. A best effort against an honest mistake or a naive attempt, not a sandbox: a determined
 * agent can build a path at run time.
 */
import path from 'node:path'

import type {RuleSpec} from './policy.js'
import {escapeRegex} from './rules.js'

export interface HldPaths {
  socketPath: string
  databasePath: string
  /** The directory of daemon.json and policy.json. */
  configDir: string
  /** The REST API's bearer token (http_token_file). */
  httpTokenFile: string
  /** A glob of the directories of the sessions' MCP configs and settings (see sessions/mcp-config.ts). */
  mcpConfigDirs: string
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
  // Secrets. A command naming the file's directory and then the file, however it gets there
  // (`cat ~/.humanlayer/http-token`, `cd ~/.humanlayer && cat http-token`), is denied.
  for (const file of [paths.httpTokenFile, path.join(paths.configDir, 'daemon.json')]) {
    const [dir, name] = [path.basename(path.dirname(file)), path.basename(file)]
    rules.push(deny(`Read(//${trimSlash(file)})`), deny(String.raw`Bash(/${literal(dir)}\b[\s\S]*\b${literal(name)}\b/)`))
  }
  rules.push(deny(`Edit(//${trimSlash(paths.httpTokenFile)})`))
  const mcp = `//${trimSlash(paths.mcpConfigDirs)}/**`
  rules.push(deny(`Read(${mcp})`), deny(`Edit(${mcp})`), deny(`Bash(/${literal(path.basename(paths.mcpConfigDirs).replace(/\*$/, ''))}/)`))
  return rules
}

function trimSlash(file: string): string {
  return file.replace(/^\/+/, '')
}
