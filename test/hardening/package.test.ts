/**
 * The npm tarball holds what an installed hld needs, and nothing else: the built code without
 * source maps whose sources it does not ship, the migrations, the manifest, the docs the README
 * links to, and the Apache-2.0 LICENSE; no development entry, sources or tests.
 * (`npm pack --dry-run --ignore-scripts` lists the files of the current build without packing.)
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'
import {execa} from 'execa'

import {REPO_ROOT} from '../helpers/sandbox.js'

describe('the packed tarball', function () {
  this.timeout(60_000)
  let files: string[]

  before(async () => {
    const {stdout} = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {cwd: REPO_ROOT, stdin: 'ignore'})
    files = (JSON.parse(stdout) as {files: {path: string}[]}[])[0].files.map((file) => file.path)
  })

  it('ships the built CLI, its manifest, migrations, docs, LICENSE, the OpenAPI document and the peer-credentials addon source, and nothing of development', () => {
    const tops = [...new Set(files.map((file) => (file.includes('/') ? `${file.split('/')[0]}/` : file)))].sort()
    // binding.gyp and native/ build the SO_PEERCRED addon on install (no prebuilt binary is shipped);
    // openapi/ holds the document the REST API routes and validates by.
    expect(tops).to.deep.equal([
      'LICENSE',
      'README.md',
      'bin/',
      'binding.gyp',
      'dist/',
      'docs/',
      'drizzle/',
      'native/',
      'oclif.manifest.json',
      'openapi/',
      'package.json',
    ])
    expect(files).to.include('openapi/hld-openapi.yaml')
    expect(files.filter((file) => file.startsWith('build/'))).to.deep.equal([])
    expect(files).to.include('bin/run.js')
    expect(files).not.to.include('bin/dev.js')
    expect(files.filter((file) => file.endsWith('.map'))).to.deep.equal([])
    expect(files.filter((file) => file.endsWith('.ts'))).to.deep.equal([])
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, {relativePath: string[]}>
    }
    for (const [id, command] of Object.entries(manifest.commands)) expect(files, id).to.include(command.relativePath.join('/'))
    const journal = JSON.parse(readFileSync(path.join(REPO_ROOT, 'drizzle', 'meta', '_journal.json'), 'utf8')) as {entries: {tag: string}[]}
    for (const {tag} of journal.entries) expect(files).to.include(`drizzle/${tag}.sql`)
  })

  it('ships the Apache-2.0 text the package.json license names', () => {
    expect((JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {license: string}).license).to.equal('Apache-2.0')
    const license = readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8')
    expect(license).to.match(/^\s+Apache License\n\s+Version 2\.0, January 2004\n/)
    expect(license).to.include('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION').and.include('END OF TERMS AND CONDITIONS')
  })

  it('ships every file the README links to', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8')
    const local = [...readme.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((match) => match[1]).filter((link) => !/^[a-z]+:/.test(link))
    expect(local.length).to.be.greaterThan(0)
    for (const link of local) expect(files, link).to.include(path.normalize(link))
  })

  it('keeps a packed tarball out of git', async () => {
    const result = await execa('git', ['check-ignore', '-q', 'hld-0.1.0.tgz'], {cwd: REPO_ROOT, reject: false})
    expect(result.exitCode).to.equal(0)
  })
})
