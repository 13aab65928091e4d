/**
 * A real OpenSSH server for one test file: sshd on 127.0.0.1 and a free port, run as the
 * current user, with host and client keys generated into a temporary directory and a client
 * config beside them. Nothing reads or writes the real ~/.ssh, and no system sshd is touched.
 * Needs Debian's openssh-server (`.ci/run` and the README's set-up install it).
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import {quoteWord} from '../../src/client/ssh.js'
import {CLI, waitFor} from './sandbox.js'

export const SSHD = '/usr/sbin/sshd'

/** The variable sshd sets for a named host (see `remoteHld`): the root of that host's sandbox. */
const ROOT_VARIABLE = 'HLD_TEST_ROOT'

export class TestSshd {
  readonly dir: string
  readonly clientConfig: string
  port = 0
  private child: ChildProcess | undefined
  private log = ''
  /** Named hosts: each its own port on this sshd, whose sessions get its sandbox root. */
  private readonly named = new Map<string, {root: string; port: number}>()

  constructor() {
    if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: install openssh-server (see the README's set-up, or .ci/run)`)
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'hld-sshd-'))
    this.clientConfig = path.join(this.dir, 'ssh_config')
  }

  /** `HUMANLAYER_SSH_COMMAND` for clients of this server. */
  get sshCommand(): string {
    return `ssh -F ${this.clientConfig}`
  }

  /** An address that reaches this server (every host name maps to it through the client config). */
  url(name = 'devbox'): string {
    return `ssh://${os.userInfo().username}@${name}`
  }

  /**
   * One more "machine" before start(): the host name `name` reaches this sshd on a port of its
   * own, and remote commands there see the sandbox `root` (`remoteHld` runs hld in it).
   */
  addHost(name: string, root: string): void {
    this.named.set(name, {root, port: 0})
  }

  async start(): Promise<void> {
    const file = (name: string): string => path.join(this.dir, name)
    for (const key of ['host_key', 'client_key']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', key, '-f', file(key)])
    writeFileSync(file('authorized_keys'), readFileSync(file('client_key.pub')))
    this.port = await freePort()
    for (const host of this.named.values()) host.port = await freePort()
    writeFileSync(
      file('sshd_config'),
      [
        `Port ${this.port}`,
        ...[...this.named.values()].map(({port}) => `Port ${port}`),
        'ListenAddress 127.0.0.1',
        `HostKey ${file('host_key')}`,
        `PidFile ${file('sshd.pid')}`,
        `AuthorizedKeysFile ${file('authorized_keys')}`,
        'UsePAM no',
        // The temporary directory is not root-owned 0755 all the way up, as StrictModes wants.
        'StrictModes no',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'PubkeyAuthentication yes',
        'PermitRootLogin prohibit-password',
        'UseDNS no',
        'PrintMotd no',
        'LogLevel ERROR',
        // Match blocks last: they run to the end of the file.
        ...[...this.named.values()].flatMap(({root, port}) => [`Match LocalPort ${port}`, `  SetEnv ${ROOT_VARIABLE}=${root}`]),
      ].join('\n') + '\n',
    )
    // Every host name reaches this server, pinned to its key: a wrong key would be an error.
    const hostKey = readFileSync(file('host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ')
    const ports = [this.port, ...[...this.named.values()].map(({port}) => port)]
    writeFileSync(file('known_hosts'), ports.map((port) => `[127.0.0.1]:${port} ${hostKey}\n`).join(''))
    writeFileSync(
      this.clientConfig,
      [
        ...[...this.named].flatMap(([name, {port}]) => [`Host ${name}`, `  Port ${port}`]),
        'Host *',
        '  HostName 127.0.0.1',
        `  Port ${this.port}`,
        `  IdentityFile ${file('client_key')}`,
        '  IdentitiesOnly yes',
        '  IdentityAgent none',
        `  UserKnownHostsFile ${file('known_hosts')}`,
        '  GlobalKnownHostsFile /dev/null',
        '  StrictHostKeyChecking yes',
        '  BatchMode yes',
        '  ControlMaster no',
        '  LogLevel ERROR',
      ].join('\n') + '\n',
    )
    // -D: stay a child of this process, so cleanup can stop it; -e: errors on stderr.
    const child = spawn(SSHD, ['-D', '-e', '-f', file('sshd_config')], {stdio: ['ignore', 'ignore', 'pipe']})
    this.child = child
    child.stderr.on('data', (chunk: Buffer) => (this.log += chunk.toString()))
    let exited = false
    child.once('exit', () => (exited = true))
    await waitFor(
      async () => {
        if (exited) throw new Error(`sshd exited at start:\n${this.log}`)
        return canConnect(this.port)
      },
      10_000,
      'sshd to listen',
    )
  }

  async stop(): Promise<void> {
    const child = this.child
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    rmSync(this.dir, {recursive: true, force: true})
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * How the far side runs hld for a sandbox: its own HOME, socket, database and log, the built
 * CLI under this node. The value of HUMANLAYER_REMOTE_HLD. (Not `env -i`: sshd's session
 * variables, SSH_CONNECTION among them, must reach hld.)
 */
export function remoteHld(env: Record<string, string>): string {
  const assignments = Object.entries(env).map(([key, value]) => `${key}=${value}`)
  return ['env', ...assignments, process.execPath, CLI].map(quoteWord).join(' ')
}

/**
 * HUMANLAYER_REMOTE_HLD for hosts added with `addHost`: each host's sessions read the
 * environment of its own sandbox from `<root>/remote.env` (written by `writeRemoteEnv`).
 */
export function remoteHldByHost(): string {
  const script = `set -a; . "$${ROOT_VARIABLE}/remote.env"; set +a; exec ${quoteWord(process.execPath)} ${quoteWord(CLI)} "$@"`
  return ['sh', '-c', script, 'hld'].map(quoteWord).join(' ')
}

/** The environment a named host's hld runs with: the sandbox's own, as `remoteHldByHost` reads it. */
export function writeRemoteEnv(root: string, env: Record<string, string>): void {
  writeFileSync(
    path.join(root, 'remote.env'),
    Object.entries(env)
      .map(([key, value]) => `${key}=${quoteWord(value)}\n`)
      .join(''),
  )
}
