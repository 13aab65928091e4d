/**
 * The newcomer path inside mocha: `hld --help` and every command's `--help` show examples a
 * person can copy. (Installing the packed tarball is scripts/pack-smoke.sh, run by .ci/run.)
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import {REPO_ROOT, Sandbox} from '../helpers/sandbox.js'

interface Manifest {
  commands: Record<string, unknown>
}

describe('newcomer: help shows examples', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  before(() => {
    sandbox = new Sandbox()
  })

  after(async () => {
    await sandbox.cleanup()
  })

  it('hld --help shows example commands', async () => {
    const help = await sandbox.cli(['--help'])
    expect(help.exitCode, help.stderr).to.equal(0)
    expect(help.stdout).to.match(/^\s*\$ hld [a-z]+ [a-z]+/m)
  })

  it('every command in the manifest has examples that its --help shows', async () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, 'oclif.manifest.json'), 'utf8')) as Manifest
    const ids = Object.keys(manifest.commands)
    expect(ids).to.include('daemon:start')
    for (const id of ids) {
      const words = id.split(':')
      const help = await sandbox.cli([...words, '--help'])
      expect(help.exitCode, `${words.join(' ')} --help: ${help.stderr}`).to.equal(0)
      const examples = help.stdout.split('\nEXAMPLES\n')[1]
      expect(examples, `${words.join(' ')} --help has an EXAMPLES section`).to.be.a('string')
      expect(examples, `${words.join(' ')} --help examples`).to.include(`$ hld ${words.join(' ')}`)
    }
  })
})
