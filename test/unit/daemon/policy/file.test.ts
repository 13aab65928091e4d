import {mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {PolicyFile} from '../../../../src/daemon/policy/file.js'

describe('PolicyFile', () => {
  let dir: string
  let file: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hld-policy-'))
    file = path.join(dir, 'policy.json')
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('gives the same document while the file is unchanged, or missing (what is compiled from it is kept), and reads it again when it changes', () => {
    const policy = new PolicyFile(file)
    const missing = policy.load()
    expect(missing.rules).to.deep.equal([])
    expect(policy.load(), 'a missing file: one empty document').to.equal(missing)

    writeFileSync(file, JSON.stringify({deny: ['Bash(rm:*)']}))
    const first = policy.load()
    expect(first.rules.map((rule) => rule.rule)).to.deep.equal(['Bash(rm:*)'])
    expect(policy.load(), 'unchanged: not read again').to.equal(first)

    writeFileSync(file, JSON.stringify({deny: ['Bash(rm:*)', 'Bash(curl:*)']}))
    utimesSync(file, new Date(), new Date(Date.now() + 5000))
    expect(policy.load().rules.map((rule) => rule.rule)).to.deep.equal(['Bash(rm:*)', 'Bash(curl:*)'])

    unlinkSync(file)
    expect(policy.load()).to.equal(missing)
  })
})
