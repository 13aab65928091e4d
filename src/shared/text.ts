/**
 * Counting and cutting text by characters (code points) without splitting it into an array: a tool
 * input can be megabytes, and the CLI and the daemon both show only its two ends.
 */

const isHigh = (code: number): boolean => code >= 0xd800 && code <= 0xdbff
const isLow = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff

/** How many characters `text` has: code points, a lone surrogate counting as one. */
export function codePoints(text: string): number {
  let count = 0
  for (let i = 0; i < text.length; i++, count++) {
    if (isHigh(text.charCodeAt(i)) && isLow(text.charCodeAt(i + 1))) i++
  }
  return count
}

/** At most the first `units` UTF-16 units of `text`, not ending inside a surrogate pair. */
export function headOf(text: string, units: number): string {
  if (text.length <= units) return text
  return text.slice(0, isHigh(text.charCodeAt(units - 1)) ? units - 1 : units)
}

/** At most the last `units` UTF-16 units of `text`, not starting inside a surrogate pair. */
export function tailOf(text: string, units: number): string {
  if (text.length <= units) return text
  const start = text.length - units
  return text.slice(isLow(text.charCodeAt(start)) ? start + 1 : start)
}
