/**
 * `hld daemon dial-stdio`: this process's stdin and stdout become a connection to this
 * machine's daemon socket. It is what `hld --host ssh://…` runs on the far side (as `docker
 * system dial-stdio` is for docker), once per remote command, so it stays small: config, one
 * socket, two pipes. bin/run.js runs it from the lean bundle it has loaded anyway
 * (dist/cli/lean.bundle.cjs, scripts/build-lean.js); the code that starts a daemon runs only
 * when none answers.
 */
import type net from 'node:net'
import type {Readable, Writable} from 'node:stream'

import {connectSocket} from '../client/index.js'
import {type Config, loadConfig} from '../config/index.js'
import {ConnectionOrigin} from '../protocol/daemon.js'
import {encodeFrame} from '../protocol/framing.js'
import {DaemonNotRunningError} from '../shared/errors.js'
import {exitCodeFor} from './exit-codes.js'

/** The daemon's socket; a daemon is started only when none runs and `autostart` allows it. */
async function open(config: Config, autostart: boolean, env: NodeJS.ProcessEnv | undefined): Promise<net.Socket> {
  try {
    return await connectSocket(config.socket_path)
  } catch (error) {
    if (!autostart || !(error instanceof DaemonNotRunningError)) throw error
  }
  const {openOrStart} = await import('../client/lifecycle.js')
  return openOrStart(config, env)
}

/**
 * Bridges until either side closes: stdin's end is passed on as a half-close (the daemon still
 * answers what it received), and the daemon's close ends the bridge even while stdin is open.
 * Resolves once everything the daemon sent has been handed to stdout.
 */
export async function dialStdio(
  config: Config,
  options: {autostart: boolean; env?: NodeJS.ProcessEnv},
  stdin: Readable = process.stdin,
  stdout: Writable = process.stdout,
): Promise<void> {
  const socket = await open(config, options.autostart, options.env)
  // Before anything from stdin: the daemon records where the decisions on this connection came from.
  const sshConnection = (options.env ?? process.env).SSH_CONNECTION
  socket.write(encodeFrame({jsonrpc: '2.0', method: ConnectionOrigin.name, params: sshConnection ? {ssh_connection: sshConnection} : {}}))
  await new Promise<void>((resolve) => {
    // The reader went away (ssh closed): nobody is left to answer.
    stdout.on('error', () => socket.destroy())
    stdin.on('error', () => socket.end())
    stdin.pipe(socket)
    socket.pipe(stdout, {end: false})
    socket.on('error', () => {})
    socket.on('close', () => {
      stdin.unpipe(socket)
      stdin.pause()
      // An empty write calls back once what was queued before it has been flushed.
      if (stdout.writable) stdout.write('', () => resolve())
      else resolve()
    })
  })
}

/**
 * The whole command without oclif, which would double its start-up time on every remote call:
 * bin/run.js comes here when the arguments are ones this understands. Errors go to stderr
 * as one plain line (the ssh side quotes it) and set the exit status as any command's would.
 */
export async function main(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  try {
    const autostart = !args.includes('--no-autostart') && env.HUMANLAYER_NO_AUTOSTART !== '1'
    await dialStdio(loadConfig({}, env), {autostart, env})
    return 0
  } catch (error) {
    process.stderr.write(`hld daemon dial-stdio: ${(error as Error).message}\n`)
    return exitCodeFor(error as Error)
  }
}
