/**
 * Crash safety: SIGKILL the daemon at random points, while it starts (migrating a new
 * database) and while loads run against it, then restart it. Each time the database passes
 * `PRAGMA integrity_check`, every write the daemon acknowledged is there, and the next
 * start is healthy. Loads are a table: each capability adds its write-heavy load to LOADS.
 * Reproduce a failure with the seed it prints: HLD_CRASH_SEED=<seed>.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'
import {expect} from 'chai'

import {DaemonClient} from '../../src/client/index.js'
import {isAlive} from '../../src/client/lifecycle.js'
import {Health} from '../../src/protocol/daemon.js'
import {REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {Prng} from './frames.js'

const seed = Number(process.env.HLD_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31))
const CYCLES = 8

/**
 * A write-heavy load. `run` drives the daemon until `signal` aborts (the daemon is killed
 * at some point, so calls fail; that is expected) and records what the daemon acknowledged;
 * `verify` checks, on the database after the crash, that all of it is there and that
 * nothing is left half-done.
 */
interface CrashLoad {
  name: string
  run(socketPath: string, signal: AbortSignal, rng: Prng): Promise<void>
  verify(db: Database.Database): void
}

/** Many concurrent calls on several connections: what a busy CLI and UI do to a daemon. */
const healthLoad: CrashLoad = {
  name: 'concurrent health calls',
  async run(socketPath, signal) {
    const lane = async (): Promise<void> => {
      const client = await DaemonClient.connect(socketPath)
      try {
        while (!signal.aborted) await client.call(Health, {}, {timeoutMs: 2000})
      } finally {
        client.close()
      }
    }
    await Promise.allSettled(Array.from({length: 4}, lane))
  },
  verify() {},
}

/** Launches, approvals and decisions add their loads here as they land. */
const LOADS: CrashLoad[] = [healthLoad]

function spawnDaemon(sandbox: Sandbox): ChildProcess {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'daemon', 'entry.js')], {env: sandbox.env(), stdio: 'ignore'})
  sandbox.track(child.pid!)
  return child
}

async function kill(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL')
  await waitFor(() => child.exitCode !== null || child.signalCode !== null || !isAlive(child.pid!), 5000, `pid ${child.pid} to die`)
}

/** Integrity, then the foundation's own acknowledged write: a healthy start recorded its version. */
function checkDatabase(file: string, loads: CrashLoad[], startedHealthy: boolean): void {
  const db = new Database(file, {fileMustExist: true})
  try {
    expect(db.pragma('integrity_check', {simple: true}), `integrity_check of ${file}`).to.equal('ok')
    if (startedHealthy) {
      const row = db.prepare("SELECT value FROM daemon_meta WHERE key = 'last_opened_by'").get() as {value: string} | undefined
      expect(row, 'daemon_meta.last_opened_by after a start that answered health').to.not.equal(undefined)
    }
    for (const load of loads) load.verify(db)
  } finally {
    db.close()
  }
}

describe('crash safety', function () {
  this.timeout(120_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = new Sandbox()
  })

  afterEach(async function () {
    if (this.currentTest?.state === 'failed') console.error(`crash safety seed: ${seed} (rerun with HLD_CRASH_SEED=${seed})`)
    await sandbox.cleanup()
  })

  it('survives SIGKILL at random points of start-up, migrations included', async () => {
    const rng = new Prng(seed)
    let everHealthy = false
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const child = spawnDaemon(sandbox)
      // Start-up takes a few hundred ms here; kill anywhere in it, or just after.
      await new Promise((resolve) => setTimeout(resolve, rng.int(0, 600)))
      await kill(child)
      // Killed before SQLite created the file: nothing to check yet.
      if (existsSync(sandbox.databasePath)) checkDatabase(sandbox.databasePath, [], everHealthy)
      await sandbox.startDaemon()
      everHealthy = true
      await sandbox.cli(['daemon', 'stop'])
    }
  })

  for (const load of LOADS) {
    it(`keeps every acknowledged write through SIGKILL during load: ${load.name}`, async () => {
      const rng = new Prng(seed ^ 0x10ad)
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const child = spawnDaemon(sandbox)
        await sandbox.waitHealthy()
        const abort = new AbortController()
        const running = load.run(sandbox.socketPath, abort.signal, rng)
        await new Promise((resolve) => setTimeout(resolve, rng.int(20, 500)))
        await kill(child)
        abort.abort()
        await running
        checkDatabase(sandbox.databasePath, [load], true)
      }
      // And the daemon comes back over what the last crash left (a stale socket among it).
      await sandbox.startDaemon()
      const client = await sandbox.client()
      try {
        expect((await client.call(Health, {})).status).to.equal('ok')
      } finally {
        client.close()
      }
    })
  }
})

