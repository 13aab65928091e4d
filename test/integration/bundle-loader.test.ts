/**
 * The lean bundle is compiled from V8's code cache (src/shared/bundle-loader.cts). A cache made from
 * other code must never run in its place: V8 itself checks little more than the source's length,
 * so the loader takes a cache only when it opens with the bundle's own first line (a hash of it).
 * Each case runs in a node of its own, as bin/run.js does, with the same flags as the run that
 * wrote the cache.
 */
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {REPO_ROOT} from '../helpers/sandbox.js'

const LOADER = path.join(REPO_ROOT, 'dist', 'shared', 'bundle-loader.cjs')

/** A bundle whose `answer()` returns `value`; `id` is its first line. */
const bundleText = (id: string, value: string) => `${id}\nexports.answer = function answer() { return ${JSON.stringify(value)} }\n`

/** Loads `bundle` in a fresh node: what answer() returns and whether the cache was used; `write` also writes the cache. */
function load(bundle: string, write = false): {answer: string; cacheUsed: boolean} {
  const script = `
    const loaded = require(${JSON.stringify(LOADER)}).requireBundle(${JSON.stringify(bundle)})
    const answer = loaded.exports.answer()
    if (${write}) loaded.writeCache()
    process.stdout.write(JSON.stringify({answer, cacheUsed: loaded.cacheUsed}))`
  const run = spawnSync(process.execPath, ['-e', script], {encoding: 'utf8', env: {PATH: process.env.PATH}})
  expect(run.status, run.stderr).to.equal(0)
  return JSON.parse(run.stdout) as {answer: string; cacheUsed: boolean}
}

describe('the lean bundle loader and its code cache', function () {
  this.timeout(30_000)
  let dir: string
  let bundle: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hld-bundle-'))
    bundle = path.join(dir, 'lean.bundle.cjs')
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('compiles from the cache made from the same bundle', () => {
    writeFileSync(bundle, bundleText('// hld-bundle sha256:aaaa', 'first'))
    expect(load(bundle, true)).to.deep.equal({answer: 'first', cacheUsed: false})
    expect(load(bundle)).to.deep.equal({answer: 'first', cacheUsed: true})
  })

  it('ignores a cache made from another bundle, even one of the same length', () => {
    writeFileSync(bundle, bundleText('// hld-bundle sha256:aaaa', 'first'))
    load(bundle, true)
    writeFileSync(bundle, bundleText('// hld-bundle sha256:bbbb', 'other'))
    expect(load(bundle)).to.deep.equal({answer: 'other', cacheUsed: false})
  })

  it('ignores the cache of a bundle that does not name its contents on its first line', () => {
    writeFileSync(bundle, bundleText('const first = 1', 'first'))
    load(bundle, true)
    writeFileSync(bundle, bundleText('const other = 1', 'other'))
    expect(load(bundle)).to.deep.equal({answer: 'other', cacheUsed: false})
  })

  it('runs without a cache', () => {
    writeFileSync(bundle, bundleText('// hld-bundle sha256:aaaa', 'first'))
    expect(load(bundle)).to.deep.equal({answer: 'first', cacheUsed: false})
  })
})
