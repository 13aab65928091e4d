/**
 * `hld doctor`: each thing hld needs, checked the way the daemon would use it, with what to do
 * when it is wrong. Checks never throw: a failure is a finding.
 */
import {type Stats, statSync, statfsSync} from 'node:fs'
import path from 'node:path'

import {execa} from 'execa'

import type {Config} from '../config/index.js'
import {HttpHumanLayerApi} from '../daemon/approvals/cloud-api.js'
import {locateClaude} from '../daemon/sessions/claude-locator.js'
import type {HealthResult} from '../protocol/daemon.js'

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface Check {
  name: string
  status: CheckStatus
  detail: string
  /** What to do, when the status is not ok. */
  fix?: string
}

/** Below this, the database and log may fill the disk soon (hld refuses writes on a full disk). */
const LOW_DISK_BYTES = 512 * 2 ** 20
const CLAUDE_VERSION_TIMEOUT_MS = 10_000

export async function claudeCheck(config: Config): Promise<Check> {
  const found = locateClaude(config.claude_path)
  if (!found.available) {
    return {
      name: 'claude',
      status: 'fail',
      detail: found.reason,
      fix: 'Install Claude Code (npm install -g @anthropic-ai/claude-code) or set claude_path.',
    }
  }
  const run = await execa(found.path, ['--version'], {reject: false, timeout: CLAUDE_VERSION_TIMEOUT_MS, stdin: 'ignore'})
  if (run.exitCode !== 0) {
    const why =
      String(run.stderr || run.stdout)
        .trim()
        .split('\n')[0] || `exit ${run.exitCode}`
    return {
      name: 'claude',
      status: 'fail',
      detail: `${found.path} --version failed: ${why}`,
      fix: 'Reinstall Claude Code, or point claude_path at a working binary.',
    }
  }
  return {name: 'claude', status: 'ok', detail: `${found.path} (${String(run.stdout).trim()})`}
}

/** A file hld keeps private: owned by this user, no access for others, in a directory that is private too. */
export function pathCheck(name: string, file: string, options: {expectSocket?: boolean} = {}): Check {
  if (file === ':memory:') return {name, status: 'ok', detail: 'in memory'}
  const uid = process.getuid?.()
  const dir = path.dirname(file)
  const problems: string[] = []
  const fixes: string[] = []
  const dirStat = statOrUndefined(dir)
  if (!dirStat) return {name, status: 'ok', detail: `${file} (not created yet)`}
  if (uid !== undefined && dirStat.uid !== uid) problems.push(`its directory ${dir} belongs to uid ${dirStat.uid}`)
  if ((dirStat.mode & 0o077) !== 0) {
    problems.push(`its directory ${dir} is mode ${octal(dirStat.mode)}`)
    fixes.push(`chmod 700 ${dir}`)
  }
  const stat = statOrUndefined(file)
  if (stat) {
    if (uid !== undefined && stat.uid !== uid) problems.push(`it belongs to uid ${stat.uid}`)
    if ((stat.mode & 0o077) !== 0) {
      problems.push(`it is mode ${octal(stat.mode)}`)
      fixes.push(`chmod 600 ${file}`)
    }
    if (options.expectSocket && !stat.isSocket()) problems.push('it is not a socket')
  }
  const detail = `${file}${stat ? ` (${octal(stat.mode)})` : ' (not created yet)'}`
  if (problems.length === 0) return {name, status: 'ok', detail}
  return {
    name,
    status: 'fail',
    detail: `${detail}: ${problems.join(', ')}`,
    fix: fixes.length > 0 ? fixes.join(' && ') : 'Use a path of your own (see README, Configuration).',
  }
}

export function diskCheck(config: Config): Check {
  const where = config.database_path === ':memory:' ? path.dirname(config.log_file) : path.dirname(config.database_path)
  const existing = nearestExisting(where)
  try {
    const fs = statfsSync(existing)
    const free = fs.bavail * fs.bsize
    const detail = `${mib(free)} free on the file system of ${existing}`
    return free < LOW_DISK_BYTES
      ? {name: 'disk', status: 'warn', detail, fix: 'Free some space: the database and log grow with every session.'}
      : {name: 'disk', status: 'ok', detail}
  } catch (error) {
    return {name: 'disk', status: 'warn', detail: `cannot measure free space at ${existing}: ${(error as Error).message}`}
  }
}

/** The daemon's answer to health (or undefined when none runs), judged against this CLI's version. */
export function daemonCheck(health: HealthResult | undefined, cliVersion: string, socketPath: string): Check[] {
  if (!health) {
    return [
      {name: 'daemon', status: 'warn', detail: `not running at ${socketPath}`, fix: 'hld daemon start (commands also start it on demand).'},
    ]
  }
  const checks: Check[] = []
  checks.push(
    health.version === cliVersion
      ? {name: 'daemon', status: 'ok', detail: `${health.version}, pid ${health.pid}, ${health.status}`}
      : {
          name: 'daemon',
          status: 'fail',
          detail: `the daemon runs ${health.version}, this CLI is ${cliVersion}`,
          fix: 'Restart it so both are the same version: hld daemon stop && hld daemon start',
        },
  )
  for (const [name, component] of Object.entries(health.components)) {
    if (!component.available) {
      checks.push({
        name: `daemon ${name}`,
        status: 'fail',
        detail: component.detail ?? 'unavailable',
        fix: `See the daemon log: ${health.log_file ?? 'stderr'}.`,
      })
    }
  }
  return checks
}

export async function cloudCheck(config: Config): Promise<Check | undefined> {
  if (!config.api_key) return undefined
  const api = new HttpHumanLayerApi({baseUrl: config.api_base_url, apiKey: config.api_key, timeoutMs: config.api_timeout_ms})
  try {
    await api.pendingFunctionCalls(AbortSignal.timeout(config.api_timeout_ms))
    return {name: 'cloud API', status: 'ok', detail: `${config.api_base_url} answers, and accepts the api_key`}
  } catch (error) {
    return {
      name: 'cloud API',
      status: 'fail',
      detail: `${config.api_base_url}: ${(error as Error).message}`,
      fix: 'Check the network, api_base_url and api_key (HUMANLAYER_API_KEY); local approvals work without it.',
    }
  }
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file)
  } catch {
    return undefined
  }
}

function nearestExisting(dir: string): string {
  let current = dir
  while (!statOrUndefined(current) && path.dirname(current) !== current) current = path.dirname(current)
  return current
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`
const mib = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MiB`
