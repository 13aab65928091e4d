/**
 * Security: who can reach the daemon and what it leaves readable, and that the api_key
 * never leaves the process (RPC results, logs, `--json` output, command lines).
 */
import {type ChildProcess, spawn, spawnSync} from 'node:child_process'
import {chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'
import {expect} from 'chai'

import {unverifiedDaemonPid} from '../../src/shared/daemon-pid.js'
import {writeMcpConfigFile} from '../../src/daemon/sessions/mcp-config.js'
import {isAlive} from '../../src/shared/procfs.js'
import {type FakeHumanLayerApi, startFakeHumanLayerApi} from '../fixtures/fake-humanlayer-api.js'
import {RawConnection} from '../helpers/raw-socket.js'
import {CLI, REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {FAKE_CLAUDE, waitForStatus} from '../helpers/sessions.js'
import type {Approval, SendDecisionResult} from '../../src/protocol/approvals.js'
import {Health} from '../../src/protocol/daemon.js'
import {GetSessionState} from '../../src/protocol/sessions.js'

const mode = (file: string): number => statSync(file).mode & 0o777
const octal = (value: number): string => value.toString(8).padStart(4, '0')
/** An error message as oclif prints it, unwrapped. */
const oneLine = (text: string): string => text.replace(/\s*\n\s*›\s*/g, ' ')

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

describe('security: loose and linked files', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  /** The default paths, under the sandbox's HOME. */
  const defaults = {HUMANLAYER_DATABASE_PATH: undefined, HUMANLAYER_LOG_FILE: undefined}

  beforeEach(() => {
    sandbox = new Sandbox()
  })

  afterEach(async () => sandbox.cleanup())

  it('tightens a database, log and directories that an older install left readable (0644, 0755), and says so in the log', async () => {
    const dataDir = path.join(sandbox.home, '.humanlayer')
    const database = path.join(dataDir, 'daemon.db')
    const logFile = path.join(dataDir, 'logs', 'daemon.log')
    await sandbox.startDaemon(defaults)
    expect((await sandbox.cli(['daemon', 'stop'])).exitCode).to.equal(0)
    for (const dir of [dataDir, path.dirname(logFile)]) chmodSync(dir, 0o755)
    for (const file of [database, logFile]) chmodSync(file, 0o644)
    writeFileSync(`${database}-shm`, '', {mode: 0o644})
    chmodSync(`${database}-shm`, 0o644)

    await sandbox.startDaemon(defaults)
    for (const dir of [dataDir, path.dirname(logFile)]) expect(octal(mode(dir)), dir).to.equal('0700')
    for (const file of [database, `${database}-wal`, `${database}-shm`, logFile]) expect(octal(mode(file)), file).to.equal('0600')
    const warnings = readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('tightened the mode'))
    expect(warnings.map((line) => (JSON.parse(line) as {path: string}).path).sort()).to.deep.equal(
      [database, `${database}-shm`, dataDir, path.dirname(logFile), logFile].sort(),
    )
  })

  it('refuses a database path that is a symbolic link, leaving the file it points to as it was', async () => {
    const other = path.join(sandbox.root, 'other-program.db')
    const db = new Database(other)
    db.exec('CREATE TABLE notes (body TEXT)')
    db.close()
    symlinkSync(other, sandbox.databasePath)
    const start = await sandbox.cli(['daemon', 'start'])
    expect(start.exitCode).to.equal(2)
    expect(oneLine(start.stderr)).to.contain(`The database file ${sandbox.databasePath} is a symbolic link`)
    const after = new Database(other, {readonly: true})
    const tables = after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all()
    after.close()
    expect(tables).to.deep.equal([{name: 'notes'}])
  })

  it('refuses a log path that is a symbolic link, and writes nothing through it', async () => {
    const target = path.join(sandbox.root, 'someone-elses.txt')
    writeFileSync(target, 'untouched\n')
    symlinkSync(target, sandbox.logFile)
    const start = await sandbox.cli(['daemon', 'start'])
    expect(start.exitCode).to.equal(2)
    expect(oneLine(start.stderr)).to.contain(`The log file ${sandbox.logFile} is a symbolic link`)
    expect(readFileSync(target, 'utf8')).to.equal('untouched\n')
  })
})

describe('security: private MCP configs', function () {
  this.timeout(90_000)
  const sandboxes: Sandbox[] = []

  afterEach(async () => {
    for (const sandbox of sandboxes.splice(0)) await sandbox.cleanup()
  })

  /** The MCP config directories in `tmp`, as names. */
  const configDirs = (tmp: string): string[] =>
    readdirSync(tmp)
      .filter((name) => name.startsWith('hld-mcp-'))
      .sort()

  it("are swept at start when a crash left them, while another daemon's live session keeps its own", async () => {
    const crashed = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
    sandboxes.push(crashed)
    const tmp = path.join(crashed.root, 'tmp')
    mkdirSync(tmp, {mode: 0o700})
    const other = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, TMPDIR: tmp})
    sandboxes.push(other)
    const env = {TMPDIR: tmp}
    const {pid} = await crashed.startDaemon(env)
    await other.startDaemon()

    const launch = async (sandbox: Sandbox): Promise<string> => {
      const result = await sandbox.cli(['session', 'launch', '--json', '[fake:slow=60000] keep running'], {env})
      const id = Sandbox.json<{session_id: string}>(result).session_id
      const client = await sandbox.client()
      try {
        await waitForStatus(client, id, 'running')
      } finally {
        client.close()
      }
      return id
    }
    await launch(crashed)
    const live = await launch(other)
    const othersConfigs = configDirs(tmp)
    expect(othersConfigs).to.have.length(2)
    // A crash in the middle of a batch of launches: configs written, not yet recorded with their sessions.
    const savedTmp = process.env.TMPDIR
    process.env.TMPDIR = tmp
    try {
      for (let i = 0; i < 20; i++)
        await writeMcpConfigFile({mcpServers: {approvals: {command: 'x', env: {HUMANLAYER_API_KEY: 'secret'}}}}, crashed.socketPath)
    } finally {
      if (savedTmp === undefined) delete process.env.TMPDIR
      else process.env.TMPDIR = savedTmp
    }
    process.kill(pid, 'SIGKILL')
    await waitFor(() => !isAlive(pid), 10_000, 'the daemon to die')
    expect(configDirs(tmp)).to.have.length(22)

    await crashed.startDaemon(env)
    const client = await other.client()
    try {
      await waitForStatus(client, live, 'running')
    } finally {
      client.close()
    }
    // The 20 leftovers are gone. What is left is the configs of the two sessions still running:
    // the other daemon's, and the crashed daemon's own, whose claude outlived the crash and was
    // adopted at restart (issue 10), so it is in use again.
    const left = configDirs(tmp)
    expect([...left].sort()).to.deep.equal([...othersConfigs].sort())
    expect(readFileSync(crashed.logFile, 'utf8')).to.contain('"removed MCP config files that ended sessions left behind"')
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
  const command =
    uid === undefined ? [process.execPath] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath]
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

    it('cannot pose as the daemon from a directory everyone may write (1777): every command refuses its socket, naming it and its owner', async () => {
      sandbox = new Sandbox()
      chmodSync(sandbox.root, 0o755)
      const shared = path.join(sandbox.root, 'tmp')
      mkdirSync(shared)
      chmodSync(shared, 0o1777)
      const socketPath = path.join(shared, 's.sock')
      const squatter = unusedUid()
      const victim = startVictim()
      const impostor = startImpostor(socketPath, victim.pid!, squatter)
      try {
        await impostor.listening
        const commands = [
          ['daemon', 'status'],
          ['session', 'launch', 'hello'],
          ['approvals', 'list'],
          ['daemon', 'stop', '--force'],
          ['daemon', 'start'],
        ]
        for (const args of commands) {
          const result = await sandbox.cli(args, {env: {HUMANLAYER_DAEMON_SOCKET: socketPath}})
          expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).to.equal(2)
          expect(oneLine(result.stderr)).to.contain(`The socket ${socketPath} is owned by uid ${squatter}`)
        }
        expect(impostor.connections(), 'connections the impostor received').to.equal(0)
        expect(isAlive(victim.pid!)).to.equal(true)
      } finally {
        impostor.stop()
        victim.kill('SIGKILL')
      }
    })

    it('hangs up on a listener the kernel says is another user, even when the socket file has been made ours', async () => {
      sandbox = new Sandbox()
      chmodSync(sandbox.root, 0o755)
      const shared = path.join(sandbox.root, 'ours')
      mkdirSync(shared)
      chmodSync(shared, 0o1777) // sticky and ours: the path checks pass
      const socketPath = path.join(shared, 's.sock')
      const squatter = unusedUid()
      const victim = startVictim()
      const impostor = startImpostor(socketPath, victim.pid!, squatter)
      try {
        await impostor.listening
        chownSync(socketPath, process.getuid!(), process.getgid!())
        for (const args of [
          ['daemon', 'status'],
          ['approvals', 'list'],
          ['daemon', 'stop', '--force'],
        ]) {
          const result = await sandbox.cli(args, {env: {HUMANLAYER_DAEMON_SOCKET: socketPath}})
          expect(result.exitCode, `${args.join(' ')}: ${result.stderr}`).to.equal(2)
          expect(oneLine(result.stderr)).to.contain(`The process listening on ${socketPath}`).and.contain(`runs as uid ${squatter}`)
        }
        expect(impostor.connections(), 'connections made').to.equal(3)
        expect(impostor.requests(), 'requests sent').to.equal(0)
        expect(isAlive(victim.pid!)).to.equal(true)
      } finally {
        impostor.stop()
        victim.kill('SIGKILL')
      }
    })
  })
}

/**
 * Something that poses as the daemon: it answers health with `claimedPid` (whose process `stop
 * --force` would kill), shutdown with "shutting down" while staying up, anything else with an
 * empty list, and prints "connection" for each client that reaches it. Run as `uid` when given.
 */
function startImpostor(
  socketPath: string,
  claimedPid: number,
  uid?: number,
): {connections: () => number; requests: () => number; stop: () => void; listening: Promise<void>} {
  const script = `
    const net = require('net')
    process.umask(0)
    net.createServer((c) => {
      console.log('connection')
      let buffer = ''
      c.on('data', (d) => {
        console.log('request')
        buffer += d
        for (let i; (i = buffer.indexOf('\\n')) >= 0; ) {
          const request = JSON.parse(buffer.slice(0, i))
          buffer = buffer.slice(i + 1)
          const result = request.method === 'health' ? {status: 'ok', version: '0.1.0', pid: ${claimedPid}, components: {}}
            : request.method === 'shutdown' ? {shutting_down: true} : {approvals: [], sessions: [], session_id: 'x', run_id: 'y'}
          c.write(JSON.stringify({jsonrpc: '2.0', id: request.id, result}) + '\\n')
        }
      })
    }).listen(${JSON.stringify(socketPath)}, () => console.log('listening'))`
  const command =
    uid === undefined ? [process.execPath] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', process.execPath]
  const child = spawn(command[0], [...command.slice(1), '-e', script], {cwd: '/', stdio: ['ignore', 'pipe', 'inherit']})
  let output = ''
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('listening')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`the impostor exited (${code}) before listening`)))
  })
  const count = (what: string): number => output.split('\n').filter((line) => line === what).length
  return {listening, connections: () => count('connection'), requests: () => count('request'), stop: () => child.kill('SIGKILL')}
}

/** A process of ours that nothing should signal. */
function startVictim(): ChildProcess {
  return spawn('sleep', ['120'], {stdio: 'ignore'})
}

describe("security: the socket is the user's own", function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let victim: ChildProcess
  let impostor: ReturnType<typeof startImpostor> | undefined

  beforeEach(() => {
    sandbox = new Sandbox()
    victim = startVictim()
  })

  afterEach(async () => {
    impostor?.stop()
    impostor = undefined
    victim.kill('SIGKILL')
    await sandbox.cleanup()
  })

  it('refuses a directory other users can write: the daemon does not listen there, the client does not connect', async () => {
    const open = path.join(sandbox.root, 'open')
    mkdirSync(open)
    chmodSync(open, 0o777)
    const socketPath = path.join(open, 'd.sock')
    const start = await sandbox.cli(['daemon', 'start'], {env: {HUMANLAYER_DAEMON_SOCKET: socketPath}})
    expect(start.exitCode).to.equal(2)
    expect(oneLine(start.stderr)).to.contain(`The socket directory ${open}`).and.contain('writable by other users')

    // A socket someone put there (ours, even) is not talked to.
    impostor = startImpostor(socketPath, victim.pid!)
    await impostor.listening
    for (const args of [
      ['daemon', 'status'],
      ['approvals', 'list'],
      ['daemon', 'stop', '--force'],
    ]) {
      const result = await sandbox.cli(args, {env: {HUMANLAYER_DAEMON_SOCKET: socketPath}})
      expect(result.exitCode, args.join(' ')).to.equal(2)
      expect(oneLine(result.stderr)).to.contain(open).and.contain('mode 0777')
    }
    expect(impostor.connections()).to.equal(0)
    expect(isAlive(victim.pid!)).to.equal(true)
  })

  it("daemon stop --force signals no pid but the daemon's own, as its pid file and command line confirm", async () => {
    // Something of ours answers on the socket, claims the victim's pid, and does not stop.
    impostor = startImpostor(sandbox.socketPath, victim.pid!)
    await impostor.listening
    const noPidFile = await sandbox.cli(['daemon', 'stop', '--force', '--timeout', '300'])
    expect(noPidFile.exitCode).to.equal(1)
    expect(oneLine(noPidFile.stderr)).to.contain(`Refusing to kill pid ${victim.pid}`).and.contain('no pid file')
    // A pid file naming the victim is not enough either: the victim is not an hld daemon.
    writeFileSync(`${sandbox.socketPath}.pid`, `${victim.pid}\n`, {mode: 0o600})
    const notHld = await sandbox.cli(['daemon', 'stop', '--force', '--timeout', '300'])
    expect(notHld.exitCode).to.equal(1)
    expect(oneLine(notHld.stderr)).to.contain('is not an hld daemon')
    expect(isAlive(victim.pid!)).to.equal(true)
  })

  it('a real daemon writes its pid file 0600 beside the socket, which names an hld daemon, and removes it when it stops', async () => {
    const {pid} = await sandbox.startDaemon()
    const pidFile = `${sandbox.socketPath}.pid`
    expect(octal(mode(pidFile))).to.equal('0600')
    expect(readFileSync(pidFile, 'utf8').trim()).to.equal(String(pid))
    expect(unverifiedDaemonPid(sandbox.socketPath, pid)).to.equal(undefined)
    expect((await sandbox.cli(['daemon', 'stop'])).exitCode).to.equal(0)
    expect(existsSync(pidFile)).to.equal(false)
  })
})

/**
 * Starts the sandbox's daemon and a session whose permitted Bash call runs the sandbox's
 * FAKE_CLAUDE_TOOL_COMMAND (what an agent would run); returns the session and what it printed.
 */
async function runToolCommand(sandbox: Sandbox): Promise<{cwd: string; sessionId: string; tool: {stdout: string; stderr: string}}> {
  await sandbox.startDaemon()
  const cwd = path.join(sandbox.root, 'work')
  mkdirSync(cwd)
  const launched = await sandbox.cli([
    'session',
    'launch',
    '--json',
    '--working-dir',
    cwd,
    '[fake:permission] [fake:tool-command] create the marker',
  ])
  const {session_id: sessionId} = Sandbox.json<{session_id: string}>(launched)
  const toolFile = path.join(cwd, 'tool-command.json')
  await waitFor(() => existsSync(toolFile), 30_000, 'the tool command to finish')
  return {cwd, sessionId, tool: JSON.parse(readFileSync(toolFile, 'utf8')) as {stdout: string; stderr: string}}
}

describe('security: an agent cannot approve its own request', function () {
  this.timeout(90_000)
  let sandbox: Sandbox

  afterEach(async () => sandbox.cleanup())

  it('refuses approve and deny from a tool of the session (exit 5, logged, still pending); a person outside decides, and is named', async () => {
    // What an agent would run from its Bash tool: find its pending approval, then try to decide it.
    const hld = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)}`
    const firstId = `${JSON.stringify(process.execPath)} -e 'let s="";process.stdin.on("data",(c)=>s+=c).on("end",()=>{const a=JSON.parse(s).approvals;if(a.length)console.log(a[0].id)})'`
    const selfApprove = [
      'for i in $(seq 1 300); do id=$(' + hld + ' approvals list --json | ' + firstId + '); [ -n "$id" ] && break; sleep 0.05; done',
      `${hld} approvals approve "$id" --comment mine; echo "approve=$?"`,
      `${hld} approvals deny "$id" --comment nope; echo "deny=$?"`,
    ].join('\n')
    sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, FAKE_CLAUDE_TOOL_COMMAND: selfApprove})
    const {cwd, sessionId, tool} = await runToolCommand(sandbox)
    expect(tool.stdout).to.contain('approve=5').and.contain('deny=5')
    const said = oneLine(tool.stderr)
    expect(said).to.contain(`inside session ${sessionId}`).and.contain('cannot approve its own requests').and.contain('still pending')
    const pending = Sandbox.json<{approvals: Approval[]}>(await sandbox.cli(['approvals', 'list', '--json'])).approvals
    expect(pending.map((a) => [a.session_id, a.status])).to.deep.equal([[sessionId, 'pending']])
    const refusals = readFileSync(sandbox.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"refused a decision"'))
    expect(refusals).to.have.length(2)
    expect(JSON.parse(refusals[0])).to.include({level: 'warn', approval_id: pending[0].id, channel: 'cli'})

    // The person at a terminal outside the session.
    const approved = await sandbox.cli(['approvals', 'approve', pending[0].id, '--json'])
    expect(approved.exitCode, approved.stderr).to.equal(0)
    const decidedBy = Sandbox.json<SendDecisionResult>(approved).approval.decided_by!
    expect(decidedBy).to.include({channel: 'cli', uid: process.getuid!()})
    expect(decidedBy.pid).to.be.a('number').and.not.equal(process.pid)
    expect(decidedBy.command).to.equal(`${process.execPath} ${CLI} approvals approve ${pending[0].id} --json`)
    await waitFor(
      async () => {
        const show = await sandbox.cli(['session', 'show', sessionId, '--json'])
        return Sandbox.json<{session: {status: string}}>(show).session.status === 'completed'
      },
      30_000,
      'the session to complete',
    )
    expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(true)

    // The decision's provenance is in the event too, and in the list of decided approvals.
    const events = await sandbox.cli(['watch', '--json', '--since', '0', '--type', 'approval_resolved', '--count', '1'])
    expect((JSON.parse(events.stdout.trim()) as {data: {decided_by: unknown}}).data.decided_by).to.deep.equal(decidedBy)
    const all = Sandbox.json<{approvals: Approval[]}>(await sandbox.cli(['approvals', 'list', '--all', '--json'])).approvals
    expect(all.find((a) => a.id === pending[0].id)!.decided_by).to.deep.equal(decidedBy)
  })
})

describe('security: an agent cannot approve its own request over REST, nor give itself approving settings', function () {
  this.timeout(90_000)
  let sandbox: Sandbox

  afterEach(async () => sandbox.cleanup())

  it("refuses REST decide, REST PATCH and updateSessionSettings from a tool of the session (403 / Forbidden); the test's own REST decision is named 'rest'", async () => {
    // What an agent would run from its Bash tool: it can read the token (same user), find the
    // port through the socket, and try every door that approves.
    const agent = `
      const net = require('node:net'), fs = require('node:fs'), path = require('node:path')
      const rpc = (method, params) => new Promise((resolve, reject) => {
        const socket = net.connect(process.env.HUMANLAYER_DAEMON_SOCKET)
        let text = ''
        socket.on('data', (c) => { text += c; if (text.includes('\\n')) { socket.end(); resolve(JSON.parse(text.split('\\n')[0])) } })
        socket.on('error', reject)
        socket.write(JSON.stringify({jsonrpc: '2.0', id: 1, method, params}) + '\\n')
      })
      const main = async () => {
        const base = (await rpc('health', {})).result.components.http.detail
        const token = fs.readFileSync(path.join(process.env.HOME, '.humanlayer', 'http-token'), 'utf8').trim()
        const rest = async (method, route, body) => {
          const res = await fetch(base + route, {method, headers: {authorization: 'Bearer ' + token, 'content-type': 'application/json'}, body: body && JSON.stringify(body)})
          return {status: res.status, body: await res.json()}
        }
        let approvals = []
        for (let i = 0; i < 300 && approvals.length === 0; i++) {
          approvals = (await rest('GET', '/approvals')).body.data
          if (approvals.length === 0) await new Promise((r) => setTimeout(r, 50))
        }
        const [{id, session_id: session}] = approvals
        const decide = await rest('POST', '/approvals/' + id + '/decide', {decision: 'approve'})
        const patch = await rest('PATCH', '/sessions/' + session, {dangerously_skip_permissions: true})
        const settings = await rpc('updateSessionSettings', {session_id: session, auto_accept_edits: true})
        const launch = await rest('POST', '/sessions', {query: 'unsupervised', dangerously_skip_permissions: true})
        console.log(JSON.stringify({decide, patch, settings, launch}))
      }
      main().catch((e) => { console.log(JSON.stringify({failed: String(e)})) })`
    sandbox = new Sandbox({
      HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE,
      HUMANLAYER_DAEMON_HTTP_PORT: '0',
      FAKE_CLAUDE_TOOL_COMMAND: `${JSON.stringify(process.execPath)} -e ${shellQuote(agent)}`,
    })
    const {cwd, sessionId, tool} = await runToolCommand(sandbox)
    const tried = JSON.parse(tool.stdout) as Record<
      string,
      {status?: number; body?: {error: {message: string}}; error?: {code: number; message: string}}
    >
    expect(tried.decide.status, tool.stdout).to.equal(403)
    expect(tried.decide.body!.error.message).to.contain(`inside session ${sessionId}`).and.contain('still pending')
    expect(tried.patch.status, tool.stdout).to.equal(403)
    expect(tried.settings.error, tool.stdout).to.include({code: -32006})
    expect(tried.launch.status, tool.stdout).to.equal(403)

    const client = await sandbox.client()
    try {
      const {session} = await client.call(GetSessionState, {session_id: sessionId})
      expect(session).to.include({auto_accept_edits: false, dangerously_skip_permissions: false})
      const pending = Sandbox.json<{approvals: Approval[]}>(await sandbox.cli(['approvals', 'list', '--json'])).approvals
      expect(pending.map((a) => [a.session_id, a.status])).to.deep.equal([[sessionId, 'pending']])

      // This test, outside every session, decides over REST; the kernel names it.
      const base = (await client.call(Health, {})).components.http.detail
      const token = readFileSync(path.join(sandbox.home, '.humanlayer', 'http-token'), 'utf8').trim()
      const headers = {authorization: `Bearer ${token}`, 'content-type': 'application/json'}
      const decided = await fetch(`${base}/approvals/${pending[0].id}/decide`, {
        method: 'POST',
        headers,
        body: JSON.stringify({decision: 'approve'}),
      })
      expect(decided.status).to.equal(200)
      const shown = (await (await fetch(`${base}/approvals/${pending[0].id}`, {headers})).json()) as {data: Approval}
      expect(shown.data.decided_by).to.include({channel: 'rest', pid: process.pid, uid: process.getuid!()})
      await waitForStatus(client, sessionId, 'completed', 30_000)
    } finally {
      client.close()
    }
    expect(existsSync(path.join(cwd, 'marker.txt'))).to.equal(true)
  })
})

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
  const STEPS: {id: string; args: (ids: Ids) => string[]; before?: (ids: Ids) => Promise<void>; after?: (out: string, ids: Ids) => void}[] =
    [
      {id: 'daemon:start', args: () => ['daemon', 'start', '--json']},
      {id: 'daemon:status', args: () => ['daemon', 'status', '--json']},
      {id: 'daemon:status', args: () => ['daemon', 'status']},
      // stdin is closed at once: it connects, bridges nothing and exits 0, printing nothing.
      {id: 'daemon:dial-stdio', args: () => ['daemon', 'dial-stdio']},
      // --wait --json is NDJSON: the launch, then the ended session.
      {
        id: 'session:launch',
        args: () => ['session', 'launch', '--json', '--wait', 'hello'],
        after: (out, ids) => (ids.session = (JSON.parse(out.split('\n')[0]) as {session_id: string}).session_id),
      },
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
          await waitFor(
            async () => {
              const listed = await sandbox.cli(['approvals', 'list', '--json'])
              return listed.exitCode === 0 && JSON.stringify(Sandbox.json(listed)).includes(ids.respond!)
            },
            15_000,
            'the poller to show the cloud approvals',
          )
        },
      },
      {id: 'approvals:show', args: (ids) => ['approvals', 'show', ids.approve!, '--json']},
      {id: 'approvals:approve', args: (ids) => ['approvals', 'approve', ids.approve!, '--comment', 'fine', '--json']},
      {id: 'approvals:deny', args: (ids) => ['approvals', 'deny', ids.deny!, '--comment', 'not on Friday', '--json']},
      {id: 'approvals:respond', args: (ids) => ['approvals', 'respond', ids.respond!, 'main', '--json']},
      {id: 'watch', args: () => ['watch', '--json', '--since', '0', '--count', '5']},
      // doctor sends the key to the API (the fake checks it) and must print it nowhere.
      {id: 'doctor', args: () => ['doctor', '--json']},
      {id: 'doctor', args: () => ['doctor']},
      {id: 'daemon:logs', args: () => ['daemon', 'logs', '-n', '1000']},
      {id: 'policy:show', args: () => ['policy', 'show', '--json']},
      {id: 'policy:check', args: () => ['policy', 'check', 'Bash', '{"command":"ls"}', '--json']},
      {id: 'policy:test', args: () => ['policy', 'test', '--json']},
      {id: 'audit', args: () => ['audit', '--json']},
      {id: 'daemon:stop', args: () => ['daemon', 'stop', '--json']},
    ]
  const NOT_RUN: Record<string, string> = {
    'mcp:claude-approvals':
      'a stdio MCP server without --json; test/integration/approvals-cloud.test.ts checks its output and log for the key',
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

/** One word for sh -c, whatever it holds. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`
}
