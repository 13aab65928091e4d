/**
 * What an Edit, MultiEdit or Write request would do to the file on disk, as a unified diff: the
 * reviewer sees the change itself, not the model's description of it. When the diff cannot be
 * computed the note says why (a new file, a file that changed since, a binary or special file).
 */
import {constants} from 'node:fs'
import {open} from 'node:fs/promises'
import path from 'node:path'

import chalk from 'chalk'
import {structuredPatch} from 'diff'

import {inert} from './inert.js'

/** Files larger than this are not read (a request naming /dev/zero or a huge log must not hang `show`). */
const MAX_FILE_BYTES = 4 * 1024 * 1024
/** Beyond this many changed lines the diff gives up rather than spin. */
const MAX_EDIT_LENGTH = 20_000

interface Edit {
  old_string: string
  new_string: string
  replace_all?: boolean
}

export interface FileChange {
  /** The file as resolved (relative paths against the session's working directory). */
  file: string
  /** Notes for the reviewer: a new file, a changed one, why there is no diff. */
  notes: string[]
  /** Lines of the unified diff, coloured on a terminal and inert; empty when there is none. */
  diff: string[]
}

/** The change an Edit, MultiEdit or Write input asks for; undefined for other tools or inputs of another shape. */
export async function fileChange(
  toolName: string | undefined,
  input: unknown,
  workingDir: string | undefined,
): Promise<FileChange | undefined> {
  const fields = (input ?? {}) as Record<string, unknown>
  if (typeof fields.file_path !== 'string' || fields.file_path === '') return undefined
  const edits = editsOf(toolName, fields)
  if (edits === undefined && !(toolName === 'Write' && typeof fields.content === 'string')) return undefined

  if (!path.isAbsolute(fields.file_path) && workingDir === undefined) {
    return {file: fields.file_path, notes: ['A relative path, and the session (its working directory) is unknown: no diff.'], diff: []}
  }
  const file = path.resolve(workingDir ?? '/', fields.file_path)
  const notes: string[] = []
  const disk = await readText(file)
  if (disk.kind === 'unreadable') return {file, notes: [disk.why], diff: []}

  const before = disk.kind === 'missing' ? '' : disk.text
  let after: string
  if (toolName === 'Write') {
    after = fields.content as string
    notes.push(disk.kind === 'missing' ? 'The file does not exist yet: Write creates it.' : 'Write replaces the whole file.')
  } else {
    if (disk.kind === 'missing') {
      return {file, notes: ['The file does not exist: the edit would fail. What it asks to replace:'], diff: stringsDiff(edits!)}
    }
    const applied = applyEdits(before, edits!)
    if (typeof applied !== 'string') {
      return {
        file,
        notes: [`The file has changed since, or never held this: ${applied.why}. What it asks to replace:`],
        diff: stringsDiff(edits!),
      }
    }
    after = applied
  }

  const patch = structuredPatch(file, file, before, after, '', '', {context: 3, maxEditLength: MAX_EDIT_LENGTH})
  if (!patch) return {file, notes: [...notes, 'The change is too large to diff here.'], diff: []}
  if (patch.hunks.length === 0) notes.push('The content would not change.')
  const diff = patch.hunks.length === 0 ? [] : [chalk.bold(`--- ${inert(file)}`), chalk.bold(`+++ ${inert(file)}`)]
  for (const hunk of patch.hunks) {
    // As diff(1) and jsdiff's formatPatch: an empty side starts at the line before.
    const range = (start: number, count: number): string => `${count === 0 ? start - 1 : start},${count}`
    diff.push(chalk.cyan(`@@ -${range(hunk.oldStart, hunk.oldLines)} +${range(hunk.newStart, hunk.newLines)} @@`))
    for (const line of hunk.lines) diff.push(diffLine(line))
  }
  return {file, notes, diff}
}

function editsOf(toolName: string | undefined, fields: Record<string, unknown>): Edit[] | undefined {
  const isEdit = (value: unknown): value is Edit =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Edit).old_string === 'string' &&
    typeof (value as Edit).new_string === 'string'
  if (toolName === 'Edit') return isEdit(fields) ? [fields] : undefined
  if (toolName === 'MultiEdit' && Array.isArray(fields.edits) && fields.edits.length > 0 && fields.edits.every(isEdit)) return fields.edits
  return undefined
}

/** The file after the edits, as Claude Code applies them (in order, each unique unless replace_all), or why not. */
function applyEdits(text: string, edits: Edit[]): string | {why: string} {
  let current = text
  for (const [index, edit] of edits.entries()) {
    const which = edits.length > 1 ? `edit ${index + 1}: ` : ''
    const count = edit.old_string === '' ? 0 : current.split(edit.old_string).length - 1
    if (count === 0) return {why: `${which}old_string is not in the file`}
    if (count > 1 && !edit.replace_all) return {why: `${which}old_string occurs ${count} times and replace_all is not set`}
    current = edit.replace_all
      ? current.split(edit.old_string).join(edit.new_string)
      : replaceFirst(current, edit.old_string, edit.new_string)
  }
  return current
}

function replaceFirst(text: string, search: string, replacement: string): string {
  const at = text.indexOf(search)
  return text.slice(0, at) + replacement + text.slice(at + search.length)
}

/** Without the file: each edit's old lines removed and new lines added. */
function stringsDiff(edits: Edit[]): string[] {
  return edits.flatMap((edit, index) => [
    ...(edits.length > 1 ? [chalk.cyan(`@@ edit ${index + 1}${edit.replace_all ? ' (replace_all)' : ''} @@`)] : []),
    ...edit.old_string.split('\n').map((line) => diffLine(`-${line}`)),
    ...edit.new_string.split('\n').map((line) => diffLine(`+${line}`)),
  ])
}

function diffLine(line: string): string {
  // One diff line holds no newline; its tabs are shown as tabs, everything else unsafe as an escape.
  const text = inert(line, {lines: true})
  if (line.startsWith('+')) return chalk.green(text)
  if (line.startsWith('-')) return chalk.red(text)
  return line.startsWith('\\') ? chalk.dim(text) : text
}

type DiskText = {kind: 'text'; text: string} | {kind: 'missing'} | {kind: 'unreadable'; why: string}

/** A regular text file's content; never blocks on a FIFO or device, never reads more than MAX_FILE_BYTES. */
async function readText(file: string): Promise<DiskText> {
  let handle
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return {kind: 'missing'}
    return {kind: 'unreadable', why: `The file cannot be read here (${code ?? (error as Error).message}), so there is no diff.`}
  }
  try {
    const stat = await handle.stat()
    if (!stat.isFile()) return {kind: 'unreadable', why: 'The path is not a regular file, so there is no diff.'}
    if (stat.size > MAX_FILE_BYTES) return {kind: 'unreadable', why: `The file is ${stat.size} bytes, too large to diff here.`}
    const buffer = await handle.readFile()
    if (buffer.includes(0)) return {kind: 'unreadable', why: 'The file is binary, so there is no diff.'}
    return {kind: 'text', text: buffer.toString('utf8')}
  } finally {
    await handle.close()
  }
}
