/**
 * Untrusted text made inert for a terminal. Tool inputs, titles, messages, error texts and claude's
 * stderr come from a model; printed raw, an ESC sequence can move the cursor and erase what a
 * reviewer should see, retitle the terminal or plant a link, a bidi override can reverse it, and a
 * zero-width character can hide in it. Every such character is shown as a visible escape (`\x1b`,
 * `\u202e`), dim when colour is on, so what is shown is exactly what was sent.
 *
 * The rest of `src/cli/render` and every command print untrusted text only through this module.
 */
import chalk from 'chalk'

/**
 * Characters that are never printed as themselves: C0 and C1 controls and DEL (Cc; ESC starts every
 * CSI, OSC and DCS sequence, and 0x9b is a CSI of its own), format characters (Cf: bidi embeddings,
 * overrides and isolates, zero-width spaces and joiners, the BOM, soft hyphen, tag characters), line
 * and paragraph separators, lone surrogates, and the Hangul fillers that render as nothing.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\u115F\u1160\u3164\uFFA0]/u
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu')
const SHORT_ESCAPES: Record<string, string> = {'\n': '\\n', '\t': '\\t', '\r': '\\r'}

/** Whether a terminal would act on, hide or reorder some character of `text`. */
export function hasUnsafe(text: string): boolean {
  return UNSAFE.test(text)
}

/** The visible escape of one character: `\n`, `\x1b`, `\u202e`, `\u{e0041}`. */
export function escapeChar(char: string): string {
  const short = SHORT_ESCAPES[char]
  if (short) return short
  const code = char.codePointAt(0)!
  const hex = code.toString(16)
  if (code < 0x100) return `\\x${hex.padStart(2, '0')}`
  return code <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\u{${hex}}`
}

/** A run of text as printed: either the text itself, or the escape standing for one character. */
export interface Piece {
  text: string
  escaped: boolean
}

export interface InertOptions {
  /** Keep newlines and tabs as they are (multi-line blocks); otherwise they show as `\n` and `\t`. */
  lines?: boolean
}

/** `value` as printable pieces; non-strings are shown as their JSON text (undefined and null as words). */
export function pieces(value: unknown, options: InertOptions = {}): Piece[] {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined')
  const out: Piece[] = []
  let last = 0
  for (const match of text.matchAll(UNSAFE_ALL)) {
    const char = match[0]
    if (options.lines && (char === '\n' || char === '\t')) continue
    if (match.index > last) out.push({text: text.slice(last, match.index), escaped: false})
    out.push({text: escapeChar(char), escaped: true})
    last = match.index + char.length
  }
  if (last < text.length) out.push({text: text.slice(last), escaped: false})
  return out
}

/** Escapes dim on a terminal (chalk decides colour: FORCE_COLOR, NO_COLOR, a TTY). */
export function paintPieces(list: Piece[]): string {
  return list.map((piece) => (piece.escaped ? chalk.dim(piece.text) : piece.text)).join('')
}

/** Untrusted text, safe to print: one line unless `lines` is set. */
export function inert(value: unknown, options: InertOptions = {}): string {
  return paintPieces(pieces(value, options))
}

/**
 * JSON text of `value`, exact (it parses back to the same value) and inert on a terminal:
 * JSON.stringify already escapes C0 controls; the characters it leaves raw (DEL, C1, bidi and
 * zero-width ones, separators) become `\uXXXX` escapes too.
 */
export function jsonText(value: unknown, indent?: number): string {
  // Raw newlines only ever lie between tokens (indentation); inside strings JSON.stringify escaped them.
  return (JSON.stringify(value, undefined, indent) ?? 'null').replaceAll(UNSAFE_ALL, (char) =>
    char === '\n' ? char : Array.from({length: char.length}, (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''),
  )
}
