/**
 * An unknown command (`hld sesion list`): on a terminal, @oclif/plugin-not-found asks "Did you
 * mean session list?" and runs it when told yes; in scripts (no terminal) and under --json, no
 * prompt: the error names the closest command, as `{"error": …}` on stdout under --json. Exit 2,
 * a usage error, like any other bad argument.
 */
import {type Hook, toConfiguredId} from '@oclif/core'

import {ExitCode} from '../cli/exit-codes.js'

const hook: Hook<'command_not_found'> = async function (options) {
  const visible = options.config.commands.filter((command) => !command.hidden)
  const ids = visible.flatMap((command) => [command.id, ...command.aliases])
  const json = (options.argv ?? []).includes('--json')
  if (process.stdin.isTTY && process.stdout.isTTY && !json) {
    const {default: prompt} = await import('@oclif/plugin-not-found')
    return prompt.call(this, options)
  }
  const asTyped = toConfiguredId(options.id, options.config)
  const closest = toConfiguredId(closestId(options.id, ids), options.config)
  const message =
    `${asTyped} is not an ${options.config.bin} command.${closest ? ` Did you mean \`${options.config.bin} ${closest}\`?` : ''} ` +
    `\`${options.config.bin} --help\` lists the commands.`
  if (json) {
    process.stdout.write(
      `${JSON.stringify({error: {name: 'CommandNotFoundError', message, exitCode: ExitCode.Usage, ...(closest ? {suggestion: closest} : {})}})}\n`,
    )
    return this.exit(ExitCode.Usage)
  }
  return this.error(message, {exit: ExitCode.Usage})
}

export default hook

/** The id nearest to `typed` by edit distance; '' when none is near enough to be a typo. */
function closestId(typed: string, ids: string[]): string {
  let best = ''
  let bestDistance = Number.POSITIVE_INFINITY
  for (const id of ids) {
    const distance = editDistance(typed, id)
    if (distance < bestDistance) [best, bestDistance] = [id, distance]
  }
  return bestDistance <= Math.max(2, Math.floor(typed.length / 3)) ? best : ''
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]
}
