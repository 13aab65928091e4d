/**
 * One-line cells and aligned tables of untrusted text. A cell that is too long keeps its head and its
 * tail around a marker that says how much was left out, so a payload at the end of a long command
 * stays in sight and a cut never passes for the whole.
 */
import {createRequire} from 'node:module'

import chalk from 'chalk'

import {codePoints, headOf, tailOf} from '../../shared/text.js'
import {type Piece, paintPieces, pieces} from './inert.js'

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/
let fullStringWidth: ((text: string) => number) | undefined

/**
 * The columns a text takes on a terminal. Printable ASCII (nearly every cell) is as wide as it is
 * long; string-width measures the rest. It is loaded the first time it is needed (a require of an
 * ES module, Node >= 20.19), because building its Unicode tables at import costs ~50 ms of CPU,
 * twice what starting node does, on every command that prints a table.
 */
function stringWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length
  fullStringWidth ??= (createRequire(import.meta.filename)('string-width') as {default: (text: string) => number}).default
  return fullStringWidth(text)
}

export interface Cell {
  /** What to print (may carry colour codes). */
  text: string
  /** Its width in terminal columns. */
  width: number
  /** Whether part of the text was left out. */
  cut: boolean
}

/** What stands in a cut cell for the characters left out; the lists' footers explain it. */
export const cutMarker = (count: number): string => `…[+${count}]…`

/** A cell of text that is already safe (our own, or made inert): printed as given. */
export function plain(text: string): Cell {
  return {text, width: stringWidth(text), cut: false}
}

/** Untrusted text on one line (newlines and tabs shown as `\n`, `\t`), at most `max` columns wide. */
export function cell(value: unknown, max = Number.POSITIVE_INFINITY): Cell {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined')
  // Only `max` columns of it can show: a long text is cut to its two ends before it is split into
  // graphemes (all of a multi-MB tool input ran the CLI out of memory).
  if (text.length > 2 * endUnits(max)) return cellOfEnds(text, text, codePoints(text), max)

  const list = pieces(text)
  const units = unitsOf(list)
  const width = widthOf(units)
  if (width <= max) return {text: paintPieces(list), width, cut: false}
  return cutCell(units, units, charsOf(units), max)
}

/**
 * A cut cell of a text known by its two ends: the start of `head`, the end of `tail`, and how many
 * characters (code points) the whole has, so that the marker counts exactly what is not shown.
 * The ends must not overlap within `max` columns of each other.
 */
export function cellOfEnds(head: string, tail: string, total: number, max: number): Cell {
  const units = endUnits(max)
  return cutCell(unitsOf(pieces(headOf(head, units))), unitsOf(pieces(tailOf(tail, units))), total, max)
}

/** UTF-16 units kept of each end of a text cut to `max` columns: every column shown takes at least one, so more than it can need. */
function endUnits(max: number): number {
  return 4 * max + 64
}

/**
 * A cut cell: as much of the start of `head` and the end of `tail` as fits around the marker, which
 * counts the characters of the whole text (`total`) not shown. `head` and `tail` are the same
 * units, or the two ends of a text longer than both together.
 */
function cutCell(head: Unit[], tail: Unit[], total: number, max: number): Cell {
  const budget = Math.max(2, max - cutMarker(total).length)
  const first = take(head, Math.ceil(budget / 2))
  const last = take((head === tail ? tail.slice(first.length) : tail).reverse(), budget - widthOf(first)).reverse()
  const marker = cutMarker(total - charsOf(first) - charsOf(last))
  const text = paintPieces(first.map((u) => u.piece)) + chalk.inverse(marker) + paintPieces(last.map((u) => u.piece))
  return {text, width: widthOf(first) + marker.length + widthOf(last), cut: true}
}

/**
 * Rows of cells as aligned columns; the last column is not padded. Strings are untrusted text
 * (made inert, never cut); cells come from `cell()` or `plain()`.
 */
export function table(header: string[], rows: Array<Array<Cell | string>>): string {
  const cells = rows.map((row) => row.map((value) => (typeof value === 'string' ? cell(value) : value)))
  const widths = header.map((h, i) => Math.max(stringWidth(h), ...cells.map((row) => row[i].width)))
  const line = (row: Cell[]): string => row.map((c, i) => (i === row.length - 1 ? c.text : padEnd(c, widths[i]))).join('  ')
  return [line(header.map(plain)), ...cells.map(line)].join('\n')
}

/** A cell's text padded with spaces to `width` columns. */
export function padEnd(c: Cell, width: number): string {
  return c.text + ' '.repeat(Math.max(0, width - c.width))
}

/** Whether any cell of these rows was cut. */
export function anyCut(rows: Array<Array<Cell | string>>): boolean {
  return rows.some((row) => row.some((value) => typeof value !== 'string' && value.cut))
}

/** The footer under cut text: what the marker means, and `how` to see the whole. */
export function cutNote(how: string): string {
  return `${chalk.inverse(cutMarker(0).replace('0', 'N'))} marks N characters left out; ${how}.`
}

/** A printable unit: an escape (never split) or one grapheme of text. */
interface Unit {
  piece: Piece
  width: number
  /** Characters of the original text it stands for. */
  chars: number
}

let graphemes: Intl.Segmenter | undefined
/** UTF-16 units segmented at once; see graphemesOf. */
const SEGMENT_CHUNK = 256

function unitsOf(list: Piece[]): Unit[] {
  return list.flatMap((piece) => {
    if (piece.escaped) return [{piece, width: piece.text.length, chars: 1}]
    return graphemesOf(piece.text).map((segment) => ({
      piece: {text: segment, escaped: false},
      width: stringWidth(segment),
      chars: [...segment].length,
    }))
  })
}

/**
 * The graphemes of `text`, segmented a chunk at a time: V8 gives every segment it yields its own
 * copy of the whole input, so segmenting a long text at once costs its length squared (a 64 KiB
 * tool input took a 4 GB heap). A chunk's last grapheme may go on in the next chunk, so it is
 * segmented again with it.
 */
function graphemesOf(text: string): string[] {
  // Each printable ASCII character is a grapheme of its own; the segmenter, whose Unicode data
  // costs milliseconds to load, is made the first time other text comes.
  if (PRINTABLE_ASCII.test(text)) return [...text]
  graphemes ??= new Intl.Segmenter(undefined, {granularity: 'grapheme'})
  const out: string[] = []
  for (let start = 0; start < text.length;) {
    const end = start + SEGMENT_CHUNK
    const segments = Array.from(graphemes.segment(text.slice(start, end)), ({segment}) => segment)
    if (end < text.length && segments.length > 1) segments.pop()
    for (const segment of segments) {
      out.push(segment)
      start += segment.length
    }
  }
  return out
}

function take(units: Unit[], budget: number): Unit[] {
  const out: Unit[] = []
  let width = 0
  for (const unit of units) {
    if (width + unit.width > budget) break
    out.push(unit)
    width += unit.width
  }
  return out
}

function widthOf(units: Unit[]): number {
  return units.reduce((sum, unit) => sum + unit.width, 0)
}

function charsOf(units: Unit[]): number {
  return units.reduce((sum, unit) => sum + unit.chars, 0)
}
