/**
 * The fuzz suite reaches every method through METHODS (src/protocol/methods.schema.ts).
 * This keeps that list whole: each method the daemon registers on its router is in it.
 */
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {expect} from 'chai'

import * as protocol from '../../src/protocol/index.js'
import {METHODS} from '../../src/protocol/methods.schema.js'
import {REPO_ROOT} from '../helpers/sandbox.js'

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const file = path.join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(file)
    return entry.name.endsWith('.ts') ? [file] : []
  })
}

describe('the method list', () => {
  it('holds every method registered on the router', () => {
    const descriptors = protocol as unknown as Record<string, {name?: unknown}>
    const registered = sourceFiles(path.join(REPO_ROOT, 'src', 'daemon')).flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/\.register\(\s*([\w.]+)\s*,/g)].map((match) => {
        // `Health` or `sessions.Launch`: the descriptor is exported under its last name.
        const name = descriptors[match[1].split('.').pop()!]?.name
        if (typeof name !== 'string') throw new Error(`${file} registers ${match[1]}, which src/protocol/index.ts does not export`)
        return name
      }),
    )
    expect(registered).to.include('health')
    // debugPublish exists only with HUMANLAYER_TEST_EVENTS=1 (src/daemon/bus/test-hooks.ts), never in a fuzzed daemon.
    const listed = new Set([...METHODS.map((spec) => spec.method.name), 'debugPublish'])
    expect(
      registered.filter((name) => !listed.has(name)),
      'registered but missing from METHODS',
    ).to.deep.equal([])
  })
})
