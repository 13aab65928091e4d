/**
 * Another machine's daemon over OpenSSH, the way `docker -H ssh://` does it: the CLI runs
 * `<ssh command> [-p port] [user@]host -- <remote hld> daemon dial-stdio`, and the far side
 * bridges that pipe to its own daemon socket. The same JSON-RPC frames flow over it, so the
 * client cannot tell. Nothing listens on the network; authentication, encryption and host
 * keys are ssh's business, configured as the user already has it (~/.ssh/config, agent).
 */
import {type ChildProcessWithoutNullStreams, spawn} from 'node:child_process'
import {Duplex} from 'node:stream'

import {type SshTarget, formatSshUrl} from '../config/hosts.js'
import {SshError} from '../shared/errors.js'
import type {Endpoint} from './index.js'

export {SshError} from '../shared/errors.js'

/** How much of ssh's stderr an error quotes: its last lines say why. */
const MAX_STDERR_CHARS = 4000

/**
 * Splits a command into words as a shell would for plain words and quotes ('…', "…", \x),
 * without expansions: how HUMANLAYER_SSH_COMMAND and HUMANLAYER_REMOTE_HLD are read, like
 * GIT_SSH_COMMAND.
 */
export function splitWords(text: string, what: string): string[] {
  const words: string[] = []
  let word: string | undefined
  let quote: '"' | "'" | undefined
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (quote === "'") {
      if (c === "'") quote = undefined
      else word += c
    } else if (quote === '"') {
      if (c === '"') quote = undefined
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) word += text[++i]
      else word += c
    } else if (c === "'" || c === '"') {
      quote = c
      word ??= ''
    } else if (c === '\\' && i + 1 < text.length) {
      word = (word ?? '') + text[++i]
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else {
      word = (word ?? '') + c
    }
  }
  if (quote) throw new SshError(`${what} has an unterminated ${quote} quote: ${text}`)
  if (word !== undefined) words.push(word)
  if (words.length === 0) throw new SshError(`${what} is empty`)
  return words
}

/** One word as the remote POSIX shell must see it. */
export function quoteWord(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

export interface SshOptions {
  /** Where HUMANLAYER_SSH_COMMAND and HUMANLAYER_REMOTE_HLD are read. */
  env?: NodeJS.ProcessEnv
  /** Arguments after `daemon dial-stdio` on the far side. */
  dialArgs?: string[]
}

/** The command line that reaches `target`'s daemon: [program, ...args]. */
export function sshCommand(target: SshTarget, options: SshOptions = {}): string[] {
  const env = options.env ?? process.env
  const ssh = splitWords(env.HUMANLAYER_SSH_COMMAND || 'ssh', 'HUMANLAYER_SSH_COMMAND')
  const remote = splitWords(env.HUMANLAYER_REMOTE_HLD || 'hld', 'HUMANLAYER_REMOTE_HLD')
  // ssh hands the remote command to the user's shell there as one string.
  const command = [...remote, 'daemon', 'dial-stdio', ...(options.dialArgs ?? [])].map(quoteWord).join(' ')
  return [
    ...ssh,
    ...(target.port ? ['-p', String(target.port)] : []),
    target.user ? `${target.user}@${target.host}` : target.host,
    '--',
    command,
  ]
}

/** Another machine's daemon: each `open()` is one ssh connection. */
export function sshEndpoint(target: SshTarget, options: SshOptions = {}): Endpoint {
  const label = formatSshUrl(target)
  return {
    label,
    open: () => {
      const [program, ...args] = sshCommand(target, options)
      const child = spawn(program, args, {stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env})
      // No handshake to wait for: the first request goes out at once and ssh's failure, if any, fails it.
      return Promise.resolve(new SshConnection(child, label, program))
    },
  }
}

/**
 * ssh's stdin and stdout as one stream. It ends when ssh exits 0 (the far side's
 * dial-stdio saw its daemon close), and fails with ssh's own words otherwise.
 */
class SshConnection extends Duplex {
  private stderr = ''

  constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    label: string,
    program: string,
  ) {
    // Not half-open: once the far side is gone, our writes have nowhere to go either.
    super({allowHalfOpen: false})
    child.stdout.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) child.stdout.pause()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-MAX_STDERR_CHARS)
    })
    // A write after ssh died fails with EPIPE; ssh's exit below says why, which is the useful part.
    child.stdin.on('error', () => {})
    child.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ENOENT' ? `${program} is not installed or not on PATH (HUMANLAYER_SSH_COMMAND)` : error.message
      this.destroy(new SshError(`Cannot reach the hld daemon on ${label}: ${why}`))
    })
    // 'close' comes after stdout and stderr are drained, so every reply and all of stderr are in.
    child.once('close', (code, signal) => {
      if (code === 0) return void this.push(null)
      if (this.destroyed) return
      this.destroy(new SshError(this.describeExit(label, code, signal)))
    })
  }

  _read(): void {
    this.child.stdout.resume()
  }

  _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.child.stdin.write(chunk, () => callback())
  }

  _final(callback: (error?: Error | null) => void): void {
    // Once ssh has exited, Node has destroyed its stdin, and end() on a destroyed stream never
    // calls back: this stream would then never close, and a subscription over it never end.
    if (this.child.stdin.destroyed) return callback()
    this.child.stdin.end(() => callback())
  }

  _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM')
    callback(error)
  }

  private describeExit(label: string, code: number | null, signal: NodeJS.Signals | null): string {
    const said = this.stderr.trim()
    const how = signal ? `ssh was killed by ${signal}` : code === 255 ? 'ssh failed' : `the remote command exited with code ${code}`
    // 127 is the remote shell's "command not found".
    const hint = code === 127 ? ' Is hld installed there and on PATH? HUMANLAYER_REMOTE_HLD says how to run it.' : ''
    return `Cannot reach the hld daemon on ${label} (${how}).${hint}${said ? `\n${said}` : ''}`
  }
}
