/**
 * The daemon's JSON log as lines a person reads: local time, level, component, message, then
 * the other fields as key=value, inert (a model's text may reach the log). A line that is not a
 * log record (a crash's stack written by Node itself) is shown as it is, inert too.
 */
import {closeSync, openSync, readSync, statSync, unwatchFile, watchFile} from 'node:fs'

import {inert} from './render/inert.js'
import {timestamp} from './render/time.js'

export function readableLogLine(line: string, now = new Date()): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(line) as Record<string, unknown>
  } catch {
    return inert(line)
  }
  if (typeof record !== 'object' || record === null || typeof record.msg !== 'string') return inert(line)
  const {time, level, msg, component, ...rest} = record
  const text = (value: unknown): string => (typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value))
  const fields = Object.entries(rest).map(([key, value]) => `${key}=${text(value)}`)
  const head = [
    typeof time === 'string' ? timestamp(time, {ms: true, now}) : '-',
    text(level ?? '').padEnd(5),
    component ? `[${text(component)}]` : undefined,
  ]
  return inert([...head.filter((part) => part !== undefined), msg, ...fields].join(' '))
}

/**
 * Calls `onLine` for each complete line appended to `file` from now on, until the signal aborts.
 * Starts over from the top when the file shrinks (rotated or truncated).
 */
export function followLog(file: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  let position = sizeOf(file)
  let partial = ''
  const readNew = (): void => {
    const size = sizeOf(file)
    if (size < position) position = 0
    if (size === position) return
    const fd = openSync(file, 'r')
    try {
      const chunk = Buffer.alloc(size - position)
      readSync(fd, chunk, 0, chunk.length, position)
      position = size
      const lines = (partial + chunk.toString('utf8')).split('\n')
      partial = lines.pop()!
      for (const line of lines) if (line !== '') onLine(line)
    } finally {
      closeSync(fd)
    }
  }
  return new Promise((resolve) => {
    watchFile(file, {interval: FOLLOW_INTERVAL_MS}, readNew)
    signal.addEventListener(
      'abort',
      () => {
        unwatchFile(file, readNew)
        resolve()
      },
      {once: true},
    )
  })
}

const FOLLOW_INTERVAL_MS = 250

function sizeOf(file: string): number {
  try {
    return statSync(file).size
  } catch {
    return 0
  }
}
