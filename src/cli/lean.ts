/**
 * The lean entry: bin/run.js hands it the commands people and scripts run most (LEAN_COMMANDS in
 * argv.ts), and it runs them without loading oclif, whose import alone costs more than starting
 * node. It parses only arguments it is sure oclif would parse the same way, from the flags of the
 * commands themselves (dist/cli/lean-manifest.json, written at build time from the oclif
 * classes); anything else (--help, an unknown or repeated flag, a bad value, a missing argument,
 * `--`, oclif's HLD_* or DEBUG variables, a theme file) is left to oclif, which then prints what
 * it always did. The command itself is the same function either way (see context.ts), and its
 * output, errors and exit status are printed as oclif prints them:
 * test/integration/lean-cli.test.ts runs every routed command through both and compares.
 * `HLD_NO_LEAN=1` (any HLD_* variable) sends everything to oclif.
 */
import {EventEmitter} from 'node:events'
import {existsSync, readFileSync, writeSync} from 'node:fs'
import {createRequire} from 'node:module'
import {homedir} from 'node:os'
import path from 'node:path'
import {format} from 'node:util'

import {type CommandContext, DaemonAccess, type GlobalFlags, type OutputStream, type Parsed, honourNoColor} from './context.js'
import {errorJson, reportError} from './error-report.js'
import {jsonText} from './render/inert.js'
import {isatty} from '../shared/tty.js'

// bin/run.js loads this module's bundle first and routes the arguments with these.
export {hoistGlobalFlags, isLeanDialStdio, leanCommand} from './argv.js'
// `hld daemon dial-stdio`, the far side of every `--host` command: already loaded with the rest.
export {main as dialStdio} from './dial-stdio.js'

interface FlagSpec {
  type: 'boolean' | 'string' | 'integer'
  allowNo?: boolean
  multiple?: boolean
  options?: string[]
  delimiter?: string
  default?: string | number | boolean
  min?: number
  max?: number
  required?: boolean
  /** Flags it cannot be given with: oclif reports that. */
  exclusive?: string[]
}

interface CommandSpec {
  flags: Record<string, FlagSpec>
  /** The command's own flags (not the global ones): error messages name them for wire fields. */
  ownFlags: string[]
  args: {name: string; required: boolean}[]
  strict: boolean
}

type Run = (ctx: CommandContext, parsed: Parsed<never, never>) => Promise<unknown>

/**
 * Each lean command's function: the same one its oclif command's run() calls. `takes`: whether it
 * runs these arguments here (else oclif does).
 */
const COMMANDS: Record<
  string,
  {load: () => Promise<Run>; jsonLines?: boolean; takes?: (parsed: Parsed<Record<string, unknown>>) => boolean}
> = {
  // In the background and without progress to show: --foreground runs the daemon in this process,
  // and on a terminal oclif shows listr2's progress (src/commands/daemon/start.ts).
  'daemon start': {
    load: async () => (await import('./daemon-start.js')).daemonStart,
    takes: ({flags}) => !flags.foreground && (flags.json === true || !isatty(1)),
  },
  'daemon status': {load: async () => (await import('./daemon-status.js')).daemonStatus},
  'approvals list': {load: async () => (await import('./approvals.js')).listApprovals},
  'approvals approve': {load: async () => (await import('./approvals.js')).approve},
  'approvals deny': {load: async () => (await import('./approvals.js')).deny},
  'session list': {load: async () => (await import('./sessions.js')).listSessions},
  'session show': {load: async () => (await import('./sessions.js')).showSession},
  // Watch prints --json errors as one more NDJSON line (its logJson).
  watch: {load: async () => (await import('./watch.js')).watch, jsonLines: true},
}

/**
 * Runs command `id` (`argv` starts with its words) if it can; false when oclif must (then
 * nothing has been printed or done).
 */
export async function runLean(id: string, argv: string[]): Promise<boolean> {
  const command = COMMANDS[id]
  if (!command || !leanEnvironment()) return false
  const tokens = argv.slice(id.split(' ').length)
  const parsed = parse(manifest()[id], tokens)
  if (!parsed || (command.takes && !command.takes(parsed))) return false
  const run = await command.load()
  const context = new LeanContext(parsed.flags, tokens)
  await honourNoColor(tokens)
  let result: unknown
  try {
    result = await run(context, parsed as Parsed<never, never>)
  } catch (error) {
    // What BaseCommand.catch, oclif's Command.catch and its error handler do, in that order.
    const json = context.jsonEnabled()
    const report = reportError(error as Error, json, Object.fromEntries(manifest()[id].ownFlags.map((name) => [name, true])))
    process.exitCode ??= report.exitCode
    context.close()
    if (!json) {
      console.error(oclifText('Error', report.message))
      process.exit(report.exitCode)
    }
    printJson(errorJson(report), command.jsonLines)
    return true
  }
  context.close()
  if (result && context.jsonEnabled()) printJson(result)
  return true
}

/** The manifest, put in the bundle by the build (scripts/build-lean.js); not there when this runs unbundled. */
declare const HLD_LEAN_MANIFEST: Record<string, CommandSpec> | undefined

let cachedManifest: Record<string, CommandSpec> | undefined

function manifest(): Record<string, CommandSpec> {
  cachedManifest ??=
    typeof HLD_LEAN_MANIFEST === 'undefined'
      ? (JSON.parse(readFileSync(path.join(import.meta.dirname, 'lean-manifest.json'), 'utf8')) as Record<string, CommandSpec>)
      : HLD_LEAN_MANIFEST
  return cachedManifest
}

/**
 * Whether nothing outside the arguments changes what oclif would do: its HLD_* and OCLIF_*
 * variables (HLD_CONTENT_TYPE=json, HLD_DEBUG, …), DEBUG (its debug output), and a user theme
 * file (colours its JSON).
 */
function leanEnvironment(): boolean {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('HLD_') || name.startsWith('OCLIF_') || name === 'DEBUG') return false
  }
  const configHome = process.env.XDG_CONFIG_HOME || path.join(process.env.HOME || homedir(), '.config')
  return !existsSync(path.join(configHome, 'hld', 'theme.json'))
}

/**
 * The flags, arguments and argv oclif's parser would give, for arguments written the plain way:
 * `--name value`, `--name=value`, `--flag`, `--no-flag` and positional arguments. Undefined for
 * anything else, so that oclif parses it (and reports its errors itself).
 */
export function parse(spec: CommandSpec, tokens: string[]): Parsed<Record<string, unknown>> | undefined {
  const flags: Record<string, unknown> = {}
  const positional: string[] = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (!token.startsWith('-')) {
      positional.push(token)
      continue
    }
    if (!token.startsWith('--') || token === '--') return undefined
    const equals = token.indexOf('=')
    let name = token.slice(2, equals === -1 ? undefined : equals)
    let value: boolean | undefined = true
    if (!spec.flags[name] && name.startsWith('no-') && spec.flags[name.slice(3)]?.allowNo) {
      name = name.slice(3)
      value = false
    }
    const flag = spec.flags[name]
    if (!flag) return undefined
    if (flag.type === 'boolean') {
      if (equals !== -1 || name in flags) return undefined
      flags[name] = value
      continue
    }
    if (!value || (name in flags && !flag.multiple)) return undefined
    const input = equals === -1 ? tokens[++i] : token.slice(equals + 1)
    const parsed = input === undefined ? undefined : parseValue(flag, input)
    if (parsed === undefined) return undefined
    flags[name] = flag.multiple ? [...((flags[name] as unknown[] | undefined) ?? []), ...(parsed as unknown[])] : parsed
  }
  // oclif reads a missing argument from stdin unless it is a terminal; a multiple flag takes the words after it.
  const missing = spec.args.slice(positional.length)
  if (missing.length > 0 && (missing.some((arg) => arg.required) || !isatty(0))) return undefined
  if (positional.length > 0 && Object.values(spec.flags).some((flag) => flag.multiple)) return undefined
  if (spec.strict && positional.length > spec.args.length) return undefined
  for (const [name, flag] of Object.entries(spec.flags)) {
    if (flags[name] === undefined && flag.required) return undefined
    if (flags[name] !== undefined && flag.exclusive?.some((other) => flags[other] !== undefined)) return undefined
    if (flags[name] === undefined && flag.default !== undefined) flags[name] = flag.default
  }
  const args = Object.fromEntries(spec.args.map((arg, index) => [arg.name, positional[index]]))
  return {flags, args, argv: positional}
}

/** A flag's value as oclif parses it; undefined when oclif might not take it (it then says why). */
function parseValue(flag: FlagSpec, input: string): unknown {
  if (input === '' || input.startsWith('-')) return undefined
  if (flag.type === 'integer') {
    if (!/^\d{1,15}$/.test(input)) return undefined
    const number = Number.parseInt(input, 10)
    if ((flag.min !== undefined && number < flag.min) || (flag.max !== undefined && number > flag.max)) return undefined
    return number
  }
  if (flag.multiple) {
    // Plain comma-separated words only: oclif also trims, unquotes and unescapes them.
    const values = flag.delimiter === undefined ? [input] : flag.delimiter === ',' ? input.split(',') : undefined
    if (!values || values.some((value) => !/^[\w.-]+$/.test(value) || (flag.options && !flag.options.includes(value)))) return undefined
    return values
  }
  if (flag.options && !flag.options.includes(input)) return undefined
  return input
}

/** The CommandContext of a command run here: output as oclif's Command prints it. */
class LeanContext extends DaemonAccess implements CommandContext {
  // Without node:net, whose modules alone cost these commands ~3 ms (client/fd-socket.ts).
  protected override socketTransport = 'fd' as const
  // process.stderr only when a line is written: it, too, is a node:net socket on a pipe.
  readonly streams = {out: stdout, err: {write: (text: string) => process.stderr.write(text)}}

  constructor(
    flags: GlobalFlags,
    private readonly tokens: string[],
  ) {
    super(flags)
  }

  jsonEnabled(): boolean {
    return this.tokens.includes('--json')
  }

  log(message = ''): void {
    if (!this.jsonEnabled()) stdout.write(`${message}\n`)
  }

  logToStderr(message = ''): void {
    if (!this.jsonEnabled()) console.error(format(message))
  }

  warn(message: string): void {
    if (!this.jsonEnabled()) console.error(oclifText('Warning', message))
  }
}

/** JSON as BaseCommand.logJson prints it without a theme (pretty), or one compact line (NDJSON). */
function printJson(json: unknown, jsonLines = false): void {
  stdout.write(`${jsonText(json, jsonLines ? undefined : 2)}\n`)
}

/**
 * stdout as console.log writes it, but written at once with fs.writeSync: process.stdout on a pipe
 * or a terminal is a node:net socket, whose modules alone cost a short command ~3 ms. Should stdout
 * refuse a write (a non-blocking pipe that is full, a reader gone), that write and every later one
 * go through process.stdout, in order. Its 'drain' is passed on, and its 'error' to whoever listens
 * (watch ends on it); with nobody listening it is dropped, as console.log drops it (`| head`).
 */
class Stdout extends EventEmitter implements OutputStream {
  private stream: NodeJS.WriteStream | undefined

  /** Whether all that was written is out (the stream, once used, may still hold some). */
  get flushed(): boolean {
    return this.stream === undefined
  }

  write(text: string): boolean {
    const bytes = Buffer.from(text)
    let offset = 0
    if (!this.stream) {
      try {
        while (offset < bytes.length) offset += writeSync(1, bytes, offset)
        return true
      } catch {
        this.stream = process.stdout
        this.stream.on('drain', () => this.emit('drain'))
        this.stream.on('error', (error) => this.listenerCount('error') > 0 && this.emit('error', error))
      }
    }
    return this.stream.write(bytes.subarray(offset))
  }
}

const stdout = new Stdout()

/**
 * Ends the process once runLean has run a command: process.exit() skips the teardown of the heap
 * and of the event loop that a natural exit does, 1-2 ms of a short command. Only when all it
 * printed is written: when stdout fell back to its stream, and where process.stderr may still
 * hold lines (it writes pipes synchronously on Linux only), the natural exit lets them drain.
 */
export function exit(): void {
  if (stdout.flushed && process.platform === 'linux') process.exit()
}

/**
 * An error (or a warning) as oclif's handler prints it (` ›   Error: …`, wrapped to the terminal),
 * by oclif's own code, loaded only now: the part that formats, not the rest of oclif.
 */
function oclifText(name: 'Error' | 'Warning', message: string): string {
  const require = createRequire(import.meta.filename)
  const lib = path.dirname(require.resolve('@oclif/core'))
  const {default: prettyPrint} = require(path.join(lib, 'errors', 'errors', 'pretty-print.js')) as {default: (error: unknown) => string}
  const {colorize} = require(path.join(lib, 'ux', 'theme.js')) as {colorize: (color: string, text: string) => string}
  const bang = colorize(name === 'Error' ? 'red' : 'yellow', process.platform === 'win32' ? '»' : '›')
  return prettyPrint({name, message, bang})
}
