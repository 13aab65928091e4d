/**
 * The `--settings` a session's claude gets: one PreToolUse hook, matcher `*`, running the lean
 * hook entry (bin/hook.cjs, no oclif) with this daemon's node, by absolute paths, so it runs
 * whatever claude's PATH is. The hook is how every tool call reaches the policy.
 */
import path from 'node:path'

import {packageRoot} from '../../shared/package-root.js'

/**
 * claude's own limit on one hook run, in seconds. A human may take long; if this passes, claude
 * goes on to its permission prompt tool, which finds the same approval (by tool_use_id).
 */
export const HOOK_TIMEOUT_S = 24 * 3600

export interface HookTarget {
  runId: string
  socketPath: string
  reconnectMs: number
}

export function hookCommand(target: HookTarget): string {
  const argv = [
    process.execPath,
    path.join(packageRoot(), 'bin', 'hook.cjs'),
    'pre-tool-use',
    '--socket',
    target.socketPath,
    '--run-id',
    target.runId,
    '--reconnect-ms',
    String(target.reconnectMs),
  ]
  return argv.map(shellQuote).join(' ')
}

export function hookSettings(target: HookTarget): object {
  return {hooks: {PreToolUse: [{matcher: '*', hooks: [{type: 'command', command: hookCommand(target), timeout: HOOK_TIMEOUT_S}]}]}}
}

/** Single quotes, with each `'` closed, escaped and reopened: nothing inside is special to sh. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`
}
