/**
 * Launches (issue 15): sessions per second when claude is a trivial child (a script that prints
 * one result line and exits), from the first launchSession until every session has completed,
 * against a bare Node parent that spawns the same child as many times the same way (detached,
 * output to a file) and waits for every exit. The bare parent runs with the daemon's environment.
 * Launches never queue (max_concurrent_sessions). Two ways, each round beside a bare round:
 *   - sequential (the target): each launchSession waits for its reply before the next is sent, so
 *     every launch also pays a round trip the bare parent does not;
 *   - pipelined: all requests written at once on the connection (replies come in order), as a
 *     client launching a batch would: the daemon's own launch rate.
 */
import {spawnSync} from 'node:child_process'
import {chmodSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {RawConnection} from '../test/helpers/raw-socket.js'
import {Sandbox, waitFor} from '../test/helpers/sandbox.js'
import {queryDb} from '../test/helpers/sessions.js'
import {median, round} from './lib/measure.js'

const LAUNCHES = 60
const ROUNDS = 5

const RESULT = JSON.stringify({
  type: 'result',
  subtype: 'success',
  is_error: false,
  result: 'ok',
  session_id: 'bench',
  duration_ms: 1,
  num_turns: 1,
})

/** The bare parent: spawns the child `count` times, one after the other, then waits for every exit; prints the ms. */
const BARE_PARENT = `
const {spawn} = require('node:child_process')
const {openSync, closeSync} = require('node:fs')
const [child, count, out] = process.argv.slice(1)
const start = performance.now()
const exits = []
for (let i = 0; i < Number(count); i++) {
  const fd = openSync(out + i, 'a', 0o600)
  const proc = spawn(child, ['--print', '--', 'q' + i], {detached: true, stdio: ['ignore', fd, fd]})
  closeSync(fd)
  exits.push(new Promise((resolve) => proc.once('exit', resolve)))
}
Promise.all(exits).then(() => console.log(performance.now() - start))
`

function completed(databasePath: string): number {
  return queryDb<{n: number}>(databasePath, "SELECT count(*) AS n FROM sessions WHERE status = 'completed'")[0].n
}

export async function benchLaunch(): Promise<Record<string, number>> {
  const sandbox = new Sandbox()
  const child = path.join(sandbox.root, 'trivial-claude')
  writeFileSync(child, `#!/bin/sh\necho '${RESULT}'\n`)
  chmodSync(child, 0o755)
  const env = {HUMANLAYER_CLAUDE_PATH: child, HUMANLAYER_MAX_CONCURRENT_SESSIONS: String(LAUNCHES * ROUNDS + 10)}
  const samples = {hld: [] as number[], pipelined: [] as number[], bare: [] as number[]}
  try {
    await sandbox.startDaemon(env)
    const connection = await RawConnection.open(sandbox.socketPath)
    try {
      const launch = (round: string, i: number) => ({
        jsonrpc: '2.0',
        method: 'launchSession',
        params: {query: `launch ${round}.${i}`, working_dir: sandbox.root},
        id: i,
      })
      const checked = (reply: {error?: unknown}) => {
        if (reply.error) throw new Error(`launchSession failed: ${JSON.stringify(reply.error)}`)
      }
      const untilCompleted = (before: number) =>
        waitFor(() => completed(sandbox.databasePath) === before + LAUNCHES, 120_000, 'the launched sessions to complete')
      for (let round = 0; round < ROUNDS; round++) {
        let before = completed(sandbox.databasePath)
        let start = performance.now()
        for (let i = 0; i < LAUNCHES; i++) checked(await connection.request<{error?: unknown}>(launch(`${round}`, i), 60_000))
        await untilCompleted(before)
        samples.hld.push(performance.now() - start)

        before = completed(sandbox.databasePath)
        start = performance.now()
        connection.write(Array.from({length: LAUNCHES}, (_, i) => `${JSON.stringify(launch(`p${round}`, i))}\n`).join(''))
        for (let i = 0; i < LAUNCHES; i++) checked(await connection.next<{error?: unknown}>(60_000))
        await untilCompleted(before)
        samples.pipelined.push(performance.now() - start)

        const bare = spawnSync(process.execPath, ['-e', BARE_PARENT, child, String(LAUNCHES), path.join(sandbox.root, `bare-${round}-`)], {
          env: sandbox.env(env),
          encoding: 'utf8',
        })
        if (bare.status !== 0) throw new Error(`the bare parent failed: ${bare.stderr}`)
        samples.bare.push(Number(bare.stdout.trim()))
      }
    } finally {
      connection.close()
    }
  } finally {
    await sandbox.cleanup()
  }
  const perSecond = (ms: number): number => (LAUNCHES / ms) * 1000
  const hld = perSecond(median(samples.hld))
  const pipelined = perSecond(median(samples.pipelined))
  const bare = perSecond(median(samples.bare))
  return {
    launches_per_s: round(hld, 1),
    launch_bare_parent_per_s: round(bare, 1),
    launch_ratio: round(hld / bare),
    launches_pipelined_per_s: round(pipelined, 1),
    launch_pipelined_ratio: round(pipelined / bare),
  }
}
