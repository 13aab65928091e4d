/** Times for people: one form for tables and details, and ages. Unparseable times are shown inert, as sent. */
import {inert} from './inert.js'

/**
 * The one time format of human output: local time, `14:03:07` today and `2026-05-01 14:03:07` on
 * another day; `ms` adds `.123` (watch, logs). --json keeps the stored UTC ISO string.
 */
export function timestamp(iso: string, options: {ms?: boolean; now?: Date} = {}): string {
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) return inert(iso)
  const now = options.now ?? new Date()
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}${options.ms ? `.${pad(at.getMilliseconds(), 3)}` : ''}`
  const today = at.getFullYear() === now.getFullYear() && at.getMonth() === now.getMonth() && at.getDate() === now.getDate()
  return today ? time : `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${time}`
}

/** How long ago: `42s`, `5m`, `3h`, `2d`. */
export function age(iso: string, now = Date.now()): string {
  const at = Date.parse(iso)
  if (Number.isNaN(at)) return inert(iso)
  const seconds = Math.max(0, Math.round((now - at) / 1000))
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86_400)}d`
}
