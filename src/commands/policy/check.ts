import {Args, Errors, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {ExitCode} from '../../cli/exit-codes.js'
import type {CheckPolicyResult} from '../../protocol/policy.js'

export default class PolicyCheck extends BaseCommand<typeof PolicyCheck> {
  static summary = 'Print what the policy decides for one tool call, and the rule that decides it.'
  static description = "Nothing runs and nothing is recorded. Relative paths resolve against the session's directory, or this one."
  static examples = [
    `<%= config.bin %> <%= command.id %> Bash '{"command":"git push --force"}'`,
    `<%= config.bin %> <%= command.id %> Edit '{"file_path":"src/app.ts"}' --session 3f2a --json`,
  ]

  static args = {
    tool: Args.string({description: 'Tool name, e.g. Bash, Edit, WebFetch, mcp__server__tool.', required: true}),
    input: Args.string({description: 'The tool input as JSON.', default: '{}'}),
  }

  static flags = {session: Flags.string({summary: "Judge it by this session's policy (its launch rules too)."})}

  async run(): Promise<CheckPolicyResult> {
    const {args} = await this.parseFlags()
    let input: unknown
    try {
      input = JSON.parse(args.input)
    } catch (error) {
      throw new Errors.CLIError(`The tool input must be JSON, such as '{"command":"npm test"}': ${(error as Error).message}`, {
        exit: ExitCode.Usage,
      })
    }
    const client = await this.client()
    const {CheckPolicy} = await import('../../protocol/policy.js')
    const {judgementLines} = await import('../../cli/policy.js')
    const result = await client.call(CheckPolicy, {
      tool_name: args.tool,
      tool_input: input,
      working_dir: process.cwd(),
      ...(this.flags.session ? {session_id: this.flags.session} : {}),
    })
    for (const line of judgementLines(result)) this.log(line)
    return result
  }
}
