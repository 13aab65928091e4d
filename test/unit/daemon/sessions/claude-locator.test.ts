import {chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {locateClaude} from '../../../../src/daemon/sessions/claude-locator.js'

describe('locateClaude', () => {
  let dir: string
  let onPath: string
  let configured: string

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hld-locate-'))
    for (const sub of ['bin', 'other']) {
      const file = path.join(dir, sub, 'claude')
      mkdirSync(path.dirname(file))
      writeFileSync(file, '#!/bin/sh\n')
      chmodSync(file, 0o755)
    }
    onPath = path.join(dir, 'bin', 'claude')
    configured = path.join(dir, 'other', 'claude')
  })

  after(() => rmSync(dir, {recursive: true, force: true}))

  it('prefers the configured path over PATH', () => {
    expect(locateClaude(configured, path.join(dir, 'bin'))).to.deep.equal({available: true, path: configured})
  })

  it('falls back to the first executable claude on PATH', () => {
    expect(locateClaude(undefined, ['/nonexistent', path.join(dir, 'bin')].join(path.delimiter))).to.deep.equal({
      available: true,
      path: onPath,
    })
  })

  it('says how to fix a missing or bad path', () => {
    const missing = locateClaude(undefined, '/nonexistent')
    expect(missing.available).to.equal(false)
    expect(missing.available ? '' : missing.reason).to.match(/not found on the daemon's PATH.*HUMANLAYER_CLAUDE_PATH/)
    const bad = locateClaude(path.join(dir, 'nope'), path.join(dir, 'bin'))
    expect(bad.available ? '' : bad.reason).to.match(/claude_path is .*nope, which is not an executable file/)
  })
})
