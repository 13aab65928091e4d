/** Times for people: one form for tables and details, and ages. Unparseable times are shown inert, as sent. */
import {inert} from './inert.js'

/** `2026-05-01 12:34:56` (UTC, as stored). */
export function timestamp(iso: string): string {
  return Number.isNaN(Date.parse(iso)) ? inert(iso) : new Date(iso).toISOString().replace('T', ' ').slice(0, 19)
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
