#!/usr/bin/env node
// Run by `npm run build` after tsc, for the entries that must start in about node's own time.
// For the lean entry of the hot commands (src/cli/lean.ts):
// - dist/cli/lean-manifest.json: the flags and arguments of each command it runs (LEAN_COMMANDS),
//   read from the oclif command classes themselves so the two parsers cannot drift apart. A flag
//   feature the lean parser does not know fails the build here, instead of being parsed differently.
// - dist/cli/lean.bundle.js: dist/cli/lean.js and what it imports in one file (esbuild), because
//   resolving and reading ~40 small ES modules one by one costs node more than running them.
//   It sits beside lean.js, so the relative paths its modules compute from import.meta.url
//   (the package root, the daemon entry, ../daemon/*.js) stay right.
// dist/cli/dial-stdio.bundle.js: `hld daemon dial-stdio`, what `hld --host ssh://…` runs on the far side
// of every remote command (src/cli/dial-stdio.ts), in one file; the daemon start-up code inside is
// evaluated only when no daemon answers.
// And dist/mcp/claude-approvals.bundle.js: what the approvals MCP server needs to answer
// `initialize` (bin/mcp-claude-approvals.js), in one file; what it loads after that stays in dist/.
import {writeFileSync} from 'node:fs'
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

await bundle({
  entryPoints: [path.join(dist, 'cli', 'lean.js')],
  outfile: path.join(dist, 'cli', 'lean.bundle.js'),
  // Native, and only for starting a daemon: loaded from dist/ when needed (no class of ours crosses
  // over: an error class in two copies would break exitCodeFor's instanceof). oclif is never
  // imported on this path (its error printer is required by file when an error is shown).
  external: ['better-sqlite3', '@oclif/core', '../shared/file-lock.js'],
})

await bundle({
  entryPoints: [path.join(dist, 'cli', 'dial-stdio.js')],
  outfile: path.join(dist, 'cli', 'dial-stdio.bundle.js'),
  // As for the lean entry: native, and only for starting a daemon, so loaded from dist/ when needed
  // (an import inside the bundle would be hoisted and load better-sqlite3 at every start).
  external: ['better-sqlite3', '../shared/file-lock.js'],
})

await bundle({
  entryPoints: [path.join(dist, 'mcp', 'claude-approvals.js')],
  outfile: path.join(dist, 'mcp', 'claude-approvals.bundle.js'),
  // Loaded once `initialize` is answered (setUp): from dist/, as they are.
  external: ['./permission.js', './cloud-approver.js', './local-approver.js', '../config/index.js', '../shared/logger.js'],
})
