/**
 * The daemon in the foreground under strace, recording its syncs and socket writes in order: what
 * tells whether a commit was synced to disk before a reply went out.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {execa, type ResultPromise} from 'execa'

import {CLI, Sandbox, waitFor} from './sandbox.js'

const SYNC = /\b(fsync|fdatasync)\(/

export class TracedDaemon {
  private constructor(
    private readonly trace: string,
    private readonly strace: ResultPromise,
    private readonly pid: number,
  ) {}

  /** Starts it in the sandbox and waits until it is healthy. */
  static async start(sandbox: Sandbox): Promise<TracedDaemon> {
    const trace = path.join(sandbox.root, 'strace.txt')
    const strace = execa(
      'strace',
      [
        '-f',
        '-qq',
        '-s',
        '64',
        '-e',
        'trace=fsync,fdatasync,write,writev',
        '-o',
        trace,
        process.execPath,
        CLI,
        'daemon',
        'start',
        '--foreground',
      ],
      {env: sandbox.env(), extendEnv: false, reject: false, stdin: 'ignore'},
    )
    try {
      return new TracedDaemon(trace, strace, await sandbox.waitHealthy(30_000))
    } catch (error) {
      strace.kill('SIGKILL')
      await strace
      throw error
    }
  }

  /**
   * The syncs between the reply to request `before` and the reply to request `reply` (both
   * results, by their JSON-RPC ids), once the latter is in the trace.
   */
  async syncsBetween(before: number, reply: number): Promise<string[]> {
    // strace quotes the frames it shows: `{\"jsonrpc\":\"2.0\",\"id\":3,…`.
    const replyTo = (id: number) => (line: string) => /^\d+\s+write/.test(line) && line.includes(`\\"id\\":${id},\\"result\\"`)
    await waitFor(() => this.lines().some(replyTo(reply)), 10_000, `reply ${reply} in the trace`)
    const lines = this.lines()
    return lines.slice(lines.findIndex(replyTo(before)) + 1, lines.findIndex(replyTo(reply))).filter((line) => SYNC.test(line))
  }

  /** strace passes on no signal: stops the daemon itself, and strace ends with it. */
  async stop(): Promise<void> {
    process.kill(this.pid, 'SIGTERM')
    await this.strace
  }

  private lines(): string[] {
    return readFileSync(this.trace, 'utf8').split('\n')
  }
}
