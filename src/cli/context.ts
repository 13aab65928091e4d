/**
 * What a command's core function needs from whichever entry runs it: oclif's (BaseCommand) or
 * the lean one (lean.ts) that the hot commands take so they start in about node's own time.
 * Both give it the same output, the same daemon connection and the same errors, so a command
 * is written once. Imports nothing of oclif: the lean entry must not load it.
 */
import type {DaemonClient, Endpoint} from '../client/index.js'
import type {HostSpec} from '../config/hosts.js'
import type {Config, ConfigOverrides} from '../config/index.js'
import {inert} from './render/inert.js'

/** The flags every command takes (BaseCommand.baseFlags, and --json). */
export interface GlobalFlags {
  socket?: string
  host?: string
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

export interface CommandContext {
  /** A line on stdout, unless --json (then the returned result is the output). */
  log(message?: string): void
  /** A line on stderr, unless --json. */
  logToStderr(message?: string): void
  jsonEnabled(): boolean
  loadConfig(overrides?: ConfigOverrides): Promise<Config>
  endpoint(options?: ConnectOptions): Promise<Endpoint>
  /** The client to a running daemon (one per command, closed when it ends). */
  client(options?: ConnectOptions): Promise<DaemonClient>
}

/**
 * An error a command reports as oclif's `this.error()` does: its message and its exit status
 * (read by exitCodeFor through `oclif.exit`).
 */
export class CommandError extends Error {
  readonly oclif: {exit: number}

  constructor(message: string, options: {exit: number}) {
    super(message)
    this.oclif = {exit: options.exit}
  }
}

/** NO_COLOR (no-color.org) for chalk too: oclif's own colours honour it, chalk does not. */
export async function honourNoColor(argv: string[]): Promise<void> {
  if (process.env.NO_COLOR && !argv.includes('--color')) {
    const {default: chalk} = await import('chalk')
    chalk.level = 0
  }
}

/**
 * Where a command's daemon is and its one client: the socket of this machine, or another
 * machine's daemon over ssh (--host, HUMANLAYER_HOST).
 */
export class DaemonAccess {
  private openedClient: DaemonClient | undefined

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
   * Where the daemon is: its socket here, or ssh to the host (whose `dial-stdio` starts the
   * daemon there unless `autostart` is false).
   */
  async endpoint(options: ConnectOptions = {}): Promise<Endpoint> {
    const config = options.config ?? (await this.loadConfig())
    const host = await this.host(config)
    if (host.kind === 'ssh') {
      const {sshEndpoint} = await import('../client/ssh.js')
      return sshEndpoint(host.target, {dialArgs: options.autostart === false ? ['--no-autostart'] : []})
    }
    const {socketEndpoint} = await import('../client/index.js')
    return socketEndpoint(config.socket_path)
  }

  /** The client to a running daemon (one per command); starts one unless told not to (or HUMANLAYER_NO_AUTOSTART=1). */
  async client(options: ConnectOptions = {}): Promise<DaemonClient> {
    if (this.openedClient) return this.openedClient
    const config = options.config ?? (await this.loadConfig())
    if ((await this.host(config)).kind === 'ssh') {
      const {DaemonClient} = await import('../client/index.js')
      this.openedClient = await DaemonClient.connect(await this.endpoint({...options, config}))
    } else if (options.autostart === false) {
      const {DaemonClient} = await import('../client/index.js')
      this.openedClient = await DaemonClient.connect(config.socket_path)
    } else {
      const {connectOrStart} = await import('../client/lifecycle.js')
      // One line on stderr, so stdout (and --json) stay the command's own.
      const announce = (health: {pid: number; socket_path: string}) =>
        process.stderr.write(`started hld daemon (pid ${inert(health.pid)}, socket ${inert(health.socket_path)})\n`)
      this.openedClient = await connectOrStart(config, process.env, announce)
    }
    return this.openedClient
  }

  close(): void {
    this.openedClient?.close()
  }
}
