/**
 * The approvals MCP server as a session starts it (bin/mcp-claude-approvals.js, the daemon's
 * node, the session's HUMANLAYER_* variables): spawn → its answer to `initialize`, against
 * `node -e 0` spawned → exited with exactly the same environment. Claude Code gives up on an MCP
 * server that is slow to connect, which is why sessions lost their permission tool (issue 10).
 * `hld mcp claude-approvals` (through oclif) is timed beside it for comparison.
 */
import {spawn} from 'node:child_process'
import path from 'node:path'

import {CLI, REPO_ROOT, Sandbox} from '../test/helpers/sandbox.js'
import {BASELINE_ARGV, median, round} from './lib/measure.js'

const RUNS = 21
const WARMUPS = 2
const ENTRY = path.join(REPO_ROOT, 'bin', 'mcp-claude-approvals.js')
const INITIALIZE = `${JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {protocolVersion: '2025-06-18', capabilities: {}, clientInfo: {name: 'bench', version: '1'}},
})}\n`

/** ms from spawn until the first line on stdout (the answer to `initialize`); the process is then killed. */
function untilInitialized(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const child = spawn(process.execPath, argv, {env, stdio: ['pipe', 'pipe', 'ignore']})
    let out = ''
    child.stdin.end(INITIALIZE)
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8')
      if (!out.includes('\n')) return
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      child.kill('SIGKILL')
      if (!out.includes('"protocolVersion"')) reject(new Error(`Not an initialize answer: ${out}`))
      else resolve(ms)
    })
    child.once('exit', (code) => {
      if (!out.includes('\n')) reject(new Error(`${argv.join(' ')} exited ${code} before answering initialize`))
    })
  })
}

/** ms from spawn until exit. */
function untilExit(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const child = spawn(process.execPath, argv, {env, stdio: 'ignore'})
    child.once('exit', (code) =>
      code === 0 ? resolve(Number(process.hrtime.bigint() - start) / 1e6) : reject(new Error(`exited ${code}`)),
    )
  })
}

export async function benchMcp(): Promise<Record<string, number>> {
  const sandbox = new Sandbox()
  try {
    // What the daemon's MCP config gives the server (no daemon needs to run to answer initialize).
    const env = sandbox.env({HUMANLAYER_RUN_ID: 'bench-run', HUMANLAYER_NO_AUTOSTART: undefined})
    const samples = {baseline: [] as number[], entry: [] as number[], oclif: [] as number[]}
    for (let i = 0; i < WARMUPS + RUNS; i++) {
      const baseline = await untilExit(BASELINE_ARGV, env)
      const entry = await untilInitialized([ENTRY], env)
      const oclif = await untilInitialized([CLI, 'mcp', 'claude-approvals'], env)
      if (i < WARMUPS) continue
      samples.baseline.push(baseline)
      samples.entry.push(entry)
      samples.oclif.push(oclif)
    }
    const [baseline, entry, oclif] = [median(samples.baseline), median(samples.entry), median(samples.oclif)]
    return {
      node_e0_ms: round(baseline),
      mcp_initialize_ms: round(entry),
      mcp_initialize_ratio: round(entry / baseline),
      mcp_initialize_via_oclif_ms: round(oclif),
      mcp_initialize_via_oclif_ratio: round(oclif / baseline),
    }
  } finally {
    await sandbox.cleanup()
  }
}
