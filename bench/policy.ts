/**
 * The policy engine's costs.
 * - hook round trip: bin/hook.cjs for an allowed call (stdin JSON → socket → decision on stdout)
 *   against `node -e 0` given exactly the same environment and stdin. Target: at most 1.5x.
 * - evaluation: one call judged by a policy of 1,000 rules (Bash, path, MCP and regex rules, the
 *   built-in ones too), averaged over mixed calls. Target: at most 50 µs per call.
 */
import {spawnSync} from 'node:child_process'
import path from 'node:path'

import type {DaemonClient} from '../src/client/index.js'
import {DecideToolUse} from '../src/protocol/policy.js'
import {InterruptSession, LaunchSession} from '../src/protocol/sessions.js'
import {builtInRules} from '../src/daemon/policy/built-in.js'
import {Policy, type RuleSpec} from '../src/daemon/policy/policy.js'
import {REPO_ROOT, Sandbox} from '../test/helpers/sandbox.js'
import {FAKE_CLAUDE, waitForStatus} from '../test/helpers/sessions.js'
import {BASELINE_ARGV, medianWallTimes, round} from './lib/measure.js'

const HOOK = path.join(REPO_ROOT, 'bin', 'hook.cjs')
const RUNS = 21
const WARMUPS = 3

export async function benchPolicy(): Promise<Record<string, number>> {
  return {...(await hookRoundTrip()), ...evaluation()}
}

async function hookRoundTrip(): Promise<Record<string, number>> {
  const sandbox = new Sandbox({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE})
  let client: DaemonClient | undefined
  let sessionId: string | undefined
  try {
    await sandbox.startDaemon()
    client = await sandbox.client()
    const launched = await client.call(LaunchSession, {query: 'bench [fake:slow=600000]', working_dir: sandbox.root})
    sessionId = launched.session_id
    // The allowed path is what is timed; check it is the one taken.
    const check = await client.call(DecideToolUse, {run_id: launched.run_id, tool_name: 'Read', tool_input: {file_path: '/etc/hosts'}})
    if (check.decision !== 'allow') throw new Error(`expected the default to allow Read, got ${check.decision}`)
    const input = JSON.stringify({
      hook_event_name: 'PreToolUse',
      tool_name: 'Read',
      tool_input: {file_path: '/etc/hosts'},
      tool_use_id: 'toolu_bench',
      cwd: sandbox.root,
    })
    const hook = [HOOK, 'pre-tool-use', '--socket', sandbox.socketPath, '--run-id', launched.run_id, '--reconnect-ms', '1000']
    const env = sandbox.env()
    const once = spawnSync(process.execPath, hook, {env, input})
    if (!String(once.stdout).includes('"permissionDecision":"allow"'))
      throw new Error(`hook did not allow: ${String(once.stdout)}${String(once.stderr)}`)
    const times = medianWallTimes(
      env,
      [
        {name: 'node_e0', argv: BASELINE_ARGV, input},
        {name: 'hook', argv: hook, input},
      ],
      RUNS,
      WARMUPS,
    )
    return {
      hook_node_e0_ms: round(times.node_e0),
      hook_allowed_ms: round(times.hook),
      hook_allowed_ratio: round(times.hook / times.node_e0),
    }
  } finally {
    // The session's claude is not the daemon's child once the sandbox kills the daemon: end it first.
    if (client && sessionId) {
      await waitForStatus(client, sessionId, ['running', 'failed', 'completed'])
        .then(async (session) => {
          if (session.status !== 'running') return
          await client!.call(InterruptSession, {session_id: sessionId!})
          await waitForStatus(client!, sessionId!, 'interrupted')
        })
        .catch((error: Error) => console.warn(`bench policy: could not end the bench session: ${error.message}`))
    }
    client?.close()
    await sandbox.cleanup()
  }
}

function evaluation(): Record<string, number> {
  const specs: RuleSpec[] = []
  for (let i = 0; specs.length < 1000; i++) {
    specs.push(
      {rule: `Bash(tool${i} run *)`, effect: 'allow', source: 'bench'},
      {rule: `Bash(deploy${i} *)`, effect: 'deny', source: 'bench'},
      {rule: `Edit(packages/p${i}/**)`, effect: 'allow', source: 'bench'},
      {rule: `Read(~/secret${i}/**)`, effect: 'deny', source: 'bench'},
      {rule: `mcp__server${i}__*`, effect: 'ask', source: 'bench'},
      {rule: `Bash(/^curl .*evil${i}\\.com/)`, effect: 'deny', source: 'bench'},
      {rule: `WebFetch(domain:site${i}.example.com)`, effect: 'allow', source: 'bench'},
    )
  }
  specs.length = 1000
  const policy = new Policy(
    specs,
    builtInRules({
      socketPath: '/home/u/.humanlayer/daemon.sock',
      databasePath: '/home/u/.humanlayer/daemon.db',
      configDir: '/home/u/.config/humanlayer',
      httpTokenFile: '/home/u/.humanlayer/http-token',
      mcpConfigDirs: '/tmp/hld-mcp-0123456789ab-*',
    }),
  )
  const calls = [
    {tool_name: 'Bash', tool_input: {command: 'tool77 run --fast && npm test | tee log'}},
    {tool_name: 'Bash', tool_input: {command: 'git status'}},
    {tool_name: 'Edit', tool_input: {file_path: '/home/u/app/packages/p99/src/index.ts'}},
    {tool_name: 'Read', tool_input: {file_path: '/home/u/app/README.md'}},
    {tool_name: 'WebFetch', tool_input: {url: 'https://site5.example.com/x'}},
    {tool_name: 'mcp__server3__do', tool_input: {}},
  ].map((call) => ({...call, cwd: '/home/u/app', home: '/home/u'}))
  for (let i = 0; i < 2000; i++) policy.judge(calls[i % calls.length])
  const n = 20_000
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) policy.judge(calls[i % calls.length])
  const us = Number(process.hrtime.bigint() - start) / 1e3 / n
  return {evaluate_1000_rules_us_per_call: round(us)}
}
