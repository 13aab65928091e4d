/**
 * What every command shares: `--json`, `--socket`, configuration, one lazily opened client
 * closed in `finally()`, and the mapping from errors to exit codes and JSON error objects.
 * Heavy modules stay out of here so `hld daemon status` starts fast.
 */
import {Command, Errors, Flags, type Interfaces, ux} from '@oclif/core'

import type {DaemonClient, Endpoint} from '../client/index.js'
import type {HostSpec} from '../config/hosts.js'
import type {Config, ConfigOverrides} from '../config/index.js'
import {RpcError} from '../protocol/errors.js'
import {exitCodeFor} from './exit-codes.js'
import {inert, jsonText} from './render/inert.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
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
  /** Every client this command opened (one per host), closed in finally(). */
  private readonly openedClients: DaemonClient[] = []
  private defaultClient: DaemonClient | undefined

  /** NO_COLOR (no-color.org) for chalk too: oclif's own colours honour it, chalk does not. */
  async init(): Promise<void> {
    await super.init()
    if (process.env.NO_COLOR && !this.argv.includes('--color')) {
      const {default: chalk} = await import('chalk')
      chalk.level = 0
    }
  }

  /** Parses argv into `this.flags`, and returns the flags and args typed by the command's statics. */
  protected async parseFlags(): Promise<{flags: BaseFlags<T>; args: BaseArgs<T>; argv: string[]}> {
    const parsed = await this.parse(this.ctor as typeof BaseCommand)
    this.flags = parsed.flags as BaseFlags<T>
    // argv: every argument, for commands that take any number of them (`static strict = false`).
    return {flags: this.flags, args: parsed.args as BaseArgs<T>, argv: parsed.argv as string[]}
  }

  protected async loadConfig(overrides: ConfigOverrides = {}): Promise<Config> {
    const {loadConfig} = await import('../config/index.js')
    return loadConfig({socket_path: this.flags.socket, ...overrides})
  }

  /** The machine --host or HUMANLAYER_HOST names; this one by default. */
  protected async host(config?: Config): Promise<HostSpec> {
    const text = this.flags.host ?? process.env.HUMANLAYER_HOST
    if (text === undefined || text === '' || text === 'local') return {name: 'local', kind: 'local'}
    const {resolveHost} = await import('../config/hosts.js')
    return resolveHost(text, (config ?? (await this.loadConfig())).hosts, this.flags.host === undefined ? 'HUMANLAYER_HOST' : '--host')
  }

  /**
   * Where a machine's daemon is: its socket here, or ssh to the host (whose `dial-stdio` starts
   * the daemon there unless `autostart` is false).
   */
  protected async endpointOf(host: HostSpec, options: {autostart?: boolean; config?: Config} = {}): Promise<Endpoint> {
    if (host.kind === 'ssh') {
      const {sshEndpoint} = await import('../client/ssh.js')
      return sshEndpoint(host.target, {dialArgs: options.autostart === false ? ['--no-autostart'] : []})
    }
    const {socketEndpoint} = await import('../client/index.js')
    return socketEndpoint((options.config ?? (await this.loadConfig())).socket_path)
  }

  /** Refuses --host for what only makes sense on this machine (starting and stopping its daemon). */
  protected async requireLocal(what: string): Promise<void> {
    const host = await this.host()
    if (host.kind === 'local') return
    const {user, host: name} = host.target
    this.error(
      `${what} works on this machine only. Run it on ${host.name} itself (\`ssh ${user ? `${user}@` : ''}${name} ${what}\`); ` +
        'other commands with --host start the daemon there when none runs.',
      {exit: 2},
    )
  }

  /** The client to a running daemon (one per command); starts one unless told not to (or HUMANLAYER_NO_AUTOSTART=1). */
  protected async client(options: {autostart?: boolean; config?: Config} = {}): Promise<DaemonClient> {
    if (this.defaultClient) return this.defaultClient
    const config = options.config ?? (await this.loadConfig())
    this.defaultClient = await this.clientOf(await this.host(config), {...options, config})
    return this.defaultClient
  }

  /** A client to one machine's daemon, closed when the command ends. */
  protected async clientOf(host: HostSpec, options: {autostart?: boolean; config?: Config} = {}): Promise<DaemonClient> {
    const config = options.config ?? (await this.loadConfig())
    let client: DaemonClient
    if (host.kind === 'ssh') {
      const {DaemonClient} = await import('../client/index.js')
      client = await DaemonClient.connect(await this.endpointOf(host, options))
    } else if (options.autostart === false) {
      const {DaemonClient} = await import('../client/index.js')
      client = await DaemonClient.connect(config.socket_path)
    } else {
      const {connectOrStart} = await import('../client/lifecycle.js')
      // One line on stderr, so stdout (and --json) stay the command's own.
      const announce = (health: {pid: number; socket_path: string}) =>
        process.stderr.write(`started hld daemon (pid ${inert(health.pid)}, socket ${inert(health.socket_path)})\n`)
      client = await connectOrStart(config, process.env, announce)
    }
    this.openedClients.push(client)
    return client
  }

  /** The machines --hosts or HUMANLAYER_HOSTS name; undefined when neither does (then one machine: host()). */
  protected async hostList(config?: Config): Promise<HostSpec[] | undefined> {
    if (this.flags.host !== undefined) {
      if (this.flags.hosts !== undefined) this.error('Give --host (one machine) or --hosts (several), not both.', {exit: 2})
      return undefined
    }
    const text = this.flags.hosts ?? process.env.HUMANLAYER_HOSTS
    if (!text) return undefined
    const where = this.flags.hosts === undefined ? 'HUMANLAYER_HOSTS' : '--hosts'
    const names = [...new Set(text.split(',').map((name) => name.trim()).filter((name) => name !== ''))]
    if (names.length === 0) this.error(`${where} names no host; give e.g. devbox,local`, {exit: 2})
    const {resolveHost} = await import('../config/hosts.js')
    const {hosts} = config ?? (await this.loadConfig())
    return names.map((name) => resolveHost(name, hosts, where))
  }

  /**
   * The client of the machine that owns `id`, and the id as that machine knows it: the host a
   * qualified id names (`devbox:9c1e`); else, with --hosts, the one host where `find` succeeds;
   * else the one host of --host.
   */
  protected async clientForId(
    id: string,
    find: (client: DaemonClient, id: string) => Promise<unknown>,
    what: string,
    options: {autostart?: boolean} = {},
  ): Promise<{client: DaemonClient; id: string; host: HostSpec}> {
    const config = await this.loadConfig()
    const list = await this.hostList(config)
    const [{resolveHost}, {askHosts, ownerOf, splitQualifiedId}] = await Promise.all([import('../config/hosts.js'), import('./fan-in.js')])
    const qualified = splitQualifiedId(id, (name) => {
      const listed = list?.find((host) => host.name === name)
      if (listed) return listed
      try {
        return resolveHost(name, config.hosts)
      } catch {
        return undefined
      }
    })
    if (qualified.host) return {client: await this.clientOf(qualified.host, {...options, config}), id: qualified.id, host: qualified.host}
    if (!list) return {client: await this.client({...options, config}), id, host: await this.host(config)}
    const fanIn = await askHosts(
      list,
      async (host) => {
        const client = await this.clientOf(host, {...options, config})
        await find(client, id)
        return client
      },
      config.host_timeout_ms,
    )
    const owner = ownerOf(id, fanIn, what)
    return {client: owner.value, id, host: owner.host}
  }

  protected async finally(error: Error | undefined): Promise<void> {
    for (const client of this.openedClients) client.close()
    await super.finally(error)
  }

  protected async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    const exit = exitCodeFor(error)
    // oclif's parse errors and `this.error()` already carry their own exit status.
    if (error instanceof Errors.CLIError) {
      error.oclif.exit ??= exit
      if (!this.jsonEnabled()) error.message = inert(error.message, {lines: true})
      return super.catch(Object.assign(error, {exitCode: error.oclif.exit}))
    }
    // oclif prints "Error: <message>" for people, in the CLI's words; --json keeps the daemon's
    // message, the original name and the JSON-RPC code (not named `code`: oclif would print it).
    const json = this.jsonEnabled()
    const cliError = new Errors.CLIError(json ? error.message : inert(this.humanMessage(error), {lines: true}), {exit})
    return super.catch(
      Object.assign(cliError, {
        exitCode: exit,
        errorName: error.name,
        ...(error instanceof RpcError ? {rpcCode: error.code, data: error.data} : {}),
      }),
    )
  }

  /**
   * A daemon error as a person reads it: without the method it came from, and with the flags of
   * this command instead of the wire fields they fill (working_dir → --working-dir).
   */
  private humanMessage(error: Error): string {
    if (!(error instanceof RpcError)) return error.message
    let message = error.message.replace(/^(Invalid params|Internal error) (for|in) \w+: /, (_, kind: string) =>
      kind === 'Internal error' ? 'The daemon failed: ' : '',
    )
    const flags = (this.ctor as typeof BaseCommand).flags ?? {}
    for (const field of (error.data as {fields?: {path: string}[]} | undefined)?.fields ?? []) {
      const flag = field.path.replaceAll('_', '-')
      if (field.path && flag in flags) message = message.replaceAll(new RegExp(`\\b${field.path}\\b`, 'g'), `--${flag}`)
    }
    return message.charAt(0).toUpperCase() + message.slice(1)
  }

  /** JSON as oclif prints it (pretty, coloured on a terminal), with every unsafe character as a \\u escape. */
  logJson(json: unknown): void {
    ux.stdout(ux.colorizeJson(jsonText(json, 2), {pretty: false, theme: this.config.theme?.json}))
  }

  protected toErrorJson(error: unknown): unknown {
    const e = error as Error & {errorName?: string; exitCode?: number; rpcCode?: number; data?: unknown}
    return {
      error: {
        name: e.errorName ?? e.name,
        message: e.message,
        exitCode: e.exitCode ?? 1,
        ...(e.rpcCode === undefined ? {} : {code: e.rpcCode}),
        ...(e.data === undefined ? {} : {data: e.data}),
      },
    }
  }
}
