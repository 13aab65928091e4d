#!/usr/bin/env node
// The PreToolUse hook of hld sessions (`hook.js pre-tool-use`): a lean entry that loads no oclif,
// because it runs before every tool call. See src/hook/pre-tool-use.ts.
const {main} = await import('../dist/hook/pre-tool-use.js')
process.exitCode = await main(process.argv.slice(2))
