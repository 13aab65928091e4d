/**
 * The daemon's JSON log as lines a person reads: local time, level, component, message, then
 * the other fields as key=value. A line that is not a log record (a crash's stack written by
 * Node itself) is shown as it is.
 */
import {closeSync, openSync, readSync, statSync, unwatchFile, watchFile} from 'node:fs'

/** `14:03:07.123` today, `2026-05-01 14:03:07.123` on another day; local time. */
export function localTime(iso: string, now = new Date()): string {
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) return iso
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}.${pad(at.getMilliseconds(), 3)}`
  const sameDay = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate()
  return sameDay ? time : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`
}

export function readableLogLine(line: string, now = new Date()): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(line) as Record<string, unknown>
  } catch {
    return visible(line)
  }
  if (typeof record !== 'object' || record === null || typeof record.msg !== 'string') return visible(line)
  const {time, level, msg, component, ...rest} = record
  const text = (value: unknown): string => (typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value))
  const fields = Object.entries(rest).map(([key, value]) => `${key}=${text(value)}`)
  const head = [typeof time === 'string' ? localTime(time, now) : '-', text(level ?? '').padEnd(5), component ? `[${text(component)}]` : undefined]
  return visible([...head.filter((part) => part !== undefined), msg, ...fields].join(' '))
}

/** Control characters (a model's text may reach the log) shown as escapes, never sent to the terminal. */
function visible(text: string): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return text.replaceAll(/[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
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
    signal.addEventListener('abort', () => {
      unwatchFile(file, readNew)
      resolve()
    }, {once: true})
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
