/**
 * What a command's core function needs from whichever entry runs it: oclif's (BaseCommand) or
 * the lean one (lean.ts) that the hot commands take so they start in about node's own time.
 * Both give it the same output, the same daemon connection and the same errors, so a command
 * is written once. Imports nothing of oclif: the lean entry must not load it.
 */
import type {DaemonClient, Endpoint, SocketTransport} from '../client/index.js'
import type {HostSpec} from '../config/hosts.js'
import type {Config, ConfigOverrides} from '../config/index.js'
import {inert} from './render/inert.js'

/** The flags every command takes (BaseCommand.baseFlags, and --json). */
export interface GlobalFlags {
  socket?: string
  host?: string
  hosts?: string
  color?: boolean
  json?: boolean
}

/** A command's parsed arguments, as oclif's parse returns them. */
export interface Parsed<F, A = Record<string, string | undefined>> {
  flags: GlobalFlags & F
  args: A
  /** Every argument, for commands that take any number (`static strict = false`). */
  argv: string[]
}

export interface ConnectOptions {
  /** false: fail with DaemonNotRunningError instead of starting a daemon. */
  autostart?: boolean
  config?: Config
}

/** What a command does output with, and reaches its daemons by (DaemonAccess's methods). */
export interface CommandContext extends Pick<
  DaemonAccess,
  'loadConfig' | 'host' | 'hostList' | 'hostsOf' | 'endpointOf' | 'client' | 'clientOf' | 'clientForId' | 'clientsForIds'
> {
  /** A line on stdout, unless --json (then the returned result is the output). */
  log(message?: string): void
  /** A line on stderr, unless --json. */
  logToStderr(message?: string): void
  /** A warning on stderr as oclif prints one (` ›   Warning: …`), unless --json. */
  warn(message: string): void
  jsonEnabled(): boolean
  /** Where a command that streams (watch) writes: process.stdout and process.stderr when not given. */
  readonly streams?: {out: OutputStream; err: Pick<OutputStream, 'write'>}
}

/** The part of a Writable that a streaming command writes its lines to. */
export interface OutputStream {
  write(text: string): boolean
  on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown
  once(event: 'drain', listener: () => void): unknown
  off(event: 'drain', listener: () => void): unknown
}

/**
 * An error a command reports as oclif's `this.error()` does: its message and its exit status
 * (read by exitCodeFor through `oclif.exit`).
 */
export class CommandError extends Error {
  readonly oclif: {exit: number}
  /** What --json shows beside the message (`error.data`), e.g. what was done before the failure. */
  readonly data?: unknown

  constructor(message: string, options: {exit: number; data?: unknown}) {
    super(message)
    this.oclif = {exit: options.exit}
    if (options.data !== undefined) this.data = options.data
  }
}

/** Refuses --host for what only makes sense on this machine (starting and stopping its daemon). */
export async function requireLocal(ctx: Pick<CommandContext, 'host'>, what: string): Promise<void> {
  const host = await ctx.host()
  if (host.kind === 'local') return
  const {user, host: name} = host.target
  throw new CommandError(
    `${what} works on this machine only. Run it on ${host.name} itself (\`ssh ${user ? `${user}@` : ''}${name} ${what}\`); ` +
      'other commands with --host start the daemon there when none runs.',
    {exit: 2},
  )
}

/** NO_COLOR (no-color.org) for chalk too: oclif's own colours honour it, chalk does not. */
export async function honourNoColor(argv: string[]): Promise<void> {
  if (process.env.NO_COLOR && !argv.includes('--color')) {
    const {default: chalk} = await import('chalk')
    chalk.level = 0
  }
}

/**
 * Where a command's daemons are and its clients: the socket of this machine, another machine's
 * daemon over ssh (--host, HUMANLAYER_HOST), or several machines (--hosts, HUMANLAYER_HOSTS).
 */
export class DaemonAccess {
  /** Every client this command opened (one per host), closed by close(). */
  private readonly openedClients: DaemonClient[] = []
  /** Each machine's client, by address and auto-start: asked again, a command gets the same one. */
  private readonly clients = new Map<string, Promise<DaemonClient>>()
  private defaultClient: DaemonClient | undefined
  /** How this machine's socket is connected to: the lean entry's short commands say `fd` (see client/fd-socket.ts). */
  protected socketTransport: SocketTransport = 'net'

  constructor(private readonly flags: GlobalFlags) {}

  async loadConfig(overrides: ConfigOverrides = {}): Promise<Config> {
    const {loadConfig} = await import('../config/index.js')
    return loadConfig({socket_path: this.flags.socket, ...overrides})
  }

  /** The machine --host or HUMANLAYER_HOST names; this one by default. */
  async host(config?: Config): Promise<HostSpec> {
    const text = this.flags.host ?? process.env.HUMANLAYER_HOST
    if (text === undefined || text === '' || text === 'local') return {name: 'local', kind: 'local'}
    const {resolveHost} = await import('../config/hosts.js')
    return resolveHost(text, (config ?? (await this.loadConfig())).hosts, this.flags.host === undefined ? 'HUMANLAYER_HOST' : '--host')
  }

  /**
   * Where a machine's daemon is: its socket here, or ssh to the host (whose `dial-stdio` starts
   * the daemon there unless `autostart` is false).
   */
  async endpointOf(host: HostSpec, options: ConnectOptions = {}): Promise<Endpoint> {
    if (host.kind === 'ssh') {
      const {sshEndpoint} = await import('../client/ssh.js')
      return sshEndpoint(host.target, {dialArgs: options.autostart === false ? ['--no-autostart'] : []})
    }
    const {socketEndpoint} = await import('../client/index.js')
    return socketEndpoint((options.config ?? (await this.loadConfig())).socket_path, this.socketTransport)
  }

  /** The client to a running daemon (one per command); starts one unless told not to (or HUMANLAYER_NO_AUTOSTART=1). */
  async client(options: ConnectOptions = {}): Promise<DaemonClient> {
    if (this.defaultClient) return this.defaultClient
    const config = options.config ?? (await this.loadConfig())
    this.defaultClient = await this.clientOf(await this.host(config), {...options, config})
    return this.defaultClient
  }

  /**
   * A client to one machine's daemon, closed when the command ends: one per machine, however
   * many ids a command decides there (one ssh connection per host per command).
   */
  async clientOf(host: HostSpec, options: ConnectOptions = {}): Promise<DaemonClient> {
    const key = `${host.kind === 'ssh' ? host.url : host.name} ${options.autostart !== false}`
    let client = this.clients.get(key)
    if (!client) {
      client = this.connect(host, options)
      this.clients.set(key, client)
    }
    return client
  }

  private async connect(host: HostSpec, options: ConnectOptions): Promise<DaemonClient> {
    const config = options.config ?? (await this.loadConfig())
    let client: DaemonClient
    if (host.kind === 'ssh') {
      const {DaemonClient} = await import('../client/index.js')
      client = await DaemonClient.connect(await this.endpointOf(host, options))
    } else if (options.autostart === false) {
      const {DaemonClient, socketEndpoint} = await import('../client/index.js')
      client = await DaemonClient.connect(socketEndpoint(config.socket_path, this.socketTransport))
    } else {
      const {connectOrStart} = await import('../client/lifecycle.js')
      // One line on stderr, so stdout (and --json) stay the command's own.
      const announce = (health: {pid: number; socket_path: string}) =>
        process.stderr.write(`started hld daemon (pid ${inert(health.pid)}, socket ${inert(health.socket_path)})\n`)
      client = await connectOrStart(config, process.env, announce, this.socketTransport)
    }
    this.openedClients.push(client)
    return client
  }

  /** The machines --hosts or HUMANLAYER_HOSTS name; undefined when neither does (then one machine: host()). */
  async hostList(config?: Config): Promise<HostSpec[] | undefined> {
    if (this.flags.host !== undefined) {
      if (this.flags.hosts !== undefined) throw new CommandError('Give --host (one machine) or --hosts (several), not both.', {exit: 2})
      return undefined
    }
    const text = this.flags.hosts ?? process.env.HUMANLAYER_HOSTS
    if (!text) return undefined
    const where = this.flags.hosts === undefined ? 'HUMANLAYER_HOSTS' : '--hosts'
    const names = [
      ...new Set(
        text
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== ''),
      ),
    ]
    if (names.length === 0) throw new CommandError(`${where} names no host; give e.g. devbox,local`, {exit: 2})
    const {resolveHost} = await import('../config/hosts.js')
    const {hosts} = config ?? (await this.loadConfig())
    return names.map((name) => resolveHost(name, hosts, where))
  }

  /**
   * The machines an id is looked for on, and the id as they know it: the host a qualified id
   * names (`devbox:9c1e`, a name from --hosts or daemon.json's hosts); else the --hosts list;
   * else undefined (the one machine of --host, or this one).
   */
  async hostsOf(text: string, config?: Config): Promise<{hosts?: HostSpec[]; id: string; qualified: boolean}> {
    config ??= await this.loadConfig()
    const list = await this.hostList(config)
    const [{resolveHost}, {splitQualifiedId}] = await Promise.all([import('../config/hosts.js'), import('./fan-in.js')])
    const qualified = splitQualifiedId(text, (name) => {
      const listed = list?.find((host) => host.name === name)
      if (listed) return listed
      try {
        return resolveHost(name, config.hosts)
      } catch {
        return undefined
      }
    })
    if (qualified.host) return {hosts: [qualified.host], id: qualified.id, qualified: true}
    return {hosts: list, id: text, qualified: false}
  }

  /**
   * The client of the machine that owns `id`, and the id as that machine knows it: the host a
   * qualified id names (`devbox:9c1e`); else, with --hosts, the one host where `find` succeeds;
   * else the one host of --host.
   */
  async clientForId(
    id: string,
    find: (client: DaemonClient, id: string) => Promise<unknown>,
    what: string,
    options: {autostart?: boolean} = {},
  ): Promise<{client: DaemonClient; id: string; host: HostSpec}> {
    const [owner] = await this.clientsForIds([id], find, what, options)
    if ('error' in owner) throw owner.error
    return owner
  }

  /**
   * clientForId for several ids at once, each on its own: an id that no host (or more than one)
   * has, or whose host cannot be reached, is its `error`; the others still resolve. All lookups
   * run at once and share one connection per host.
   */
  async clientsForIds(
    ids: string[],
    find: (client: DaemonClient, id: string) => Promise<unknown>,
    what: string,
    options: {autostart?: boolean} = {},
  ): Promise<({given: string; client: DaemonClient; id: string; host: HostSpec; qualified: boolean} | {given: string; error: Error})[]> {
    const config = await this.loadConfig()
    const {askHosts, ownerOf} = await import('./fan-in.js')
    return Promise.all(
      ids.map(async (given) => {
        try {
          const {hosts, id, qualified} = await this.hostsOf(given, config)
          if (qualified) return {given, client: await this.clientOf(hosts![0], {...options, config}), id, host: hosts![0], qualified}
          if (!hosts) return {given, client: await this.client({...options, config}), id, host: await this.host(config), qualified}
          const fanIn = await askHosts(
            hosts,
            async (host) => {
              const client = await this.clientOf(host, {...options, config})
              await find(client, id)
              return client
            },
            config.host_timeout_ms,
          )
          const owner = ownerOf(id, fanIn, what)
          return {given, client: owner.value, id, host: owner.host, qualified}
        } catch (error) {
          return {given, error: error as Error}
        }
      }),
    )
  }

  close(): void {
    for (const client of this.openedClients) client.close()
  }
}
