/**
 * Structured logs: one JSON object per line, to the daemon's log file (or stderr in the
 * foreground). Synchronous appends, so the last lines before a crash are on disk for
 * `hld daemon start` to quote.
 */
import {appendFileSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import type {LogLevel} from '../config/index.js'

const RANK: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40}

export type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
  child(fields: LogFields): Logger
}

export type LogSink = {kind: 'file'; path: string} | {kind: 'stderr'} | {kind: 'none'}

export function createLogger(level: LogLevel, sink: LogSink, base: LogFields = {}): Logger {
  if (sink.kind === 'file') mkdirSync(path.dirname(sink.path), {recursive: true, mode: 0o700})
  const write = (line: string): void => {
    if (sink.kind === 'file') appendFileSync(sink.path, line, {mode: 0o600})
    else if (sink.kind === 'stderr') process.stderr.write(line)
  }

  const log = (at: LogLevel, msg: string, fields?: LogFields): void => {
    if (RANK[at] < RANK[level] || sink.kind === 'none') return
    const record = {time: new Date().toISOString(), level: at, msg, ...base, ...fields}
    write(`${JSON.stringify(record, errorReplacer)}\n`)
  }

  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
    child: (fields) => createLogger(level, sink, {...base, ...fields}),
  }
}

/** Errors serialise as {name, message, stack} instead of `{}`. */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return {name: value.name, message: value.message, stack: value.stack}
  return value
}
