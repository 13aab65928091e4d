/**
 * Security: who can reach the daemon and what it leaves readable, and that the api_key
 * never leaves the process (RPC results, logs, `--json` output, command lines).
 */
import {spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {type FakeHumanLayerApi, startFakeHumanLayerApi} from '../fixtures/fake-humanlayer-api.js'
import {RawConnection} from '../helpers/raw-socket.js'
import {REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, waitForStatus} from '../helpers/sessions.js'

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
  this.timeout(120_000)
  const canary = `hld-canary-${process.pid}-${Date.now().toString(36)}`
  let sandbox: Sandbox
  let api: FakeHumanLayerApi

  before(async () => {
    api = await startFakeHumanLayerApi({apiKey: canary})
    sandbox = new Sandbox({
      HUMANLAYER_API_KEY: canary,
      HUMANLAYER_API_BASE_URL: api.baseUrl,
      HUMANLAYER_POLL_INTERVAL_MS: '100',
      HUMANLAYER_LOG_LEVEL: 'debug',
      HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE,
    })
  })

  after(async () => {
    await sandbox.cleanup()
    await api.close()
  })

  /** What later steps need from earlier ones. */
  interface Ids {
    session?: string
    slowSession?: string
    approve?: string
    deny?: string
    respond?: string
  }

  /**
   * Every command, run with what it needs, in an order that gives each something to act on.
   * A new command goes in here or in NOT_RUN with the reason; the second test fails on one
   * that is in neither.
   */
  const STEPS: {id: string; args: (ids: Ids) => string[]; before?: (ids: Ids) => Promise<void>; after?: (out: string, ids: Ids) => void}[] = [
    {id: 'daemon:start', args: () => ['daemon', 'start', '--json']},
    {id: 'daemon:status', args: () => ['daemon', 'status', '--json']},
    {id: 'daemon:status', args: () => ['daemon', 'status']},
    // stdin is closed at once: it connects, bridges nothing and exits 0, printing nothing.
    {id: 'daemon:dial-stdio', args: () => ['daemon', 'dial-stdio']},
    // --wait --json is NDJSON: the launch, then the ended session.
    {id: 'session:launch', args: () => ['session', 'launch', '--json', '--wait', 'hello'], after: (out, ids) => (ids.session = (JSON.parse(out.split('\n')[0]) as {session_id: string}).session_id)},
    {id: 'session:wait', args: (ids) => ['session', 'wait', ids.session!, '--json']},
    {id: 'session:list', args: () => ['session', 'list', '--json']},
    {id: 'session:show', args: (ids) => ['session', 'show', ids.session!, '--json']},
    {id: 'session:continue', args: (ids) => ['session', 'continue', ids.session!, 'again', '--json', '--wait']},
    {
      id: 'session:launch',
      args: () => ['session', 'launch', '--json', '[fake:slow=60000] take your time'],
      after: (out, ids) => (ids.slowSession = (JSON.parse(out) as {session_id: string}).session_id),
    },
    {
      id: 'session:interrupt',
      args: (ids) => ['session', 'interrupt', ids.slowSession!, '--json'],
      async before(ids) {
        const client = await sandbox.client()
        try {
          await waitForStatus(client, ids.slowSession!, 'running')
        } finally {
          client.close()
        }
      },
    },
    {id: 'session:title', args: (ids) => ['session', 'title', ids.slowSession!, 'A title', '--json']},
    {id: 'session:archive', args: (ids) => ['session', 'archive', ids.slowSession!, '--json']},
    {
      id: 'approvals:list',
      args: () => ['approvals', 'list', '--json'],
      async before(ids) {
        ids.approve = api.addFunctionCall({run_id: 'run-elsewhere', fn: 'deploy', kwargs: {env: 'prod'}}).call_id
        ids.deny = api.addFunctionCall({run_id: 'run-elsewhere', fn: 'drop_table', kwargs: {table: 'users'}}).call_id
        ids.respond = api.addHumanContact({run_id: 'run-elsewhere', msg: 'Which branch?'}).call_id
        await waitFor(async () => {
          const listed = await sandbox.cli(['approvals', 'list', '--json'])
          return listed.exitCode === 0 && JSON.stringify(Sandbox.json(listed)).includes(ids.respond!)
        }, 15_000, 'the poller to show the cloud approvals')
      },
    },
    {id: 'approvals:show', args: (ids) => ['approvals', 'show', ids.approve!, '--json']},
    {id: 'approvals:approve', args: (ids) => ['approvals', 'approve', ids.approve!, '--comment', 'fine', '--json']},
    {id: 'approvals:deny', args: (ids) => ['approvals', 'deny', ids.deny!, '--comment', 'not on Friday', '--json']},
    {id: 'approvals:respond', args: (ids) => ['approvals', 'respond', ids.respond!, 'main', '--json']},
    {id: 'watch', args: () => ['watch', '--json', '--since', '0', '--count', '5']},
    {id: 'daemon:stop', args: () => ['daemon', 'stop', '--json']},
  ]
  const NOT_RUN: Record<string, string> = {
    'mcp:claude-approvals': 'a stdio MCP server without --json; test/integration/approvals-cloud.test.ts checks its output and log for the key',
  }

  it('appears in no RPC result, --json output, log line or command line', async () => {
    const seen: string[] = []
    const ids: Ids = {}
    for (const step of STEPS) {
      await step.before?.(ids)
      const args = step.args(ids)
      const result = await sandbox.cli(args)
      expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).to.equal(0)
      seen.push(`hld ${args.join(' ')}`, result.stdout, result.stderr)
      step.after?.(result.stdout, ids)
      if (step.id === 'daemon:start') {
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
    // The key did go where it belongs: every request to the HumanLayer API was authorised.
    expect(api.requests.length).to.be.greaterThan(0)
    expect(api.requests.every((request) => request.authorized)).to.equal(true)
    seen.push(readFileSync(sandbox.logFile, 'utf8'))
    expect(seen.join('\n')).not.to.include(canary)
  })

  it('covers every command in the manifest', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, unknown>}
    const covered = new Set([...STEPS.map((step) => step.id), ...Object.keys(NOT_RUN)])
    expect(Object.keys(manifest.commands).filter((id) => !covered.has(id))).to.deep.equal([])
  })
})
