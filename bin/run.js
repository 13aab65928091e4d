#!/usr/bin/env node
// @oclif/core checks the Node version against its own engines range with semver, which costs
// ~20 ms of every command's cold start; hld checks its own floor (package.json engines) here.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 19)) {
  process.emitWarning(`hld needs Node.js 20.19 or newer; this is ${process.version}.`)
}

const {hoistGlobalFlags, isLeanDialStdio, leanCommand} = await import('../dist/cli/argv.js')
const argv = hoistGlobalFlags(process.argv.slice(2))

if (isLeanDialStdio(argv)) {
  // What `hld --host ssh://…` runs on the far side, once per command: no oclif on that path.
  const {main} = await import('../dist/cli/dial-stdio.bundle.js')
  process.exit(await main(argv.slice(2)))
}

// The commands run most skip oclif when their arguments are plain (src/cli/lean.ts); it says false
// for anything it leaves to oclif, --help included.
const lean = leanCommand(argv)
if (!lean || !(await (await import('../dist/cli/lean.bundle.js')).runLean(lean, argv))) {
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
  const {execute} = await import('@oclif/core')
  delete process.env.OCLIF_DISABLE_ENGINE_WARNING

  await execute({args: argv, dir: import.meta.url})
}
