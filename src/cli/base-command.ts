/**
 * What every command shares: `--json`, `--socket`, `--host(s)`, configuration, the clients it
 * opens (closed in `finally()`), and the mapping from errors to exit codes and JSON error objects.
 * The connections and the error reports live in context.ts and error-report.ts, which the lean
 * entry of the hot commands (lean.ts) uses too. Heavy modules stay out of here so commands start fast.
 */
import {Command, Errors, Flags, type Interfaces, ux} from '@oclif/core'

import type {DaemonClient, Endpoint} from '../client/index.js'
import type {HostSpec} from '../config/hosts.js'
import type {Config, ConfigOverrides} from '../config/index.js'
import {type CommandContext, type ConnectOptions, DaemonAccess, honourNoColor, requireLocal} from './context.js'
import {errorJson, reportError} from './error-report.js'
import {jsonText} from './render/inert.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command implements CommandContext {
  static enableJsonFlag = true

  static baseFlags = {
    socket: Flags.string({
      summary: 'Path of the daemon socket.',
      description: 'Overrides HUMANLAYER_DAEMON_SOCKET and socket_path in the config file.',
      helpGroup: 'GLOBAL',
    }),
    host: Flags.string({
      summary: 'The machine whose daemon to talk to: local, a name from "hosts" in daemon.json, or ssh://[user@]host[:port].',
      description: 'Overrides HUMANLAYER_HOST. Over ssh, the far side runs `hld daemon dial-stdio` (see HUMANLAYER_REMOTE_HLD).',
      helpGroup: 'GLOBAL',
    }),
    hosts: Flags.string({
      summary: 'Several machines at once, comma-separated (e.g. devbox,ci,local): lists merge them, ids find their host.',
      description:
        'Overrides HUMANLAYER_HOSTS. Lists gain a HOST column; a host that fails is reported and the others still listed. ' +
        'Ids may be qualified (devbox:9c1e); an unqualified prefix must be unique across the hosts.',
      helpGroup: 'GLOBAL',
    }),
    // chalk and oclif read --color/--no-color from argv themselves; declared so it parses and shows in --help.
    color: Flags.boolean({
      summary: 'Colour the output (default: only on a terminal, and never when NO_COLOR is set).',
      allowNo: true,
      helpGroup: 'GLOBAL',
    }),
  }

  protected flags!: BaseFlags<T>
  private daemonAccess: DaemonAccess | undefined

  async init(): Promise<void> {
    await super.init()
    await honourNoColor(this.argv)
  }

  /** The connections, for the flags parsed (parseFlags comes first). */
  private get access(): DaemonAccess {
    this.daemonAccess ??= new DaemonAccess(this.flags)
    return this.daemonAccess
  }

  /** Parses argv into `this.flags`, and returns the flags and args typed by the command's statics. */
  protected async parseFlags(): Promise<{flags: BaseFlags<T>; args: BaseArgs<T>; argv: string[]}> {
    const parsed = await this.parse(this.ctor as typeof BaseCommand)
    this.flags = parsed.flags as BaseFlags<T>
    // argv: every argument, for commands that take any number of them (`static strict = false`).
    return {flags: this.flags, args: parsed.args as BaseArgs<T>, argv: parsed.argv as string[]}
  }

  async loadConfig(overrides: ConfigOverrides = {}): Promise<Config> {
    return this.access.loadConfig(overrides)
  }

  /** The machine --host or HUMANLAYER_HOST names; this one by default. */
  async host(config?: Config): Promise<HostSpec> {
    return this.access.host(config)
  }

  /** Where a machine's daemon is (DaemonAccess.endpointOf). */
  async endpointOf(host: HostSpec, options: ConnectOptions = {}): Promise<Endpoint> {
    return this.access.endpointOf(host, options)
  }

  /** Refuses --host for what only makes sense on this machine (starting and stopping its daemon). */
  protected async requireLocal(what: string): Promise<void> {
    return requireLocal(this, what)
  }

  /** The client to a running daemon (one per command); starts one unless told not to (or HUMANLAYER_NO_AUTOSTART=1). */
  async client(options: ConnectOptions = {}): Promise<DaemonClient> {
    return this.access.client(options)
  }

  /** A client to one machine's daemon, closed when the command ends. */
  async clientOf(host: HostSpec, options: ConnectOptions = {}): Promise<DaemonClient> {
    return this.access.clientOf(host, options)
  }

  /** The machines --hosts or HUMANLAYER_HOSTS name; undefined when neither does (then one machine: host()). */
  async hostList(config?: Config): Promise<HostSpec[] | undefined> {
    return this.access.hostList(config)
  }

  /** The client of the machine that owns `id`, and the id as that machine knows it (DaemonAccess.clientForId). */
  async clientForId(
    id: string,
    find: (client: DaemonClient, id: string) => Promise<unknown>,
    what: string,
    options: {autostart?: boolean} = {},
  ): Promise<{client: DaemonClient; id: string; host: HostSpec}> {
    return this.access.clientForId(id, find, what, options)
  }

  /** The machines an id is looked for on, and the id as they know it (DaemonAccess.hostsOf). */
  async hostsOf(text: string, config?: Config): Promise<{hosts?: HostSpec[]; id: string; qualified: boolean}> {
    return this.access.hostsOf(text, config)
  }

  /** clientForId for several ids at once, each resolved or failed on its own (DaemonAccess.clientsForIds). */
  async clientsForIds(...args: Parameters<DaemonAccess['clientsForIds']>): ReturnType<DaemonAccess['clientsForIds']> {
    return this.access.clientsForIds(...args)
  }

  protected async finally(error: Error | undefined): Promise<void> {
    this.daemonAccess?.close()
    await super.finally(error)
  }

  protected async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    const report = reportError(error, this.jsonEnabled(), (this.ctor as typeof BaseCommand).flags ?? {})
    // oclif's parse errors and `this.error()` already carry their own exit status.
    if (error instanceof Errors.CLIError) {
      error.oclif.exit ??= report.exitCode
      error.message = report.message
      return super.catch(Object.assign(error, {exitCode: error.oclif.exit}))
    }
    // oclif prints "Error: <message>" for people, in the CLI's words; --json keeps the daemon's
    // message, the original name and the JSON-RPC code.
    const {name: errorName, exitCode, ...rest} = report
    return super.catch(Object.assign(new Errors.CLIError(report.message, {exit: exitCode}), {exitCode, errorName, ...rest}))
  }

  /** JSON as oclif prints it (pretty, coloured on a terminal), with every unsafe character as a \\u escape. */
  logJson(json: unknown): void {
    ux.stdout(ux.colorizeJson(jsonText(json, 2), {pretty: false, theme: this.config.theme?.json}))
  }

  protected toErrorJson(error: unknown): unknown {
    const e = error as Error & {errorName?: string; exitCode?: number; rpcCode?: number; data?: unknown}
    return errorJson({...e, name: e.errorName ?? e.name, message: e.message})
  }
}
