import {mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {MAX_LOG_FIELD_CHARS, MAX_LOG_LINE_CHARS, createLogger} from '../../../src/shared/logger.js'

describe('daemon logger', () => {
  let dir: string
  let file: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hld-log-'))
    file = path.join(dir, 'daemon.log')
  })

  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const lines = (name = file): Record<string, unknown>[] =>
    readFileSync(name, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)

  it('cuts a 9 MB field to a few KiB, saying how much it left out', () => {
    const log = createLogger('info', {kind: 'file', path: file})
    log.warn('no tool call found for approval', {tool_name: 'x'.repeat(9 * 1024 * 1024), session_id: 's1'})
    expect(statSync(file).size).to.be.below(MAX_LOG_FIELD_CHARS + 1024)
    const [record] = lines()
    expect(record.session_id).to.equal('s1')
    expect(record.tool_name).to.match(
      new RegExp(`^x{${MAX_LOG_FIELD_CHARS}}… \\[${9 * 1024 * 1024 - MAX_LOG_FIELD_CHARS} more characters not logged\\]$`),
    )
  })

  it('replaces a line of many long fields by a note, and caps error messages', () => {
    const log = createLogger('info', {kind: 'file', path: file})
    const fields = Object.fromEntries(Array.from({length: 100}, (_, i) => [`f${i}`, 'y'.repeat(10_000)]))
    log.error('many fields', fields)
    log.error('failed', {error: new Error('z'.repeat(100_000))})
    const [many, failed] = lines()
    expect(many).to.include({msg: 'many fields'})
    expect(many.truncated).to.match(/its fields were left out/)
    expect(JSON.stringify(many).length).to.be.below(MAX_LOG_LINE_CHARS)
    expect((failed.error as {message: string}).message).to.have.length.below(MAX_LOG_FIELD_CHARS + 100)
  })

  it('rotates by size and keeps log_max_files old files', () => {
    const log = createLogger('info', {kind: 'file', path: file, maxBytes: 10_000, maxFiles: 3})
    for (let i = 0; i < 1000; i++) log.info('line', {i, pad: 'p'.repeat(100)})
    expect(readdirSync(dir).sort()).to.deep.equal(['daemon.log', 'daemon.log.1', 'daemon.log.2', 'daemon.log.3'])
    for (const name of readdirSync(dir)) expect(statSync(path.join(dir, name)).size).to.be.at.most(10_000)
    // Nothing lost within what is kept: the newest lines, in order, across the files.
    const kept = ['daemon.log.3', 'daemon.log.2', 'daemon.log.1', 'daemon.log'].flatMap((name) =>
      lines(path.join(dir, name)).map((r) => r.i as number),
    )
    expect(kept.at(-1)).to.equal(999)
    expect(kept).to.deep.equal(kept.map((_, k) => kept[0] + k))
  })

  it('counts a write that fails (a full disk) and carries on, instead of throwing', () => {
    const log = createLogger('info', {kind: 'file', path: '/dev/full'})
    expect(() => log.error('uncaught exception; exiting', {error: new Error('boom')})).not.to.throw()
    log.child({component: 'x'}).info('again')
    expect(log.failures.count).to.equal(2)
    expect(log.failures.last).to.match(/ENOSPC/)
  })
})
