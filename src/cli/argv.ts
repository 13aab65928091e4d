/**
 * What bin/run.js does to the arguments before oclif sees them. Pure and import-free: it runs
 * on every command's cold path.
 */

/** Flags every command takes, which people also write before the command: `hld --host devbox approvals list`. */
const GLOBAL_VALUE_FLAGS = new Set(['--host', '--hosts', '--socket'])

/**
 * oclif finds the command from the first arguments, so leading global flags move behind the
 * command's own arguments (before a `--`, which ends the flags).
 */
export function hoistGlobalFlags(argv: string[]): string[] {
  const leading: string[] = []
  let i = 0
  while (i < argv.length) {
    const name = argv[i].split('=', 1)[0]
    if (!GLOBAL_VALUE_FLAGS.has(name)) break
    const takesNext = !argv[i].includes('=') && i + 1 < argv.length
    leading.push(...argv.slice(i, takesNext ? i + 2 : i + 1))
    i += takesNext ? 2 : 1
  }
  if (leading.length === 0) return argv
  const rest = argv.slice(i)
  const end = rest.indexOf('--')
  return end === -1 ? [...rest, ...leading] : [...rest.slice(0, end), ...leading, ...rest.slice(end)]
}

/**
 * `hld daemon dial-stdio` runs once per remote command, so it skips oclif when its arguments
 * are ones its lean entry understands (anything else, --help included, goes through oclif).
 */
export function isLeanDialStdio(argv: string[]): boolean {
  return argv[0] === 'daemon' && argv[1] === 'dial-stdio' && argv.slice(2).every((arg) => arg === '--no-autostart' || arg === '--autostart')
}

/**
 * The commands bin/run.js hands to the lean entry (lean.ts), which runs them without loading
 * oclif when it can parse their arguments itself: the ones people and scripts run most.
 */
export const LEAN_COMMANDS = [
  'daemon start',
  'daemon status',
  'approvals list',
  'approvals approve',
  'approvals deny',
  'session list',
  'session show',
  'watch',
]

/** The lean command `argv` starts with (after hoistGlobalFlags), if any. */
export function leanCommand(argv: string[]): string | undefined {
  return [argv[0], `${argv[0]} ${argv[1]}`].find((id) => LEAN_COMMANDS.includes(id))
}
