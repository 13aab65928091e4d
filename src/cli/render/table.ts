/**
 * One-line cells and aligned tables of untrusted text. A cell that is too long keeps its head and its
 * tail around a marker that says how much was left out, so a payload at the end of a long command
 * stays in sight and a cut never passes for the whole.
 */
import {createRequire} from 'node:module'

import chalk from 'chalk'

import {type Piece, paintPieces, pieces} from './inert.js'

let fullStringWidth: ((text: string) => number) | undefined
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/

/**
 * The columns a text takes on a terminal. Printable ASCII (nearly every cell) is as wide as it is
 * long; string-width measures the rest. It is loaded the first time it is needed (a require of an
 * ES module, Node >= 20.19), because building its Unicode tables at import costs ~50 ms of CPU,
 * twice what starting node does, on every command that prints a table.
 */
function stringWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length
  fullStringWidth ??= (createRequire(import.meta.url)('string-width') as {default: (text: string) => number}).default
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
  const list = pieces(value)
  const units = list.flatMap(unitsOf)
  const width = units.reduce((sum, unit) => sum + unit.width, 0)
  if (width <= max) return {text: paintPieces(list), width, cut: false}

  const total = units.reduce((sum, unit) => sum + unit.chars, 0)
  const budget = Math.max(2, max - cutMarker(total).length)
  const head = take(units, Math.ceil(budget / 2))
  const tail = take(units.slice(head.length).reverse(), budget - widthOf(head)).reverse()
  const kept = [...head, ...tail].reduce((sum, unit) => sum + unit.chars, 0)
  const marker = cutMarker(total - kept)
  const text = paintPieces(head.map((u) => u.piece)) + chalk.inverse(marker) + paintPieces(tail.map((u) => u.piece))
  return {text, width: widthOf(head) + marker.length + widthOf(tail), cut: true}
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

/** A text's graphemes: each printable ASCII character is one; a segmenter (its Unicode data costs ms to load) splits the rest. */
function graphemesOf(text: string): string[] {
  if (PRINTABLE_ASCII.test(text)) return [...text]
  graphemes ??= new Intl.Segmenter(undefined, {granularity: 'grapheme'})
  return [...graphemes.segment(text)].map(({segment}) => segment)
}

function unitsOf(piece: Piece): Unit[] {
  if (piece.escaped) return [{piece, width: piece.text.length, chars: 1}]
  return graphemesOf(piece.text).map((segment) => ({
    piece: {text: segment, escaped: false},
    width: stringWidth(segment),
    chars: [...segment].length,
  }))
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
