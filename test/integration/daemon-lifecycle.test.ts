import {existsSync, lstatSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {isAlive} from '../../src/shared/procfs.js'
import {RawConnection} from '../helpers/raw-socket.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'

describe('daemon lifecycle (built CLI, isolated HOME)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = new Sandbox()
  })

  afterEach(async () => sandbox.cleanup())

  it('starts, makes the socket 0600 in a 0700 directory, and answers health on a raw newline connection', async () => {
    const started = await sandbox.startDaemon()
    expect(started).to.include({socket_path: sandbox.socketPath, database_path: sandbox.databasePath, log_file: sandbox.logFile})
    expect(lstatSync(sandbox.socketPath).isSocket()).to.equal(true)
    expect(statSync(sandbox.socketPath).mode & 0o777).to.equal(0o600)
    expect(statSync(path.dirname(sandbox.socketPath)).mode & 0o777).to.equal(0o700)

    const raw = await RawConnection.open(sandbox.socketPath)
    try {
      const reply = await raw.request<{jsonrpc: string; id: number; result: {status: string; version: string; pid: number}}>({
        jsonrpc: '2.0',
        method: 'health',
        id: 1,
      })
      expect(reply.jsonrpc).to.equal('2.0')
      expect(reply.id).to.equal(1)
      expect(reply.result.status).to.equal('ok')
      expect(reply.result.version).to.equal('0.1.0')
      expect(reply.result.pid).to.equal(started.pid)
    } finally {
      raw.close()
    }
  })

  it('refuses a second start, naming the running pid, with the conflict exit code', async () => {
    const {pid} = await sandbox.startDaemon()
    const second = await sandbox.cli(['daemon', 'start'])
    expect(second.exitCode).to.equal(5)
    // oclif wraps the message at the terminal width, continuing lines with " ›   ".
    expect(second.stderr.replaceAll(/\s*\n\s*›\s*/g, ' ')).to.contain(`already running at ${sandbox.socketPath} (pid ${pid})`)
    expect(isAlive(pid)).to.equal(true)
  })

  it('removes a stale socket left by SIGKILL and starts again', async () => {
    const {pid} = await sandbox.startDaemon()
    process.kill(pid, 'SIGKILL')
    await waitFor(() => !isAlive(pid), 5000, 'the killed daemon to exit')
    expect(existsSync(sandbox.socketPath), 'a killed daemon leaves its socket behind').to.equal(true)

    const restarted = await sandbox.startDaemon()
    expect(restarted.pid).to.not.equal(pid)
    expect((await sandbox.cli(['daemon', 'status'])).exitCode).to.equal(0)
  })

  it('shuts down on SIGTERM: socket removed, process gone', async () => {
    const {pid} = await sandbox.startDaemon()
    process.kill(pid, 'SIGTERM')
    await waitFor(() => !isAlive(pid), 5000, 'the daemon to exit on SIGTERM')
    expect(existsSync(sandbox.socketPath)).to.equal(false)
  })

  it('`daemon stop` removes the socket and leaves no process; a second stop says none is running', async () => {
    const {pid} = await sandbox.startDaemon()
    const stop = await sandbox.cli(['daemon', 'stop', '--json'])
    expect(stop.exitCode).to.equal(0)
    expect(Sandbox.json(stop)).to.deep.equal({stopped: true, pid, forced: false})
    expect(isAlive(pid)).to.equal(false)
    expect(existsSync(sandbox.socketPath)).to.equal(false)

    const again = await sandbox.cli(['daemon', 'stop'])
    expect(again.exitCode).to.equal(3)
    expect(again.stderr).to.contain('No hld daemon is running')
  })

  it('status exits 0 with details when running and 3 when not, in both output modes', async () => {
    const down = await sandbox.cli(['daemon', 'status'])
    expect(down.exitCode).to.equal(3)
    expect(down.stderr).to.contain(`No hld daemon is running at ${sandbox.socketPath}`).and.contain('hld daemon start')
    const downJson = await sandbox.cli(['daemon', 'status', '--json'])
    expect(downJson.exitCode).to.equal(3)
    expect(Sandbox.json<{error: {name: string; exitCode: number}}>(downJson).error).to.include({name: 'DaemonNotRunningError', exitCode: 3})

    const {pid} = await sandbox.startDaemon()
    const up = await sandbox.cli(['daemon', 'status'])
    expect(up.exitCode).to.equal(0)
    expect(up.stdout).to.contain(`pid ${pid}`).and.contain(sandbox.databasePath).and.contain(sandbox.logFile)
    const upJson = Sandbox.json<{status: string; pid: number; uptime_ms: number; socket_path: string}>(
      await sandbox.cli(['daemon', 'status', '--json']),
    )
    expect(upJson).to.include({status: 'ok', pid, socket_path: sandbox.socketPath})
    expect(upJson.uptime_ms).to.be.a('number')
  })

  it('fails a start whose daemon dies, quoting the daemon log', async () => {
    const notADirectory = path.join(sandbox.root, 'file')
    writeFileSync(notADirectory, '')
    const result = await sandbox.cli(['daemon', 'start'], {env: {HUMANLAYER_DATABASE_PATH: path.join(notADirectory, 'x.db')}})
    expect(result.exitCode).to.equal(1)
    expect(result.stderr).to.contain('The daemon exited during start').and.contain(`Last lines of ${sandbox.logFile}`)
    expect(result.stderr).to.contain('Cannot open the database')
  })

  it('runs in the foreground, logs to stderr, and exits 0 on SIGINT, removing the socket', async () => {
    const child = sandbox.foregroundDaemon()
    await sandbox.waitHealthy()
    child.kill('SIGINT')
    const result = await child
    expect(result.exitCode).to.equal(0)
    expect(String(result.stderr)).to.contain('"msg":"daemon started"').and.contain('"msg":"daemon stopped"')
    expect(existsSync(sandbox.socketPath)).to.equal(false)
  })

  it('refuses a socket path that is a symlink or a regular file, and one that is too long', async () => {
    writeFileSync(path.join(sandbox.root, 'target'), '')
    symlinkSync(path.join(sandbox.root, 'target'), sandbox.socketPath)
    const viaLink = await sandbox.cli(['daemon', 'start', '--foreground'])
    expect(viaLink.exitCode).to.equal(1)
    expect(viaLink.stderr).to.contain('is a symbolic link')

    const regular = path.join(sandbox.root, 'plain')
    writeFileSync(regular, 'keep me')
    const onFile = await sandbox.cli(['daemon', 'start', '--foreground', '--socket', regular])
    expect(onFile.stderr).to.contain('exists and is not a socket')
    expect(statSync(regular).size).to.equal(7)

    const long = path.join(sandbox.root, 'x'.repeat(120), 'd.sock')
    const tooLong = await sandbox.cli(['daemon', 'start', '--socket', long])
    expect(tooLong.exitCode).to.equal(2)
    expect(tooLong.stderr).to.match(/bytes long; this OS allows at most \d+/)
  })
})
