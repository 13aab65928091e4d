import {Errors, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {ExitCode} from '../../cli/exit-codes.js'
import type {ReplayPolicyResult} from '../../protocol/policy.js'
import {parseSince} from '../../shared/duration.js'

export default class PolicyTest extends BaseCommand<typeof PolicyTest> {
  static summary = 'Replay recorded tool calls against the current policy and print what would change.'
  static description =
    "Every call in the audit log (since --since) is judged again by today's policy file and its session's rules. A call a " +
    'human or a timeout decided counts as an ask. Nothing runs and nothing is recorded.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --since 24h',
    '<%= config.bin %> <%= command.id %> --since 2026-12-01 --json',
  ]
  static flags = {
    since: Flags.string({summary: 'Only calls decided since then: a duration ago (30m, 24h, 7d) or a date.'}),
    session: Flags.string({summary: "Only this session's calls."}),
  }

  async run(): Promise<ReplayPolicyResult> {
    await this.parseFlags()
    const {since, session} = this.flags
    const sinceMs = since === undefined ? undefined : parseSince(since)
    if (since !== undefined && sinceMs === undefined) {
      throw new Errors.CLIError(`--since takes a duration ago (30m, 24h, 7d) or a date (2026-12-01), not "${since}"`, {
        exit: ExitCode.Usage,
      })
    }
    const client = await this.client()
    const {ReplayPolicy} = await import('../../protocol/policy.js')
    const {describeInput} = await import('../../cli/policy.js')
    const {inert} = await import('../../cli/render/inert.js')
    const result = await client.call(ReplayPolicy, {
      ...(sinceMs === undefined ? {} : {since_ms: sinceMs}),
      ...(session ? {session_id: session} : {}),
    })
    for (const {entry, now} of result.changes) {
      const was = entry.decided_by === 'policy' ? entry.decision : `ask (then ${entry.decision} by ${entry.decided_by})`
      this.log(describeInput(entry.tool_name, entry.tool_input, 120).text)
      this.log(
        inert(
          `  was ${was}${entry.rule ? ` by ${entry.rule}` : ''}; now ${now.decision}${now.rule ? ` by ${now.rule} (${now.source})` : ` (${now.source})`}`,
        ),
      )
    }
    this.log(`${result.changes.length} of ${result.checked} recorded call(s) would be decided differently.`)
    return result
  }
}
