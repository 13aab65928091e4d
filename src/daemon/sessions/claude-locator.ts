/**
 * Finds the `claude` binary: the configured claude_path (config file or HUMANLAYER_CLAUDE_PATH),
 * else the first executable `claude` on the daemon's PATH. Looked up again on every launch (health
 * reuses a look-up for a few seconds), so installing claude on that PATH does not need a daemon
 * restart (upstream #476, #796); a new claude_path does, and the error says so.
 */
import {accessSync, constants, statSync} from 'node:fs'
import path from 'node:path'

export type ClaudeLocation = {available: true; path: string} | {available: false; reason: string}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return statSync(file).isFile()
  } catch {
    return false
  }
}

export function locateClaude(configuredPath: string | undefined, envPath = process.env.PATH ?? ''): ClaudeLocation {
  // The daemon reads its configuration once, when it starts; only its PATH is searched again.
  const howToFix =
    'Install Claude Code into a directory on the PATH the daemon started with (no restart needed), or set ' +
    'HUMANLAYER_CLAUDE_PATH (or claude_path in the config file) and restart the daemon: `hld daemon stop && hld daemon start`.'
  if (configuredPath !== undefined) {
    return isExecutableFile(configuredPath)
      ? {available: true, path: configuredPath}
      : {available: false, reason: `claude_path is ${configuredPath}, which is not an executable file. ${howToFix}`}
  }
  for (const dir of envPath.split(path.delimiter)) {
    if (dir === '') continue
    const candidate = path.join(dir, 'claude')
    if (isExecutableFile(candidate)) return {available: true, path: candidate}
  }
  return {available: false, reason: `claude was not found on the daemon's PATH. ${howToFix}`}
}
