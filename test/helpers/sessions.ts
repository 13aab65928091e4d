/** Helpers for session tests: the fake claude, waiting on a session, reading what claude was given. */
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import Database from 'better-sqlite3'

import type {DaemonClient} from '../../src/client/index.js'
import {GetSessionState, type Session, type SessionStatus} from '../../src/protocol/sessions.js'
import {REPO_ROOT, waitFor} from './sandbox.js'

export const FAKE_CLAUDE = path.join(REPO_ROOT, 'test', 'fixtures', 'fake-claude.mjs')

/** Polls getSessionState until the session has one of `statuses`; returns it. */
export async function waitForStatus(
  client: DaemonClient,
  sessionId: string,
  statuses: SessionStatus | SessionStatus[],
  timeoutMs = 15_000,
): Promise<Session> {
  const wanted = Array.isArray(statuses) ? statuses : [statuses]
  let session: Session | undefined
  await waitFor(
    async () => {
      session = (await client.call(GetSessionState, {session_id: sessionId})).session
      return wanted.includes(session.status)
    },
    timeoutMs,
    `session ${sessionId} to become ${wanted.join(' or ')} (last: ${session?.status} ${session?.error_message ?? ''})`,
  )
  return session!
}

/** What fake-claude recorded about one run (FAKE_CLAUDE_RECORD_DIR). */
export interface ClaudeRun {
  pid: number
  argv: string[]
  cwd: string
  env: Record<string, string>
  mcpConfig: {mcpServers: Record<string, {command: string; args?: string[]; env?: Record<string, string>}>} | null
  umask: number
}

export function recordedRuns(dir: string): ClaudeRun[] {
  let files: string[]
  try {
    files = readdirSync(dir)
  } catch {
    return []
  }
  const runs: ClaudeRun[] = []
  for (const file of files.filter((f) => f.endsWith('.json'))) {
    try {
      runs.push({
        pid: Number(file.replace('.json', '')),
        ...(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Omit<ClaudeRun, 'pid'>),
      })
    } catch {
      // Still being written; the next poll reads it whole.
    }
  }
  return runs
}

/** The recorded run whose query (the last argument) contains `marker`. */
export async function recordedRun(dir: string, marker: string): Promise<ClaudeRun> {
  let found: ClaudeRun | undefined
  await waitFor(
    () => (found = recordedRuns(dir).find((run) => run.argv.at(-1)!.includes(marker))) !== undefined,
    10_000,
    `a claude run for ${marker}`,
  )
  return found!
}

/** A read-only look at the daemon's database (WAL lets it read while the daemon writes). */
export function queryDb<T>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, {readonly: true})
  try {
    return db.prepare(sql).all(...params) as T[]
  } finally {
    db.close()
  }
}
