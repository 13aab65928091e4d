#!/usr/bin/env node
// Run by `npm run build` after tsc, for the entries that must start in about node's own time.
// For the lean entry of the hot commands (src/cli/lean.ts):
// - dist/cli/lean-manifest.json: the flags and arguments of each command it runs (LEAN_COMMANDS),
//   read from the oclif command classes themselves so the two parsers cannot drift apart. A flag
//   feature the lean parser does not know fails the build here, instead of being parsed differently.
// - dist/cli/lean.bundle.cjs: dist/cli/lean.js and what it imports in one file (esbuild), because
//   resolving and reading ~40 small ES modules one by one costs node more than running them.
//   CommonJS, loaded by the CommonJS bin/run.js: node's ES module loader alone costs ~20 ms of
//   wall time, and in a CommonJS bundle each module's imports (node:net, node:child_process …)
//   are required when that module is first used, not all at the top. It sits beside lean.js, so
//   the relative paths its modules compute from import.meta.url (the package root, the daemon
//   entry, ../daemon/*.js) stay right.
// And dist/mcp/claude-approvals.bundle.js: what the approvals MCP server needs to answer
// `initialize` (bin/mcp-claude-approvals.js), in one file; what it loads after that stays in dist/.
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {Args, Flags} from '@oclif/core'
import {build} from 'esbuild'

const dist = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist')
const {LEAN_COMMANDS} = await import(pathToFileURL(path.join(dist, 'cli', 'argv.js')).href)

/** A flag's parse function that returns its input as is (Flags.string, Flags.option), and an argument's (Args.string). */
const identity = Flags.string().parse.toString()
const identityArg = Args.string().parse.toString()
const integer = Flags.integer().parse

/** The keys of a flag definition that the lean parser understands; any other set key fails the build. */
const KNOWN = new Set([
  'name',
  'type',
  'parse',
  'input',
  'multiple',
  'summary',
  'description',
  'helpGroup',
  'allowNo',
  'options',
  'delimiter',
  'default',
  'min',
  'max',
  'required',
  'hasDynamicHelp',
])

function flagSpec(id, name, flag) {
  const unknown = Object.keys(flag).filter((key) => !KNOWN.has(key) && flag[key] !== undefined)
  if (unknown.length > 0)
    throw new Error(`hld ${id} --${name}: ${unknown.join(', ')} is not supported by the lean parser (src/cli/lean.ts)`)
  if (typeof flag.default === 'function') throw new Error(`hld ${id} --${name}: a computed default is not supported by the lean parser`)
  if (flag.type === 'boolean')
    return {type: 'boolean', allowNo: flag.allowNo, ...(flag.default === undefined ? {} : {default: flag.default})}
  const type = flag.parse === integer ? 'integer' : flag.parse.toString() === identity ? 'string' : undefined
  if (!type) throw new Error(`hld ${id} --${name}: a custom parse function is not supported by the lean parser`)
  return {
    type,
    multiple: flag.multiple,
    ...Object.fromEntries(
      ['options', 'delimiter', 'default', 'min', 'max', 'required'].filter((key) => flag[key] !== undefined).map((key) => [key, flag[key]]),
    ),
  }
}

const manifest = {}
for (const id of LEAN_COMMANDS) {
  const {default: command} = await import(pathToFileURL(path.join(dist, 'commands', ...id.split(' ')) + '.js').href)
  const flags = {json: Flags.boolean(), ...command.baseFlags, ...command.flags}
  const args = Object.entries(command.args ?? {}).map(([name, arg]) => {
    if (arg.parse.toString() !== identityArg || arg.options || arg.default !== undefined || arg.multiple) {
      throw new Error(`hld ${id} <${name}>: only plain string arguments are supported by the lean parser`)
    }
    return {name, required: Boolean(arg.required)}
  })
  manifest[id] = {
    flags: Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, flagSpec(id, name, flag)])),
    ownFlags: Object.keys(command.flags ?? {}),
    args,
    strict: command.strict !== false,
  }
}
writeFileSync(path.join(dist, 'cli', 'lean-manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)

const bundle = (options) => build({bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', ...options})

const leanBundle = path.join(dist, 'cli', 'lean.bundle.cjs')
const {outputFiles} = await bundle({
  entryPoints: [path.join(dist, 'cli', 'lean.js')],
  outfile: leanBundle,
  format: 'cjs',
  write: false,
  // A CommonJS file has no import.meta: its modules get the bundle's own URL, which is where they
  // would be (see above).
  define: {'import.meta.url': 'leanBundleUrl'},
  banner: {js: "const leanBundleUrl = require('node:url').pathToFileURL(__filename).href;"},
  // Native, and only for starting a daemon: required when needed. oclif is never imported on this
  // path (its error printer is required by file when an error is shown). Nothing is left to import():
  // a script compiled from a code cache has no dynamic import callback (checked below).
  external: ['better-sqlite3', '@oclif/core'],
})
// Its first line names its contents, so that only the code cache made from this very bundle is used
// (src/cli/bundle-loader.cts).
const leanCode = outputFiles[0].text
if (/\bimport\(/.test(leanCode)) throw new Error(`${leanBundle} would import() at run time; bundle what it imports instead`)
writeFileSync(leanBundle, `// hld-bundle sha256:${createHash('sha256').update(leanCode).digest('hex')}\n${leanCode}`)
trainCodeCache(leanBundle)

await bundle({
  entryPoints: [path.join(dist, 'mcp', 'claude-approvals.js')],
  outfile: path.join(dist, 'mcp', 'claude-approvals.bundle.js'),
  // Loaded once `initialize` is answered (setUp): from dist/, as they are.
  external: ['./permission.js', './cloud-approver.js', './local-approver.js', '../config/index.js', '../shared/logger.js'],
})

/**
 * Writes the lean bundle's code cache from a run of a hot command as people run it (`hld daemon
 * status --json`, in an empty HOME where no daemon runs: parsing, configuration, connecting and an
 * error report), so that the functions such a run compiles are in it. A separate node, with no
 * options of this one (V8 refuses a cache made under other flags).
 */
function trainCodeCache(bundle) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'hld-build-'))
  try {
    const loader = path.join(dist, 'cli', 'bundle-loader.cjs')
    const script = `
      const loaded = require(${JSON.stringify(loader)}).requireBundle(${JSON.stringify(bundle)})
      const argv = ['daemon', 'status', '--json']
      loaded.exports.runLean(loaded.exports.leanCommand(argv), argv).then(() => loaded.writeCache())`
    const run = spawnSync(process.execPath, ['-e', script], {
      env: {PATH: process.env.PATH, HOME: home, HUMANLAYER_DAEMON_SOCKET: path.join(home, 'none.sock'), HUMANLAYER_NO_AUTOSTART: '1'},
      encoding: 'utf8',
    })
    // Exit 3 with its --json error on stdout: no daemon runs, as intended.
    if (run.status !== 3 || !run.stdout.includes('DaemonNotRunningError')) {
      throw new Error(`training the lean bundle's code cache failed (exit ${run.status}):\n${run.stdout}${run.stderr}`)
    }
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
}
