/**
 * Ingest of claude's stream-json (issue 15): lines per second through the daemon's own storage
 * path (storeLines, as SessionService calls it for each read: raw rows, conversation rows, the
 * session's update and the conversation_updated events in one transaction), against a bare better-sqlite3
 * writer storing the same rows (one raw row, its conversation rows, their events) with
 * statements prepared once and one transaction per read. Both write a fresh file of the same
 * schema with the same pragmas, in this process, interleaved, and report the median of rounds.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {EventLog} from '../src/daemon/bus/log.js'
import type {Logger} from '../src/shared/logger.js'
import {type RecordingRun, storeLines} from '../src/daemon/sessions/recorder.js'
import {SessionRepository} from '../src/daemon/sessions/repository.js'
import {parseStreamLine} from '../src/daemon/sessions/stream-parser.js'
import {type Store, openStore} from '../src/daemon/store/index.js'
import {median, round} from './lib/measure.js'

const LINES = 20_000
/** Lines per read of claude's output file: what one ingest call gets. */
const PER_READ = 50
const ROUNDS = 9

const quiet: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => quiet,
} as unknown as Logger

/** A session's stdout as claude writes it: text, tool calls and their results, in turn. */
function streamLines(claudeSessionId: string): string[] {
  const lines: string[] = []
  for (let i = 0; lines.length < LINES; i++) {
    const usage = {input_tokens: 10 + i, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 5}
    lines.push(
      JSON.stringify({
        type: 'assistant',
        session_id: claudeSessionId,
        message: {role: 'assistant', content: [{type: 'text', text: `Looking at step ${i} of the plan before I run anything.`}], usage},
      }),
      JSON.stringify({
        type: 'assistant',
        session_id: claudeSessionId,
        message: {
          role: 'assistant',
          content: [{type: 'tool_use', id: `toolu_${i}`, name: 'Bash', input: {command: `ls -la src/${i}`}}],
          usage,
        },
      }),
      JSON.stringify({
        type: 'user',
        session_id: claudeSessionId,
        message: {role: 'user', content: [{type: 'tool_result', tool_use_id: `toolu_${i}`, content: `total ${i}\nfile-a\nfile-b`}]},
      }),
    )
  }
  return lines.slice(0, LINES)
}

function freshStore(dir: string, name: string): Store {
  return openStore(path.join(dir, `${name}.db`))
}

function insertSession(store: Store, id: string): void {
  store.sqlite
    .prepare(
      "INSERT INTO sessions (id, run_id, status, query, summary, working_dir, created_at, last_activity_at) VALUES (?, ?, 'running', 'q', 'q', '/', ?, ?)",
    )
    .run(id, `run-${id}`, Date.now(), Date.now())
}

/** The daemon's path: what SessionService.ingest does with each read, then the bus's flush. */
function hldIngest(store: Store, lines: string[]): number {
  const repo = new SessionRepository(store)
  const bus = new EventLog(store, quiet, {maxCount: 1e9, maxAgeMs: 1e12})
  insertSession(store, 'hld')
  const run: RecordingRun = {id: 'hld', runId: 'run-hld', nextSequence: 1}
  const start = performance.now()
  for (let i = 0; i < lines.length; i += PER_READ) {
    storeLines(bus, repo, run, lines.slice(i, i + PER_READ), quiet, i + PER_READ)
  }
  const ms = performance.now() - start
  bus.close()
  return ms
}

/** The rows a line becomes, computed before the bare writer's clock starts. */
interface BareRows {
  line: string
  conversation: unknown[][]
  events: string[]
}

function bareRows(lines: string[]): BareRows[] {
  let sequence = 1
  return lines.map((line) => {
    const parsed = parseStreamLine(line)!
    const conversation: unknown[][] = []
    const events: string[] = []
    for (const draft of parsed.conversation) {
      const toolInput = draft.event_type === 'tool_call' ? JSON.stringify(draft.tool_input) : null
      conversation.push([
        'bare',
        parsed.claudeSessionId ?? null,
        sequence++,
        draft.event_type,
        draft.role ?? null,
        draft.content ?? null,
        draft.tool_id ?? null,
        draft.tool_name ?? null,
        toolInput,
        draft.tool_result_for_id ?? null,
        draft.tool_result_content ?? null,
      ])
      events.push(
        JSON.stringify({
          session_id: 'bare',
          run_id: 'run-bare',
          event_type: draft.event_type,
          content: draft.content,
          tool_input: draft.tool_input,
        }),
      )
    }
    return {line, conversation, events}
  })
}

/** The same rows, parsed beforehand and written as directly as better-sqlite3 allows: a stricter baseline than the daemon's own work. */
function bareIngest(store: Store, lines: string[]): number {
  const {sqlite} = store
  insertSession(store, 'bare')
  const rows = bareRows(lines)
  const raw = sqlite.prepare('INSERT INTO raw_events (session_id, event_json, created_at) VALUES (?, ?, ?)')
  const conversation = sqlite.prepare(
    `INSERT INTO conversation_events (session_id, claude_session_id, sequence, event_type, role, content, tool_id, tool_name,
       tool_input_json, tool_result_for_id, tool_result_content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const event = sqlite.prepare('INSERT INTO events (type, timestamp, session_id, run_id, data) VALUES (?, ?, ?, ?, ?)')
  const session = sqlite.prepare('UPDATE sessions SET last_activity_at = ?, output_offset = ? WHERE id = ?')
  const batch = sqlite.transaction((slice: BareRows[], offset: number) => {
    const now = Date.now()
    const timestamp = new Date(now).toISOString()
    for (const row of slice) {
      raw.run('bare', row.line, now)
      for (const values of row.conversation) conversation.run(...values, now)
      for (const data of row.events) event.run('conversation_updated', timestamp, 'bare', 'run-bare', data)
    }
    session.run(now, offset, 'bare')
  })
  const start = performance.now()
  for (let i = 0; i < rows.length; i += PER_READ) batch(rows.slice(i, i + PER_READ), i + PER_READ)
  return performance.now() - start
}

export async function benchIngest(): Promise<Record<string, number>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hld-bench-ingest-'))
  const lines = streamLines('claude-session-1')
  const samples = {hld: [] as number[], bare: [] as number[]}
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, ingest] of [
        ['hld', hldIngest],
        ['bare', bareIngest],
      ] as const) {
        const store = freshStore(dir, `${name}-${round}`)
        try {
          samples[name].push(ingest(store, lines))
        } finally {
          store.close()
        }
      }
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  const perSecond = (ms: number): number => (LINES / ms) * 1000
  const hld = perSecond(median(samples.hld))
  const bare = perSecond(median(samples.bare))
  await Promise.resolve()
  return {
    ingest_lines_per_s: round(hld, 0),
    ingest_bare_writer_lines_per_s: round(bare, 0),
    ingest_ratio: round(hld / bare),
  }
}
