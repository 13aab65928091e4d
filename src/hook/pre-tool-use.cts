/**
 * The PreToolUse hook claude runs before every tool call of a session hld launched: it reads
 * claude's JSON on stdin, asks the daemon (`decideToolUse`) and prints the decision. It runs on
 * every call, so it loads nothing but node:net (and node:fs, which node has loaded already): no
 * oclif, no client library. It is CommonJS
 * (`.cts` → dist/hook/pre-tool-use.cjs, started by bin/hook.cjs) because node sets up its ES
 * module loader for an ES module entry, which costs a tenth of node's own start-up; and it
 * connects to the daemon while it reads claude's input.
 *
 * Fail closed. If the daemon cannot be reached, it tries again for `--reconnect-ms` (so a
 * daemon restart is survived, and a wait for a human is resumed: the daemon finds the same
 * approval by tool_use_id), then blocks the call with exit code 2 and a reason saying why.
 * Any other failure blocks it too: claude treats every exit but 0 and 2 as "no opinion".
 */
import {readSync} from 'node:fs'
import net from 'node:net'

/** ErrorCode.Unavailable: the daemon is shutting down; ask again once it is back. */
const UNAVAILABLE = -32_004
const MAX_REPLY_BYTES = 4 * 1024 * 1024

interface HookInput {
  tool_name?: unknown
  tool_input?: unknown
  tool_use_id?: unknown
  cwd?: unknown
}

interface Decision {
  decision: 'allow' | 'deny' | 'ask'
  reason: string
}

class Unreachable extends Error {}

export async function main(argv: string[]): Promise<number> {
  const options = parseArgs(argv)
  if (typeof options === 'string') return block(`hld hook: ${options}`)
  let connection: Promise<net.Socket> | undefined = connect(options.socket)
  connection.catch(() => {}) // Awaited below; a refusal before that is not an unhandled rejection.
  let input: HookInput
  try {
    input = JSON.parse(await readStdin()) as HookInput
  } catch (error) {
    return block(`hld hook: claude's hook input is not JSON (${(error as Error).message}); the call is blocked`)
  }
  if (typeof input?.tool_name !== 'string') return block('hld hook: the hook input has no tool_name; the call is blocked')
  const params = {
    run_id: options.runId,
    tool_name: input.tool_name,
    tool_input: input.tool_input ?? {},
    ...(typeof input.tool_use_id === 'string' && input.tool_use_id ? {tool_use_id: input.tool_use_id} : {}),
    ...(typeof input.cwd === 'string' && input.cwd ? {cwd: input.cwd} : {}),
  }
  let lostSince: number | undefined
  let lastError: string
  for (let attempt = 0; ; attempt++) {
    try {
      const decision = await ask(connection ?? connect(options.socket), params)
      process.stdout.write(
        `${JSON.stringify({hookSpecificOutput: {hookEventName: 'PreToolUse', permissionDecision: decision.decision, permissionDecisionReason: decision.reason}})}\n`,
      )
      return 0
    } catch (error) {
      if (!(error instanceof Unreachable)) return block(`hld could not decide this call, so it is blocked: ${(error as Error).message}`)
      lastError = error.message
    }
    connection = undefined
    lostSince ??= Date.now()
    const lost = Date.now() - lostSince
    if (lost >= options.reconnectMs) {
      return block(
        `hld blocked this call: its daemon at ${options.socket} was unreachable for ${Math.round(lost / 100) / 10} s (${lastError}). ` +
          'Start it again (hld daemon start) and retry.',
      )
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** Math.min(attempt, 5), options.reconnectMs - lost)))
  }
}

/** Exit code 2: claude blocks the call and shows stderr as the reason. */
function block(reason: string): number {
  process.stderr.write(`${reason}\n`)
  return 2
}

function parseArgs(argv: string[]): {socket: string; runId: string; reconnectMs: number} | string {
  const [command, ...rest] = argv
  if (command !== 'pre-tool-use') return `unknown hook ${JSON.stringify(command ?? '')}; the only one is pre-tool-use`
  const values: Record<string, string> = {}
  for (let i = 0; i < rest.length; i += 2) values[rest[i]] = rest[i + 1]
  const socket = values['--socket'] ?? process.env.HUMANLAYER_DAEMON_SOCKET
  const runId = values['--run-id'] ?? process.env.HUMANLAYER_RUN_ID
  const reconnectMs = Number(values['--reconnect-ms'] ?? process.env.HUMANLAYER_APPROVAL_RECONNECT_MS ?? 30_000)
  if (!socket) return 'no daemon socket (--socket or HUMANLAYER_DAEMON_SOCKET); the call is blocked'
  if (!runId) return 'no run id (--run-id or HUMANLAYER_RUN_ID); the call is blocked'
  if (!Number.isFinite(reconnectMs) || reconnectMs < 0)
    return `--reconnect-ms must be a number of milliseconds, not ${values['--reconnect-ms']}`
  return {socket, runId, reconnectMs}
}

/**
 * claude's input, read with plain reads: process.stdin would build a stream for the pipe, which
 * costs more than the read itself. The connection to the daemon, started before, is made by the
 * kernel meanwhile. A stdin that turns out to be non-blocking is read on as a stream.
 */
function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  const buffer = Buffer.allocUnsafe(64 * 1024)
  try {
    for (;;) {
      const n = readSync(0, buffer)
      if (n === 0) return Promise.resolve(Buffer.concat(chunks).toString('utf8'))
      chunks.push(Buffer.from(buffer.subarray(0, n)))
    }
  } catch (error) {
    const failure = error as NodeJS.ErrnoException
    if (failure.code !== 'EAGAIN') return Promise.reject(failure)
  }
  return new Promise((resolve, reject) => {
    process.stdin.on('data', (chunk: Buffer) => chunks.push(chunk))
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    process.stdin.on('error', reject)
  })
}

/** A connection to the daemon; Unreachable when it is not there. */
function connect(socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({path: socketPath})
    socket.on('error', (error) => {
      socket.destroy()
      reject(new Unreachable(error.message))
    })
    socket.once('connect', () => resolve(socket))
  })
}

/** One request on its own connection; Unreachable when the daemon is not there (or leaves before answering). */
async function ask(connection: Promise<net.Socket>, params: object): Promise<Decision> {
  const socket = await connection
  return new Promise((resolve, reject) => {
    let buffer = ''
    let settled = false
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      socket.destroy()
      fn()
    }
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      if (buffer.length > MAX_REPLY_BYTES) return settle(() => reject(new Error('the daemon sent an oversized reply')))
      const newline = buffer.indexOf('\n')
      if (newline === -1) return
      let reply: {result?: Decision; error?: {code: number; message: string}}
      try {
        reply = JSON.parse(buffer.slice(0, newline)) as typeof reply
      } catch {
        return settle(() => reject(new Error('the daemon sent a reply that is not JSON')))
      }
      if (reply.error) {
        const error = reply.error
        return settle(() => reject(error.code === UNAVAILABLE ? new Unreachable(error.message) : new Error(error.message)))
      }
      const result = reply.result
      if (!result || !['allow', 'deny', 'ask'].includes(result.decision)) {
        return settle(() => reject(new Error('the daemon sent no decision')))
      }
      settle(() => resolve({decision: result.decision, reason: String(result.reason ?? '')}))
    })
    socket.on('error', (error) => settle(() => reject(new Unreachable(error.message))))
    socket.on('close', () => settle(() => reject(new Unreachable('the connection closed before a decision'))))
    // It may have closed while claude's input was read.
    if (socket.destroyed) return settle(() => reject(new Unreachable('the connection closed before a decision')))
    socket.write(`${JSON.stringify({jsonrpc: '2.0', id: 1, method: 'decideToolUse', params})}\n`)
  })
}
