/**
 * What every command shares: `--json`, `--socket`, configuration, one lazily opened client
 * closed in `finally()`, and the mapping from errors to exit codes and JSON error objects.
 * Heavy modules stay out of here so `hld daemon status` starts fast.
 */
import {Command, Errors, Flags, type Interfaces} from '@oclif/core'

import type {DaemonClient} from '../client/index.js'
import type {Config, ConfigOverrides} from '../config/index.js'
import {RpcError} from '../protocol/errors.js'
import {exitCodeFor} from './exit-codes.js'

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
  }

  protected flags!: BaseFlags<T>
  private openedClient: DaemonClient | undefined

  /**
   * Parses argv into `this.flags`, and returns the flags and args typed by the command's statics,
   * and every positional argument (`argv`, for commands with `strict = false` that take many).
   */
  protected async parseFlags(): Promise<{flags: BaseFlags<T>; args: BaseArgs<T>; argv: string[]}> {
    const parsed = await this.parse(this.ctor as typeof BaseCommand)
    this.flags = parsed.flags as BaseFlags<T>
    return {flags: this.flags, args: parsed.args as BaseArgs<T>, argv: parsed.argv as string[]}
  }

  protected async loadConfig(overrides: ConfigOverrides = {}): Promise<Config> {
    const {loadConfig} = await import('../config/index.js')
    return loadConfig({socket_path: this.flags.socket, ...overrides})
  }

  /** The client to a running daemon (one per command); starts one unless told not to (or HUMANLAYER_NO_AUTOSTART=1). */
  protected async client(options: {autostart?: boolean; config?: Config} = {}): Promise<DaemonClient> {
    if (this.openedClient) return this.openedClient
    const config = options.config ?? (await this.loadConfig())
    if (options.autostart === false) {
      const {DaemonClient} = await import('../client/index.js')
      this.openedClient = await DaemonClient.connect(config.socket_path)
    } else {
      const {connectOrStart} = await import('../client/lifecycle.js')
      // One line on stderr, so stdout (and --json) stay the command's own.
      const announce = (health: {pid: number; socket_path: string}) =>
        process.stderr.write(`started hld daemon (pid ${health.pid}, socket ${health.socket_path})\n`)
      this.openedClient = await connectOrStart(config, process.env, announce)
    }
    return this.openedClient
  }

  protected async finally(error: Error | undefined): Promise<void> {
    this.openedClient?.close()
    await super.finally(error)
  }

  protected async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    const exit = exitCodeFor(error)
    // oclif's parse errors and `this.error()` already carry their own exit status.
    if (error instanceof Errors.CLIError) {
      error.oclif.exit ??= exit
      return super.catch(Object.assign(error, {exitCode: error.oclif.exit}))
    }
    // oclif prints "Error: <message>" for people; the original name is kept for --json.
    const cliError = new Errors.CLIError(error.message, {exit})
    return super.catch(
      Object.assign(cliError, {
        exitCode: exit,
        errorName: error.name,
        ...(error instanceof RpcError ? {code: error.code, data: error.data} : {}),
      }),
    )
  }

  protected toErrorJson(error: unknown): unknown {
    const e = error as Error & {errorName?: string; exitCode?: number; code?: number; data?: unknown}
    return {
      error: {
        name: e.errorName ?? e.name,
        message: e.message,
        exitCode: e.exitCode ?? 1,
        ...(e.code === undefined ? {} : {code: e.code}),
        ...(e.data === undefined ? {} : {data: e.data}),
      },
    }
  }
}
