#!/usr/bin/env node
// CommonJS (bin/package.json says so for this folder): an ES module entry starts node's ES module
// loader, which reads files asynchronously through the thread pool and costs ~20 ms of wall time
// before any code of ours runs; the hot commands must start in about node's own time.
'use strict'

// @oclif/core checks the Node version against its own engines range with semver, which costs
// ~20 ms of every command's cold start; hld checks its own floor (package.json engines) here.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 19)) {
  process.emitWarning(`hld needs Node.js 20.19 or newer; this is ${process.version}.`)
}

const path = require('node:path')

// The lean entry (src/cli/lean.ts) and the argument handling, one CommonJS file: loaded at once,
// each of its modules (and the node builtins it needs) only when first used; compiled from V8's
// code cache when the build made one (src/shared/bundle-loader.cts).
const lean = require('../dist/shared/bundle-loader.cjs').requireBundle(path.join(__dirname, '..', 'dist', 'cli', 'lean.bundle.cjs')).exports

async function main() {
  const argv = lean.hoistGlobalFlags(process.argv.slice(2))

  if (lean.isLeanDialStdio(argv)) {
    // What `hld --host ssh://…` runs on the far side, once per command: no oclif on that path.
    process.exit(await lean.dialStdio(argv.slice(2)))
  }

  // The commands run most skip oclif when their arguments are plain; runLean says false for
  // anything it leaves to oclif, --help included.
  const id = lean.leanCommand(argv)
  if (id && (await lean.runLean(id, argv))) return lean.exit()

  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
  const {execute} = await import('@oclif/core')
  delete process.env.OCLIF_DISABLE_ENGINE_WARNING
  // The package root, not this file: oclif looks upwards for the first package.json, which here
  // would be bin/package.json.
  await execute({args: argv, dir: path.join(__dirname, '..')})
}

// An error outside a command (oclif reports its commands' own) is left unhandled: node prints it
// and exits 1, as it did when this entry awaited at its top level.
void main()
