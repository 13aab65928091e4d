/**
 * Structured logs: one JSON object per line, to the daemon's log file (or stderr in the
 * foreground). Synchronous appends, so the last lines before a crash are on disk for
 * `hld daemon start` to quote.
 *
 * Logging must never take the daemon down: a write that fails (a full disk, a removed
 * directory) is counted, `health` shows the count, and the daemon goes on. Each line is
 * capped (fields carry model output, and a 9 MB tool name once made a 135 MB log), and the
 * file is rotated by size: `daemon.log` → `daemon.log.1` → … → `daemon.log.<maxFiles>`.
 */
import {appendFileSync, mkdirSync, renameSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'

import type {LogLevel} from '../config/index.js'

const RANK: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40}

/** A string field longer than this is cut, with a marker saying how much was left out. */
export const MAX_LOG_FIELD_CHARS = 4096
/** A line longer than this (many long fields) is replaced by a short note of what it was. */
export const MAX_LOG_LINE_CHARS = 64 * 1024

export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  child(fields: LogFields): Logger
  /** Writes that failed since start (the line was lost), and the last failure; for `health`. */
  readonly failures: {count: number; last?: string}
}

export type LogSink = {kind: 'file'; path: string; maxBytes?: number; maxFiles?: number} | {kind: 'stderr'} | {kind: 'none'}

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024
const DEFAULT_MAX_FILES = 5

/** One per sink, shared by a logger and its children. */
class LogWriter {
  readonly failures: {count: number; last?: string} = {count: 0}
  private size = 0

  constructor(private readonly sink: LogSink) {
    if (sink.kind !== 'file') return
    try {
      mkdirSync(path.dirname(sink.path), {recursive: true, mode: 0o700})
      this.size = statSync(sink.path).size
    } catch (error) {
      // No file yet (size 0), or a directory we cannot make: the first write says so.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.failed(error)
    }
  }

  write(line: string): void {
    try {
      if (this.sink.kind === 'stderr') process.stderr.write(line)
      else if (this.sink.kind === 'file') this.append(this.sink, line)
    } catch (error) {
      this.failed(error)
    }
  }

  private append(sink: Extract<LogSink, {kind: 'file'}>, line: string): void {
    const bytes = Buffer.byteLength(line)
    if (this.size > 0 && this.size + bytes > (sink.maxBytes ?? DEFAULT_MAX_BYTES)) this.rotate(sink)
    appendFileSync(sink.path, line, {mode: 0o600})
    this.size += bytes
  }

  /** Shifts daemon.log.N-1 → .N, …, daemon.log → .1; the oldest beyond maxFiles is removed. */
  private rotate(sink: Extract<LogSink, {kind: 'file'}>): void {
    const maxFiles = sink.maxFiles ?? DEFAULT_MAX_FILES
    rmSync(`${sink.path}.${maxFiles}`, {force: true})
    for (let n = maxFiles - 1; n >= 1; n--) renameIfExists(`${sink.path}.${n}`, `${sink.path}.${n + 1}`)
    renameIfExists(sink.path, `${sink.path}.1`)
    this.size = 0
  }

  private failed(error: unknown): void {
    this.failures.count++
    this.failures.last = (error as Error).message
  }
}

function renameIfExists(from: string, to: string): void {
  try {
    renameSync(from, to)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

export function createLogger(level: LogLevel, sink: LogSink, base: LogFields = {}): Logger {
  return makeLogger(level, new LogWriter(sink), sink.kind === 'none', base)
}

function makeLogger(level: LogLevel, writer: LogWriter, silent: boolean, base: LogFields): Logger {
  const log = (at: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[at] < RANK[level] || silent) return
    const time = new Date().toISOString()
    let line: string
    try {
      line = JSON.stringify({time, level: at, msg, ...base, ...fields}, cappingReplacer)
    } catch (error) {
      // A field that cannot be serialised (a cycle, a throwing getter) still leaves a trace.
      line = JSON.stringify({time, level: at, msg: capString(msg), unserialisable: (error as Error).message})
    }
    if (line.length > MAX_LOG_LINE_CHARS) {
      line = JSON.stringify({
        time,
        level: at,
        msg: capString(msg),
        truncated: `this line had ${line.length} characters; its fields were left out`,
      })
    }
    writer.write(`${line}\n`)
  }

  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    child: (fields) => makeLogger(level, writer, silent, {...base, ...fields}),
    get failures() {
      return writer.failures
    },
  }
}

function capString(text: string): string {
  if (text.length <= MAX_LOG_FIELD_CHARS) return text
  return `${text.slice(0, MAX_LOG_FIELD_CHARS)}… [${text.length - MAX_LOG_FIELD_CHARS} more characters not logged]`
}

/** Errors serialise as {name, message, stack} instead of `{}`; long strings are cut. */
function cappingReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return capString(value)
  if (value instanceof Error) return {name: value.name, message: capString(value.message), stack: value.stack && capString(value.stack)}
  return value
}
