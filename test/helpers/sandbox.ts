/**
 * An isolated world for one test: a temporary HOME (so nothing touches the real
 * ~/.humanlayer), a short socket path (sun_path is ~107 bytes), a database file, and a way
 * to run the built CLI in it. `cleanup()` stops any daemon it started and removes the files.
 */
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {execa, type ResultPromise} from 'execa'

import {DaemonClient} from '../../src/client/index.js'
import {hasProcFs, isAlive} from '../../src/shared/procfs.js'
import {Health} from '../../src/protocol/daemon.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CLI = path.join(REPO_ROOT, 'bin', 'run.js')

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

export class Sandbox {
  readonly root: string
  readonly home: string
  readonly socketPath: string
  readonly databasePath: string
  readonly logFile: string
  private readonly pids = new Set<number>()

  constructor(private readonly extraEnv: Record<string, string> = {}) {
    this.root = mkdtempSync(path.join(os.tmpdir(), 'hld-'))
    this.home = path.join(this.root, 'home')
    this.socketPath = path.join(this.root, 'd.sock')
    this.databasePath = path.join(this.root, 'daemon.db')
    this.logFile = path.join(this.root, 'daemon.log')
  }

  /** The environment a CLI or daemon in this sandbox runs with: nothing from the real HOME. */
  env(overrides: Record<string, string | undefined> = {}): Record<string, string> {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: this.home,
      XDG_CONFIG_HOME: path.join(this.home, '.config'),
      HUMANLAYER_DAEMON_SOCKET: this.socketPath,
      HUMANLAYER_DATABASE_PATH: this.databasePath,
      HUMANLAYER_LOG_FILE: this.logFile,
      HUMANLAYER_NO_AUTOSTART: '1',
      // Nothing a test starts may reach a real service: outside APIs point at a closed local
      // port unless a test points them at its fake.
      HUMANLAYER_API_BASE_URL: 'http://127.0.0.1:9/humanlayer/v1',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9',
      ...this.extraEnv,
    }
    for (const [key, value] of Object.entries(overrides)) {
      if (value === undefined) delete env[key]
      else env[key] = value
    }
    return env
  }

  /** Runs the built CLI; never throws on a non-zero exit. */
  async cli(args: string[], options: {env?: Record<string, string | undefined>; timeoutMs?: number} = {}): Promise<CliResult> {
    const result = await execa(process.execPath, [CLI, ...args], {
      env: this.env(options.env),
      extendEnv: false,
      reject: false,
      timeout: options.timeoutMs ?? 30_000,
      stdin: 'ignore',
    })
    return {exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr)}
  }

  /** Parses the JSON a `--json` command printed. */
  static json<T>(result: CliResult): T {
    try {
      return JSON.parse(result.stdout) as T
    } catch {
      throw new Error(`Expected JSON on stdout, got:\n${result.stdout}\nstderr:\n${result.stderr}`)
    }
  }

  /** `hld daemon start --json`, remembering the pid so cleanup can kill it. */
  async startDaemon(env: Record<string, string | undefined> = {}): Promise<{pid: number}> {
    const result = await this.cli(['daemon', 'start', '--json'], {env})
    if (result.exitCode !== 0) throw new Error(`daemon start failed (${result.exitCode}):\n${result.stdout}\n${result.stderr}`)
    const started = Sandbox.json<{pid: number}>(result)
    this.pids.add(started.pid)
    return started
  }

  /** Runs the daemon as a child of this process (foreground), for tests that signal it. */
  foregroundDaemon(env: Record<string, string | undefined> = {}): ResultPromise {
    const child = execa(process.execPath, [CLI, 'daemon', 'start', '--foreground'], {
      env: this.env(env),
      extendEnv: false,
      reject: false,
      stdin: 'ignore',
    })
    if (child.pid) this.pids.add(child.pid)
    return child
  }

  track(pid: number): void {
    this.pids.add(pid)
  }

  async client(): Promise<DaemonClient> {
    return DaemonClient.connect(this.socketPath)
  }

  /** Polls until the daemon answers health; bounded. */
  async waitHealthy(timeoutMs = 10_000): Promise<number> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        const client = await this.client()
        try {
          const {pid} = await client.call(Health, {})
          this.pids.add(pid)
          return pid
        } finally {
          client.close()
        }
      } catch (error) {
        if (Date.now() > deadline) throw error
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
  }

  /**
   * Every other process still running with this sandbox's HOME: sessions' claude and their tools
   * outlive a killed daemon by design (a restarted daemon adopts them), so its pid alone is not enough.
   */
  private strays(): number[] {
    if (!hasProcFs()) return []
    const marker = `\0HOME=${this.home}\0`
    const found: number[] = []
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
      try {
        if (`\0${readFileSync(`/proc/${entry}/environ`, 'latin1')}`.includes(marker)) found.push(Number(entry))
      } catch {
        // Gone already, or not ours to read.
      }
    }
    return found
  }

  async cleanup(): Promise<void> {
    for (const pid of this.strays()) this.pids.add(pid)
    for (const pid of this.pids) {
      if (isAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // It exited between the check and the kill: nothing left to do.
        }
      }
    }
    await waitFor(() => [...this.pids].every((pid) => !isAlive(pid)), 5000).catch(() => {})
    // A process that was just killed may still be writing its log here (ENOTEMPTY): rm retries,
    // and a directory that still will not go is reported, not thrown, so the file's other tests run.
    try {
      rmSync(this.root, {recursive: true, force: true, maxRetries: 10, retryDelay: 50})
    } catch (error) {
      console.warn(`sandbox: could not remove ${this.root}: ${(error as Error).message}`)
    }
  }
}

/** Polls a condition until it holds; rejects with `what` after the deadline. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
