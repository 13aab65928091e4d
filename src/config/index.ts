/**
 * Configuration: flags > HUMANLAYER_* environment > config file > defaults.
 *
 * Every value is validated with the name of its key and where it came from, so a typo in
 * `daemon.json` or a stray variable fails with a message that says what to fix. The api_key
 * is loaded like any other value. It goes only to the forked daemon (its environment, through
 * `configEnv`) and from there to the approvals MCP server (its private 0600 MCP config); it is
 * never printed, logged or put on a command line (test/hardening/security.test.ts checks).
 */
import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'

import {DEFAULT_MAX_FRAME_BYTES} from '../protocol/framing.js'
import {HostError, parseHostsMap} from './hosts.js'
import {type Output, nonEmptyString, oneOf, port, positiveInt, stringList, url} from './validators.js'

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

// Not zod: the CLI loads config on every command (see validators.ts).
const filePath = nonEmptyString

/** Each key: its validator, the environment variables that set it (first wins), its default. */
const KEYS = {
  socket_path: {schema: filePath, env: ['HUMANLAYER_DAEMON_SOCKET'], default: '~/.humanlayer/daemon.sock'},
  database_path: {schema: filePath, env: ['HUMANLAYER_DATABASE_PATH'], default: '~/.humanlayer/daemon.db'},
  api_key: {schema: nonEmptyString.optional(), env: ['HUMANLAYER_API_KEY'], default: undefined},
  api_base_url: {
    schema: url(['http', 'https']),
    env: ['HUMANLAYER_API_BASE_URL', 'HUMANLAYER_API_BASE'],
    default: 'https://api.humanlayer.dev/humanlayer/v1',
  },
  poll_interval_ms: {schema: positiveInt, env: ['HUMANLAYER_POLL_INTERVAL_MS'], default: 5000},
  api_timeout_ms: {schema: positiveInt, env: ['HUMANLAYER_API_TIMEOUT_MS'], default: 30_000},
  claude_path: {schema: filePath.optional(), env: ['HUMANLAYER_CLAUDE_PATH'], default: undefined},
  log_level: {schema: oneOf(LOG_LEVELS), env: ['HUMANLAYER_LOG_LEVEL'], default: 'info'},
  log_file: {schema: filePath, env: ['HUMANLAYER_LOG_FILE'], default: '~/.humanlayer/logs/daemon.log'},
  max_frame_bytes: {schema: positiveInt, env: ['HUMANLAYER_MAX_FRAME_BYTES'], default: DEFAULT_MAX_FRAME_BYTES},
  heartbeat_interval_ms: {schema: positiveInt, env: ['HUMANLAYER_HEARTBEAT_INTERVAL_MS'], default: 30_000},
  event_retention_count: {schema: positiveInt, env: ['HUMANLAYER_EVENT_RETENTION_COUNT'], default: 100_000},
  event_retention_ms: {schema: positiveInt, env: ['HUMANLAYER_EVENT_RETENTION_MS'], default: 7 * 24 * 3600 * 1000},
  subscriber_buffer_bytes: {schema: positiveInt, env: ['HUMANLAYER_SUBSCRIBER_BUFFER_BYTES'], default: 4 * 1024 * 1024},
  /** How long an interrupted claude (or one stopped at shutdown) gets before SIGKILL. */
  session_stop_timeout_ms: {schema: positiveInt, env: ['HUMANLAYER_SESSION_STOP_TIMEOUT_MS'], default: 5000},
  /** How long `--hosts` waits for each machine (ssh included) before listing the others without it. */
  host_timeout_ms: {schema: positiveInt, env: ['HUMANLAYER_HOST_TIMEOUT_MS'], default: 15_000},
  raw_event_retention_count: {schema: positiveInt, env: ['HUMANLAYER_RAW_EVENT_RETENTION_COUNT'], default: 1_000_000},
  raw_event_retention_ms: {schema: positiveInt, env: ['HUMANLAYER_RAW_EVENT_RETENTION_MS'], default: 30 * 24 * 3600 * 1000},
  /** How long a write waits for a database another process holds locked. */
  database_lock_wait_ms: {schema: positiveInt, env: ['HUMANLAYER_DATABASE_LOCK_WAIT_MS'], default: 30_000},
  log_max_bytes: {schema: positiveInt, env: ['HUMANLAYER_LOG_MAX_BYTES'], default: 10 * 1024 * 1024},
  log_max_files: {schema: positiveInt, env: ['HUMANLAYER_LOG_MAX_FILES'], default: 5},
  max_connections: {schema: positiveInt, env: ['HUMANLAYER_MAX_CONNECTIONS'], default: 512},
  /** Bytes of unfinished frames held across all connections. */
  max_pending_frame_bytes: {schema: positiveInt, env: ['HUMANLAYER_MAX_PENDING_FRAME_BYTES'], default: 64 * 1024 * 1024},
  /** claude processes at once; unset: sized to the machine (see defaultMaxConcurrentSessions). */
  max_concurrent_sessions: {schema: positiveInt.optional(), env: ['HUMANLAYER_MAX_CONCURRENT_SESSIONS'], default: undefined},
  frame_idle_timeout_ms: {schema: positiveInt, env: ['HUMANLAYER_FRAME_IDLE_TIMEOUT_MS'], default: 30_000},
  /** How long a session's policy hook keeps trying to reach the daemon before it blocks the call. */
  approval_reconnect_ms: {schema: positiveInt, env: ['HUMANLAYER_APPROVAL_RECONNECT_MS'], default: 30_000},
  /** The REST + SSE API (Go hld's, on 127.0.0.1 only); off unless a port is set. 0 lets the OS pick. */
  http_port: {schema: port.optional(), env: ['HUMANLAYER_DAEMON_HTTP_PORT'], default: undefined},
  /** `token` (Authorization: Bearer, from http_token_file) or `none` (an explicit, logged opt-out). */
  http_auth: {schema: oneOf(['token', 'none'] as const), env: ['HUMANLAYER_DAEMON_HTTP_AUTH'], default: 'token'},
  http_token_file: {schema: filePath, env: ['HUMANLAYER_DAEMON_HTTP_TOKEN_FILE'], default: '~/.humanlayer/http-token'},
  /** Browser origins allowed to call the API (an Origin header not listed gets 403). */
  http_allowed_origins: {schema: stringList, env: ['HUMANLAYER_DAEMON_HTTP_ALLOWED_ORIGINS'], default: [] as string[]},
} as const

type Keys = typeof KEYS
export type ConfigKey = keyof Keys
export type Config = {[K in ConfigKey]: Output<Keys[K]['schema']>} & {
  /** Where each value came from, for error messages and `hld daemon status`. */
  sources: Record<ConfigKey, ConfigSource>
  config_file: string
  /** Named machines for `--host`/`--hosts`: name → ssh:// address (config file only). */
  hosts: Record<string, string>
}
export type ConfigSource = 'flag' | 'environment' | 'config file' | 'default'
export type ConfigOverrides = Partial<Record<ConfigKey, string | number | undefined>>

const PATH_KEYS = new Set<ConfigKey>(['socket_path', 'database_path', 'claude_path', 'log_file', 'http_token_file'])

export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

export function expandHome(value: string, home = homedir()): string {
  if (value === '~') return home
  if (value.startsWith('~/')) return path.join(home, value.slice(2))
  return value
}

export function configFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HUMANLAYER_CONFIG_FILE) return expandHome(env.HUMANLAYER_CONFIG_FILE, env.HOME ?? homedir())
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME ?? homedir(), '.config')
  return path.join(base, 'humanlayer', 'daemon.json')
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new ConfigError(`Cannot read config file ${file}: ${(error as Error).message}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new ConfigError(`Config file ${file} is not valid JSON: ${(error as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`Config file ${file} must hold a JSON object of settings`)
  }
  const unknown = Object.keys(parsed).filter((key) => !(key in KEYS) && key !== 'hosts')
  if (unknown.length > 0) {
    throw new ConfigError(
      `Config file ${file} has unknown key${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; known keys: ${[...Object.keys(KEYS), 'hosts'].join(', ')}`,
    )
  }
  return parsed as Record<string, unknown>
}

/** The value of one key and where it came from, before validation. */
function pick(
  key: ConfigKey,
  overrides: ConfigOverrides,
  env: NodeJS.ProcessEnv,
  file: Record<string, unknown>,
): {value: unknown; source: ConfigSource; origin: string} {
  const flag = overrides[key]
  if (flag !== undefined) return {value: flag, source: 'flag', origin: `flag for ${key}`}
  for (const name of KEYS[key].env) {
    const value = env[name]
    if (value !== undefined && value !== '') return {value, source: 'environment', origin: `environment variable ${name}`}
  }
  if (key === 'log_level' && env.HUMANLAYER_DEBUG === 'true') {
    return {value: 'debug', source: 'environment', origin: 'environment variable HUMANLAYER_DEBUG'}
  }
  if (file[key] !== undefined) return {value: file[key], source: 'config file', origin: `key "${key}" in the config file`}
  return {value: KEYS[key].default, source: 'default', origin: `default for ${key}`}
}

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const file = configFilePath(env)
  const fileValues = readConfigFile(file)
  const home = env.HOME || homedir()
  const out: Record<string, unknown> = {}
  const sources = {} as Record<ConfigKey, ConfigSource>

  for (const key of Object.keys(KEYS) as ConfigKey[]) {
    const {value, source, origin} = pick(key, overrides, env, fileValues)
    const result = KEYS[key].schema.safeParse(value)
    if (!result.success) {
      const shown = key === 'api_key' ? '<redacted>' : JSON.stringify(value)
      const where = source === 'config file' ? `${origin} (${file})` : origin
      throw new ConfigError(`Invalid ${key} from ${where}: ${shown}: ${result.error.issues[0]?.message ?? 'invalid value'}`)
    }
    let parsed = result.data
    if (PATH_KEYS.has(key) && typeof parsed === 'string' && parsed !== ':memory:') {
      parsed = path.resolve(expandHome(parsed, home))
    }
    out[key] = parsed
    sources[key] = source
  }
  let hosts: Record<string, string>
  try {
    hosts = parseHostsMap(fileValues.hosts, file)
  } catch (error) {
    throw error instanceof HostError ? new ConfigError(error.message) : error
  }
  return {...(out as Omit<Config, 'sources' | 'config_file' | 'hosts'>), sources, config_file: file, hosts}
}

/** Where a path key points when nothing sets it: tells hld's own directories from ones a user chose. */
export function defaultPath(key: 'socket_path' | 'database_path' | 'log_file', env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(expandHome(KEYS[key].default, env.HOME || homedir()))
}

/**
 * The environment that hands this config to a forked daemon, so the child resolves exactly
 * the values this process did (flags included) without putting secrets on its command line.
 */
export function configEnv(config: Config): Record<string, string> {
  const env: Record<string, string> = {}
  for (const key of Object.keys(KEYS) as ConfigKey[]) {
    const value = config[key]
    if (value !== undefined) env[KEYS[key].env[0]] = String(value)
  }
  return env
}
