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
// - dist/daemon/entry.bundle.cjs: the daemon as `hld daemon start` forks it, the same way; its
//   start resolved, read and compiled ~200 ES modules one by one.
// - <bundle>.cache beside each: V8's code cache of what a run of the bundle compiles (see
//   src/shared/bundle-loader.cts), from a training run at the end of this script.
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
  'exclusive',
])

function flagSpec(id, name, flag) {
  const unknown = Object.keys(flag).filter((key) => !KNOWN.has(key) && flag[key] !== undefined)
  if (unknown.length > 0)
    throw new Error(`hld ${id} --${name}: ${unknown.join(', ')} is not supported by the lean parser (src/cli/lean.ts)`)
  if (typeof flag.default === 'function') throw new Error(`hld ${id} --${name}: a computed default is not supported by the lean parser`)
  if (flag.type === 'boolean')
    return {
      type: 'boolean',
      allowNo: flag.allowNo,
      ...(flag.default === undefined ? {} : {default: flag.default}),
      ...(flag.exclusive === undefined ? {} : {exclusive: flag.exclusive}),
    }
  const type = flag.parse === integer ? 'integer' : flag.parse.toString() === identity ? 'string' : undefined
  if (!type) throw new Error(`hld ${id} --${name}: a custom parse function is not supported by the lean parser`)
  return {
    type,
    multiple: flag.multiple,
    ...Object.fromEntries(
      ['options', 'delimiter', 'default', 'min', 'max', 'required', 'exclusive']
        .filter((key) => flag[key] !== undefined)
        .map((key) => [key, flag[key]]),
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

/**
 * `entry` and what it imports as one CommonJS file at `outfile`, loaded through
 * src/shared/bundle-loader.cts. Its first line names its contents, so that only the code cache made
 * from this very bundle is used.
 */
async function commonJsBundle(entry, outfile, external, plugins = [], define = {}) {
  const {outputFiles, metafile} = await bundle({
    entryPoints: [entry],
    outfile,
    plugins,
    format: 'cjs',
    write: false,
    metafile: true,
    // A CommonJS file has no import.meta: its modules get the bundle's own file, folder and URL,
    // which is where they would be (each bundle sits beside its entry). The URL only when asked for.
    define: {'import.meta.url': 'bundleMeta.url', 'import.meta.dirname': '__dirname', 'import.meta.filename': '__filename', ...define},
    banner: {js: "const bundleMeta = {get url() { return require('node:url').pathToFileURL(__filename).href } };"},
    external,
  })
  const code = outputFiles[0].text
  // A script compiled from a code cache has no dynamic import callback: what it imports is bundled.
  const imported = Object.values(metafile.outputs).flatMap((output) => output.imports.filter((i) => i.kind === 'dynamic-import'))
  if (imported.length > 0) throw new Error(`${outfile} would import() ${imported.map((i) => i.path).join(', ')}; bundle it instead`)
  writeFileSync(outfile, `// hld-bundle sha256:${createHash('sha256').update(code).digest('hex')}\n${code}`)
}

// Native (and for the lean entry, only for starting a daemon): required when needed. oclif is never
// imported on the lean path (its error printer is required by file when an error is shown).
const leanBundle = path.join(dist, 'cli', 'lean.bundle.cjs')
// The manifest goes in too, so that no command reads it at each start.
await commonJsBundle(
  path.join(dist, 'cli', 'lean.js'),
  leanBundle,
  ['better-sqlite3', '@oclif/core'],
  [ttyWithoutNet(), chalkAtFirstUse()],
  {
    HLD_LEAN_MANIFEST: JSON.stringify(manifest),
  },
)
// The REST API's OpenAPI tooling (1.3 MB of lodash, ajv, openapi-backend …) is required from
// node_modules only when http_port asks for it, and of jayson only its server core is bundled.
// better-sqlite3's JavaScript is bundled (required from node_modules, its dozen files cost a start
// more than the rest of its opening); its native addon is not (see sqliteAddonFromItsPackage).
const daemonBundle = path.join(dist, 'daemon', 'entry.bundle.cjs')
await commonJsBundle(
  path.join(dist, 'daemon', 'entry.js'),
  daemonBundle,
  ['openapi-backend', 'ajv-formats', 'better-sqlite3/package.json'],
  [jaysonServerOnly(), sqliteAddonFromItsPackage()],
)

await bundle({
  entryPoints: [path.join(dist, 'mcp', 'claude-approvals.js')],
  outfile: path.join(dist, 'mcp', 'claude-approvals.bundle.js'),
  // Loaded once `initialize` is answered (setUp): from dist/, as they are.
  external: ['./permission.js', './cloud-approver.js', './local-approver.js', '../config/index.js', '../shared/logger.js'],
})

// The code caches, each from a run of its bundle as it is used, so that they hold the functions such
// a run compiles: each in a node of its own, with no options of this one (V8 refuses a cache made
// under other flags), in an empty HOME.
const loader = path.join(dist, 'shared', 'bundle-loader.cjs')
// The lean commands as they are run: `hld daemon status --json` where no daemon runs, then
// `hld daemon start --json` (the daemon bundle below, forked) and the hot commands against it,
// their errors included; then the daemon is stopped.
train(
  `const {readFileSync} = require('node:fs')
  const loaded = require(${JSON.stringify(loader)}).requireBundle(${JSON.stringify(leanBundle)})
  const {leanCommand, runLean} = loaded.exports
  const run = async (...argv) => {
    if (!(await runLean(leanCommand(argv), argv))) throw new Error('not run by the lean entry: hld ' + argv.join(' '))
  }
  // The daemon is this process's child: it is reaped (and gone) only while the event loop runs.
  const stopDaemon = async () => {
    const pid = Number(readFileSync(process.env.HUMANLAYER_DAEMON_SOCKET + '.pid', 'utf8'))
    process.kill(pid, 'SIGTERM')
    for (const deadline = Date.now() + 10000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
      try { process.kill(pid, 0) } catch { return }
    }
    throw new Error('the daemon did not stop within 10 s')
  }
  ;(async () => {
    await run('daemon', 'status', '--json')
    await run('daemon', 'start', '--json')
    try {
      for (const argv of [['daemon', 'status', '--json'], ['approvals', 'list', '--json'], ['session', 'list', '--json'], ['session', 'list'], ['approvals', 'approve', 'ffff0000', '--json']]) await run(...argv)
      loaded.writeCache()
    } finally {
      await stopDaemon()
    }
    process.exitCode = 0
  })()`,
  (run) => run.status === 0 && run.stdout.includes('DaemonNotRunningError') && run.stdout.includes('"approvals": []'),
)
// A daemon's first start, on a new database, until it answers health, and a first listSessions:
// zod and the schemas load at the first call that validates (src/daemon/rpc/router.ts), and cached
// here they cost that call ~10 ms instead of ~30; then it stops (SIGTERM).
train(
  `const net = require('node:net')
  const loaded = require(${JSON.stringify(loader)}).requireBundle(${JSON.stringify(daemonBundle)})
  const deadline = Date.now() + 30000
  const poll = () => {
    if (Date.now() > deadline) throw new Error('the daemon did not answer health within 30 s')
    const socket = net.createConnection(process.env.HUMANLAYER_DAEMON_SOCKET)
    socket.on('error', () => setTimeout(poll, 10))
    socket.on('connect', () => socket.write('{"jsonrpc":"2.0","method":"health","params":{},"id":1}\\n'))
    socket.once('data', () => {
      socket.write('{"jsonrpc":"2.0","method":"listSessions","params":{},"id":2}\\n')
      socket.once('data', () => {
        socket.destroy()
        loaded.writeCache()
        process.kill(process.pid, 'SIGTERM')
      })
    })
  }
  poll()`,
  (run) => run.status === 0,
)

/**
 * chalk's supports-color asks node:tty whether stdout and stderr are terminals when it loads, and
 * node:tty loads node:net: ~3 ms of every lean command, which otherwise runs without node:net
 * (src/client/fd-socket.ts). It gets dist/shared/tty.js instead, whose isatty is the same answer.
 */
function ttyWithoutNet() {
  return {
    name: 'tty-without-net',
    setup(build) {
      build.onResolve({filter: /^(node:)?tty$/}, ({importer}) =>
        importer.includes(`${path.sep}supports-color${path.sep}`) ? {path: path.join(dist, 'shared', 'tty.js')} : undefined,
      )
    },
  }
}

/**
 * chalk works out the terminal's colours and builds its style tables when it loads: ~1 ms of every
 * lean command, which under --json never colours anything. Our modules get a stand-in that loads
 * chalk (bundled as ever) at its first use.
 */
function chalkAtFirstUse() {
  return {
    name: 'chalk-at-first-use',
    setup(build) {
      build.onResolve({filter: /^chalk$/}, ({namespace, importer}) =>
        namespace === 'chalk-at-first-use' || importer.includes(`${path.sep}node_modules${path.sep}`)
          ? undefined
          : {path: 'chalk', namespace: 'chalk-at-first-use'},
      )
      build.onLoad({filter: /.*/, namespace: 'chalk-at-first-use'}, () => ({
        contents: `let chalk
const loaded = () => (chalk ??= require('chalk').default)
// Imported from an ES module, a CommonJS module's exports are its default export: chalk itself
// (a function, as chalk is).
module.exports = new Proxy(function chalk() {}, {
  apply: (_, self, args) => loaded()(...args),
  get: (_, key) => loaded()[key],
  set: (_, key, value) => Reflect.set(loaded(), key, value),
})`,
        loader: 'js',
        resolveDir: path.join(dist, '..'),
      }))
    },
  }
}

/**
 * jayson's index requires its clients (http, https, tls, websockets with ws) and its server's every
 * transport; the daemon uses only `new jayson.Server(…)` and its `call`, over a socket of its own
 * (src/daemon/rpc). Those modules are left out: each is a function that throws if called.
 */
function jaysonServerOnly() {
  return {
    name: 'jayson-server-only',
    setup(build) {
      const unused = {
        'index.js': ['./client'],
        'index.js (server)': ['./http', './https', './tcp', './tls', './websocket', './middleware'],
      }
      build.onResolve({filter: /^\.\/(client|http|https|tcp|tls|websocket|middleware)$/}, ({path: request, importer}) => {
        const from = path.relative(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'jayson', 'lib'), importer)
        const key = from === 'index.js' ? 'index.js' : from === path.join('server', 'index.js') ? 'index.js (server)' : undefined
        return key && unused[key].includes(request) ? {path: `${from}:${request}`, namespace: 'jayson-unused'} : undefined
      })
      build.onLoad({filter: /.*/, namespace: 'jayson-unused'}, () => ({
        // A function nothing is an instance of (jayson asks `definition instanceof jayson.Client`), which throws if used.
        contents: "module.exports = function notBundled() { throw new Error('this part of jayson is not in the daemon bundle') }",
        loader: 'js',
      }))
    },
  }
}

/**
 * better-sqlite3 loads its addon with `bindings`, which looks for it from the file that calls it:
 * bundled, that would be the bundle, in hld's package. Here it is required from better-sqlite3's
 * own package, wherever that was installed (found at run time, as `require` would): build/Release,
 * where its install puts it, else through `bindings` told that package's root (a debug build …).
 */
function sqliteAddonFromItsPackage() {
  return {
    name: 'sqlite-addon-from-its-package',
    setup(build) {
      build.onResolve({filter: /^bindings$/}, ({importer}) =>
        importer.includes(`${path.sep}better-sqlite3${path.sep}`) ? {path: 'bindings', namespace: 'sqlite-addon'} : undefined,
      )
      build.onLoad({filter: /.*/, namespace: 'sqlite-addon'}, () => ({
        contents: `const {createRequire} = require('node:module')
const path = require('node:path')
module.exports = function addon(name) {
  const root = path.dirname(require.resolve('better-sqlite3/package.json'))
  const fromPackage = createRequire(path.join(root, 'package.json'))
  try {
    return fromPackage(path.join(root, 'build', 'Release', name))
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND') throw error
  }
  return fromPackage('bindings')({bindings: name, module_root: root})
}`,
        loader: 'js',
      }))
    },
  }
}

function train(script, succeeded) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'hld-build-'))
  try {
    const run = spawnSync(process.execPath, ['-e', script], {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        HUMANLAYER_DAEMON_SOCKET: path.join(home, 'd.sock'),
        HUMANLAYER_DATABASE_PATH: path.join(home, 'daemon.db'),
        HUMANLAYER_LOG_FILE: path.join(home, 'daemon.log'),
        HUMANLAYER_NO_AUTOSTART: '1',
        // Nothing here may reach a real service.
        HUMANLAYER_API_BASE_URL: 'http://127.0.0.1:9/humanlayer/v1',
      },
      encoding: 'utf8',
      timeout: 60_000,
    })
    if (!succeeded(run)) throw new Error(`a code cache training run failed (exit ${run.status}):\n${run.stdout}${run.stderr}`)
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
}
