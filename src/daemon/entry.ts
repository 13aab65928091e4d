/**
 * What `hld daemon start` forks, detached, bundled with what it imports into one CommonJS file
 * (dist/daemon/entry.bundle.cjs, see scripts/build-lean.js). Configuration arrives through HUMANLAYER_*
 * variables set by the parent, so the child resolves exactly what the parent did.
 */
import {loadConfig} from '../config/index.js'
import {createLogger} from '../shared/logger.js'
import {runDaemon} from './main.js'
import {refuseSymlinkedFiles} from '../shared/private-files.js'

let config
try {
  config = loadConfig()
  // Before the first line is logged: a log path that is a symbolic link is refused, not written through.
  refuseSymlinkedFiles(config, config.log_file)
} catch (error) {
  process.stderr.write(`hld daemon: ${(error as Error).message}\n`)
  process.exit(1)
}

const log = createLogger(config.log_level, {
  kind: 'file',
  path: config.log_file,
  maxBytes: config.log_max_bytes,
  maxFiles: config.log_max_files,
})
// Logging never throws (a failed write is counted), so this handler cannot fail in turn.
process.on('uncaughtException', (error) => {
  log.error('uncaught exception; exiting', {error})
  process.exit(1)
})
process.on('unhandledRejection', (reason) => log.error('unhandled promise rejection', {error: reason}))

// Exit explicitly: a handle some library forgot to close must not keep a stopped daemon alive.
// (Not a top-level await: `hld daemon start` forks this bundled as CommonJS, which has none.)
runDaemon(config, log, {logFile: config.log_file}).then(
  (code) => process.exit(code),
  (error: unknown) => {
    log.error('daemon failed', {error})
    process.exit(1)
  },
)
