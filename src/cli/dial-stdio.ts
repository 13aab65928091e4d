/**
 * `hld daemon dial-stdio`: this process's stdin and stdout become a connection to this
 * machine's daemon socket. It is what `hld --host ssh://…` runs on the far side (as `docker
 * system dial-stdio` is for docker), so it stays small: config, one socket, two pipes.
 */
import type {Readable, Writable} from 'node:stream'

import {connectSocket} from '../client/index.js'
import {openOrStart} from '../client/lifecycle.js'
import type {Config} from '../config/index.js'
import {ConnectionOrigin} from '../protocol/daemon.js'
import {encodeFrame} from '../protocol/framing.js'

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
  const socket = options.autostart ? await openOrStart(config, options.env) : await connectSocket(config.socket_path)
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
  const [{loadConfig}, {exitCodeFor}] = await Promise.all([import('../config/index.js'), import('./exit-codes.js')])
  try {
    const autostart = !args.includes('--no-autostart') && env.HUMANLAYER_NO_AUTOSTART !== '1'
    await dialStdio(loadConfig({}, env), {autostart, env})
    return 0
  } catch (error) {
    process.stderr.write(`hld daemon dial-stdio: ${(error as Error).message}\n`)
    return exitCodeFor(error as Error)
  }
}
