/**
 * Security: who can reach the daemon and what it leaves readable, and that the api_key
 * never leaves the process (RPC results, logs, `--json` output, command lines).
 */
import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {RawConnection} from '../helpers/raw-socket.js'
import {REPO_ROOT, Sandbox} from '../helpers/sandbox.js'

const mode = (file: string): number => statSync(file).mode & 0o777
const octal = (value: number): string => value.toString(8).padStart(4, '0')

describe('security: permissions', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  afterEach(async () => {
    await sandbox.cleanup()
  })

  it('creates the socket 0600 in a new 0700 directory, and keeps database and log private', async () => {
    sandbox = new Sandbox()
    const socketPath = path.join(sandbox.root, 'run', 'd.sock')
    const logFile = path.join(sandbox.root, 'logs', 'daemon.log')
    await sandbox.startDaemon({HUMANLAYER_DAEMON_SOCKET: socketPath, HUMANLAYER_LOG_FILE: logFile})

    expect(octal(mode(socketPath)), 'socket').to.equal('0600')
    expect(octal(mode(path.dirname(socketPath))), 'socket directory').to.equal('0700')
    expect(octal(mode(path.dirname(logFile))), 'log directory').to.equal('0700')
    expect(octal(mode(logFile)), 'log file').to.equal('0600')
    for (const file of [sandbox.databasePath, `${sandbox.databasePath}-wal`, `${sandbox.databasePath}-shm`]) {
      if (existsSync(file)) expect(mode(file) & 0o077, `${file} is ${octal(mode(file))}`).to.equal(0)
    }
    expect(existsSync(sandbox.databasePath)).to.equal(true)
  })

  it('leaves a directory it did not create as it is (it may be shared), and the socket is still 0600', async () => {
    sandbox = new Sandbox()
    const shared = path.join(sandbox.root, 'shared')
    mkdirSync(shared)
    chmodSync(shared, 0o755)
    const socketPath = path.join(shared, 'd.sock')
    await sandbox.startDaemon({HUMANLAYER_DAEMON_SOCKET: socketPath})
    expect(octal(mode(shared))).to.equal('0755')
    expect(octal(mode(socketPath))).to.equal('0600')
  })
})

/** A uid no account uses, so the process below is nobody this machine knows. */
function unusedUid(): number {
  for (let uid = 61_000; uid < 62_000; uid++) {
    if (spawnSync('getent', ['passwd', String(uid)]).status === 2) return uid
  }
  throw new Error('no unused uid between 61000 and 62000')
}

/** Connects to the socket as `uid` (or as ourselves), printing "connected" or the error code. */
function connectAs(socketPath: string, uid?: number): string {
  const script = `require('net').createConnection(${JSON.stringify(socketPath)}).on('connect', function () { console.log('connected'); this.destroy() }).on('error', (e) => console.log(e.code))`
  const command = uid === undefined ? [process.execPath] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath]
  const result = spawnSync(command[0], [...command.slice(1), '-e', script], {encoding: 'utf8', cwd: '/', timeout: 10_000})
  if (result.status !== 0) throw new Error(`connect attempt failed to run (${result.status}): ${result.stderr}`)
  return result.stdout.trim()
}

// Only root can act as another user; elsewhere this check does not exist rather than pass.
const canSwitchUser = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0
if (canSwitchUser) {
  describe('security: another OS user', function () {
    this.timeout(60_000)
    let sandbox: Sandbox

    afterEach(async () => {
      await sandbox.cleanup()
    })

    it('cannot connect to the socket, even through a directory everyone may enter', async () => {
      sandbox = new Sandbox()
      // The sandbox root is open to all, so only the socket's own mode stands in the way.
      chmodSync(sandbox.root, 0o755)
      await sandbox.startDaemon()
      expect(connectAs(sandbox.socketPath), 'the owner').to.equal('connected')
      expect(connectAs(sandbox.socketPath, unusedUid()), 'another user').to.equal('EACCES')
    })
  })
}

describe('security: the api_key stays secret', function () {
  this.timeout(60_000)
  const canary = `hld-canary-${process.pid}-${Date.now().toString(36)}`
  let sandbox: Sandbox

  before(() => {
    sandbox = new Sandbox({HUMANLAYER_API_KEY: canary, HUMANLAYER_LOG_LEVEL: 'debug'})
  })

  after(async () => {
    await sandbox.cleanup()
  })

  /**
   * Every command run with --json, with the arguments it needs here. A new command goes in
   * here or in NOT_RUN with the reason; the test below fails on one that is in neither.
   */
  const JSON_COMMANDS: string[][] = [
    ['daemon', 'start', '--json'],
    ['daemon', 'status', '--json'],
    ['daemon', 'status'],
    ['daemon', 'stop', '--json'],
  ]
  const NOT_RUN: Record<string, string> = {}

  it('appears in no RPC result, --json output, log line or command line', async () => {
    const seen: string[] = []
    for (const args of JSON_COMMANDS) {
      const result = await sandbox.cli(args)
      expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).to.equal(0)
      seen.push(`hld ${args.join(' ')}`, result.stdout, result.stderr)
      if (args.join(' ') === 'daemon start --json') {
        const {pid} = Sandbox.json<{pid: number}>(result)
        seen.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8'))
        // The daemon does hold the key (through its environment), so the checks below mean something.
        expect(readFileSync(`/proc/${pid}/environ`, 'utf8')).to.include(`HUMANLAYER_API_KEY=${canary}`)
        const connection = await RawConnection.open(sandbox.socketPath)
        seen.push(JSON.stringify(await connection.request({jsonrpc: '2.0', method: 'health', id: 1})))
        seen.push(JSON.stringify(await connection.request({jsonrpc: '2.0', method: 'health', params: {api_key: 1}, id: 2})))
        connection.close()
      }
    }
    seen.push(readFileSync(sandbox.logFile, 'utf8'))
    expect(seen.join('\n')).not.to.include(canary)
  })

  it('covers every command in the manifest', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    const covered = new Set([...JSON_COMMANDS.map((args) => args.filter((a) => !a.startsWith('-')).join(':')), ...Object.keys(NOT_RUN)])
    expect(Object.keys(manifest.commands).filter((id) => !covered.has(id))).to.deep.equal([])
  })
})
