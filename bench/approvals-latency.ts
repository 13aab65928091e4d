/**
 * Approval latency (issue 15), through the real (built) daemon on its socket, against a bare store
 * server (bench/lib/approval-store-server.mjs: Node, NDJSON on a Unix socket, better-sqlite3 on a
 * file of the daemon's schema, synchronous=FULL, so both sync each acknowledged create and decision
 * before replying). Same client code, same connections for both, one sample of each in turn:
 *   - created → visible: from sending createApproval (as the approvals MCP server or the hook does)
 *     until a Subscribe connection has the new_approval event and a fetchApprovals sent then lists it;
 *   - decision → waiter: from sending sendDecision until the requester's waitForDecision long-poll
 *     (already waiting) answers with the decision.
 * The daemon's approvals belong to a live session (a fake claude that waits; approvals off, so it
 * starts no MCP server). Medians and p99s in ms, and the medians' ratios to the bare server.
 * Needs `npm run build` first; alone: `node --import tsx bench/approvals-latency.ts`.
 */
import {spawn} from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {openStore} from '../src/daemon/store/index.js'
import {Sandbox, waitFor} from '../test/helpers/sandbox.js'
import {FAKE_CLAUDE, queryDb} from '../test/helpers/sessions.js'
import {percentile, round} from './lib/measure.js'

const SAMPLES = 150
const WARMUP = 10
/** Time for a waitForDecision to be registered before the decision is sent. */
const WAITER_SETTLE_MS = 5
const BARE_SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib', 'approval-store-server.mjs')

type Frame = {id?: number | null; result?: Record<string, unknown>; error?: {message: string}}

/** One NDJSON connection: send requests, wait for the first line that matches. */
class Line {
  private buffer = ''
  private readonly frames: Frame[] = []
  private wanted: {match: (frame: Frame) => boolean; resolve: (frame: Frame) => void}[] = []
  private nextId = 1

  private constructor(private readonly socket: net.Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      let index
      while ((index = this.buffer.indexOf('\n')) !== -1) {
        this.accept(JSON.parse(this.buffer.slice(0, index)) as Frame)
        this.buffer = this.buffer.slice(index + 1)
      }
    })
    socket.on('error', () => {})
  }

  static open(socketPath: string): Promise<Line> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({path: socketPath}, () => resolve(new Line(socket)))
      socket.once('error', reject)
    })
  }

  /** Sends a request; the promise is its reply. */
  request(method: string, params: unknown): Promise<Frame> {
    const id = this.send(method, params)
    return this.until((frame) => frame.id === id).then((frame) => {
      if (frame.error) throw new Error(`${method}: ${frame.error.message}`)
      return frame
    })
  }

  /** Sends a request without waiting; returns its id. */
  send(method: string, params: unknown): number {
    const id = this.nextId++
    this.socket.write(`${JSON.stringify({jsonrpc: '2.0', method, params, id})}\n`)
    return id
  }

  /** The first frame (already received, or to come) that matches; taken off the queue. */
  until(match: (frame: Frame) => boolean): Promise<Frame> {
    const index = this.frames.findIndex(match)
    if (index !== -1) return Promise.resolve(this.frames.splice(index, 1)[0])
    return new Promise((resolve) => this.wanted.push({match, resolve}))
  }

  close(): void {
    this.socket.destroy()
  }

  private accept(frame: Frame): void {
    const index = this.wanted.findIndex((wanted) => wanted.match(frame))
    if (index === -1) {
      this.frames.push(frame)
      return
    }
    this.wanted.splice(index, 1)[0].resolve(frame)
  }
}

const newApprovalOf = (frame: Frame): string | undefined => {
  const event = frame.result?.event as {type?: string; data?: {approval_id?: string}} | undefined
  return event?.type === 'new_approval' ? event.data?.approval_id : undefined
}

/** The four parties of one approval's life, on one server. */
class Subject {
  private constructor(
    readonly name: string,
    private readonly runId: string,
    private readonly subscriber: Line,
    private readonly requester: Line,
    private readonly lister: Line,
    private readonly decider: Line,
  ) {}

  static async open(name: string, socketPath: string, runId: string): Promise<Subject> {
    const [subscriber, requester, lister, decider] = await Promise.all([1, 2, 3, 4].map(() => Line.open(socketPath)))
    // A stream: the daemon confirms with id null, as the Go hld does.
    subscriber.send('Subscribe', {event_types: ['new_approval']})
    await subscriber.until((frame) => frame.result !== undefined && frame.result.event === undefined)
    return new Subject(name, runId, subscriber, requester, lister, decider)
  }

  /** One approval, created and decided: [created → visible ms, decision → waiter ms]. */
  async sample(i: number): Promise<[number, number]> {
    const created = performance.now()
    const reply = this.requester.request('createApproval', {
      run_id: this.runId,
      tool_name: 'Bash',
      tool_input: {command: `touch f${i}.txt`, description: 'Create a file'},
    })
    // The subscriber reacts to the event as a UI does: it lists the approvals.
    const seen = newApprovalOf(await this.subscriber.until((frame) => newApprovalOf(frame) !== undefined))!
    const listed = await this.lister.request('fetchApprovals', {})
    const visibleMs = performance.now() - created
    const approvalId = (await reply).result!.approval_id as string
    if (seen !== approvalId) throw new Error(`${this.name}: the event named ${seen}, not ${approvalId}`)
    if (!(listed.result!.approvals as {id: string}[]).some((approval) => approval.id === approvalId))
      throw new Error(`${this.name}: fetchApprovals after the event did not list ${approvalId}`)

    const waited = this.requester.request('waitForDecision', {approval_id: approvalId, timeout_ms: 60_000})
    await new Promise((resolve) => setTimeout(resolve, WAITER_SETTLE_MS))
    const decided = performance.now()
    const acknowledged = this.decider.request('sendDecision', {approval_id: approvalId, decision: 'approve', comment: 'ok'})
    const answer = await waited
    const decisionMs = performance.now() - decided
    if (answer.result!.decided !== true) throw new Error(`${this.name}: waitForDecision answered undecided`)
    await acknowledged
    return [visibleMs, decisionMs]
  }

  close(): void {
    for (const line of [this.subscriber, this.requester, this.lister, this.decider]) line.close()
  }
}

async function startBareServer(sandbox: Sandbox): Promise<{socketPath: string; stop: () => Promise<void>}> {
  const socketPath = path.join(sandbox.root, 'bare.sock')
  const databasePath = path.join(sandbox.root, 'bare.db')
  // The daemon's schema, indexes included.
  openStore(databasePath).close()
  const child = spawn(process.execPath, [BARE_SERVER, socketPath, databasePath], {env: sandbox.env(), stdio: ['ignore', 'pipe', 'inherit']})
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve())
    child.once('exit', (code) => reject(new Error(`the bare store server exited ${code}`)))
  })
  return {
    socketPath,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

export async function benchApprovalsLatency(): Promise<Record<string, number>> {
  const sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
  const samples = {hld: {visible: [] as number[], decision: [] as number[]}, bare: {visible: [] as number[], decision: [] as number[]}}
  try {
    await sandbox.startDaemon()
    const bare = await startBareServer(sandbox)
    const launcher = await Line.open(sandbox.socketPath)
    const launched = await launcher.request('launchSession', {
      query: '[fake:slow=600000] waits while approvals come and go',
      working_dir: sandbox.root,
      disable_approvals: true,
    })
    launcher.close()
    const runId = launched.result!.run_id as string
    await waitFor(
      () => queryDb<{status: string}>(sandbox.databasePath, 'SELECT status FROM sessions WHERE run_id = ?', runId)[0]?.status === 'running',
      30_000,
      'the live session to run',
    )
    const subjects = {
      hld: await Subject.open('hld', sandbox.socketPath, runId),
      bare: await Subject.open('bare', bare.socketPath, 'run-bare'),
    }
    try {
      for (let i = 0; i < WARMUP + SAMPLES; i++) {
        for (const name of ['hld', 'bare'] as const) {
          const [visible, decision] = await subjects[name].sample(i)
          if (i < WARMUP) continue
          samples[name].visible.push(visible)
          samples[name].decision.push(decision)
        }
      }
    } finally {
      subjects.hld.close()
      subjects.bare.close()
      await bare.stop()
      await sandbox.cli(['daemon', 'stop'])
    }
  } finally {
    await sandbox.cleanup()
  }
  const figures: Record<string, number> = {}
  for (const what of ['visible', 'decision'] as const) {
    const label = what === 'visible' ? 'approval_created_to_visible' : 'decision_to_waiter'
    const hld = percentile(samples.hld[what], 50)
    const bare = percentile(samples.bare[what], 50)
    figures[`${label}_p50_ms`] = round(hld, 3)
    figures[`${label}_p99_ms`] = round(percentile(samples.hld[what], 99), 3)
    figures[`${label}_bare_p50_ms`] = round(bare, 3)
    figures[`${label}_bare_p99_ms`] = round(percentile(samples.bare[what], 99), 3)
    figures[`${label}_ratio`] = round(hld / bare)
  }
  return figures
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const figures = await benchApprovalsLatency()
  for (const [name, value] of Object.entries(figures)) process.stdout.write(`${name.padEnd(48)} ${value}\n`)
}
