/** Durations as people write them: `500ms`, `30s`, `10m`, `2h`, `1d`, or a bare number of milliseconds. */
const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text)
  if (!match) return undefined
  const ms = Math.round(Number(match[1]) * UNITS[match[2] ?? 'ms'])
  return Number.isSafeInteger(ms) ? ms : undefined
}

/** A point in time from `--since`: an ISO date, or a duration ago (`1h` = an hour ago). */
export function parseSince(text: string, now = Date.now()): number | undefined {
  const ago = parseDuration(text)
  if (ago !== undefined && /[a-z]\s*$/.test(text)) return now - ago
  if (!/^\d{4}-\d{2}-\d{2}/.test(text.trim())) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : at
}

export function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}
