#!/usr/bin/env node
// The PreToolUse hook of hld sessions (`hook.cjs pre-tool-use`): a lean entry that loads no oclif,
// because it runs before every tool call. CommonJS, as is src/hook/pre-tool-use.cts, for start-up time.
require('../dist/hook/pre-tool-use.cjs')
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code
    },
    (error) => {
      // Exit code 2 blocks the call: a hook that breaks must not let it through.
      process.stderr.write(`hld hook failed, so the call is blocked: ${error && error.message}\n`)
      process.exitCode = 2
    },
  )
