/**
 * What users of gh, docker and pm2 expect of a CLI: did-you-mean, -h/-v/version, completion,
 * errors in the CLI's words (and as JSON on stdout under --json, from every command), comma
 * lists, and colour only where wanted (a real pseudo-terminal through `script`).
 */
import {expect} from 'chai'
import {execa} from 'execa'

import {DebugPublish} from '../../src/protocol/subscribe.js'
import {CLI, Sandbox} from '../helpers/sandbox.js'

const unwrap = (text: string): string => text.replaceAll(/\s*\n\s*›\s*/g, ' ')
const ESC = '\u001B['

describe('CLI conventions', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  before(async () => {
    sandbox = new Sandbox({HUMANLAYER_TEST_EVENTS: '1'})
    await sandbox.startDaemon()
    const client = await sandbox.client()
    try {
      await client.call(DebugPublish, {
        type: 'new_approval',
        data: {approval_id: 'local-0123abcd-1', session_id: 's-1', run_id: 'r', tool_name: 'Bash'},
        count: 1,
      })
      await client.call(DebugPublish, {
        type: 'approval_resolved',
        data: {approval_id: 'local-0123abcd-1', session_id: 's-1', approved: false, response_text: 'no'},
        count: 1,
      })
    } finally {
      client.close()
    }
  })

  after(async () => {
    await sandbox.cleanup()
  })

  it('suggests the closest command for a typo, as text or as JSON on stdout', async () => {
    const human = await sandbox.cli(['sesion', 'list'])
    expect(human.exitCode).to.equal(2)
    expect(unwrap(human.stderr)).to.include('sesion list is not an hld command. Did you mean `hld session list`?')
    const json = await sandbox.cli(['sesion', 'list', '--json'])
    expect(json.exitCode).to.equal(2)
    expect(Sandbox.json<{error: unknown}>(json).error).to.deep.include({
      name: 'CommandNotFoundError',
      exitCode: 2,
      suggestion: 'session list',
    })
  })

  it('answers -h, -v and version, and prints shell completion', async () => {
    const short = await sandbox.cli(['-h'])
    expect([short.exitCode, short.stdout]).to.satisfy(([code, out]: [number, string]) => code === 0 && out.includes('$ hld daemon start'))
    expect((await sandbox.cli(['session', 'launch', '-h'])).stdout).to.include('--wait')
    for (const args of [['-v'], ['--version'], ['version']]) {
      const version = await sandbox.cli(args)
      expect([args[0], version.exitCode, version.stdout]).to.satisfy(
        ([, code, out]: [string, number, string]) => code === 0 && out.startsWith('hld/0.1.0 '),
      )
    }
    const bash = await sandbox.cli(['autocomplete', 'script', 'bash'])
    expect(bash.exitCode, bash.stderr).to.equal(0)
    expect(bash.stdout).to.include('HLD_AC_BASH_SETUP_PATH')
    const zsh = await sandbox.cli(['autocomplete', 'zsh'])
    expect(zsh.exitCode, zsh.stderr).to.equal(0)
    expect(zsh.stdout).to.include('hld autocomplete script zsh')
  })

  it("shows daemon errors in the CLI's words: flags, not wire names or codes; --json keeps them", async () => {
    const human = await sandbox.cli(['session', 'launch', '-w', `${sandbox.root}/missing`, 'x'])
    expect(human.exitCode).to.equal(2)
    const text = unwrap(human.stderr)
    expect(text).to.include(`--working-dir ${sandbox.root}/missing is not an existing directory`)
    expect(text).not.to.match(/launchSession|working_dir|Code: -32/)
    const json = await sandbox.cli(['session', 'launch', '-w', `${sandbox.root}/missing`, 'x', '--json'])
    expect(Sandbox.json<{error: unknown}>(json).error).to.deep.include({code: -32_602, exitCode: 2})
    const notFound = await sandbox.cli(['session', 'show', 'ffff0000'])
    expect(notFound.exitCode).to.equal(4)
    expect(notFound.stderr).not.to.include('Code:')
  })

  it('watch --json reports its errors on stdout, as one JSON line', async () => {
    const result = await sandbox.cli(['watch', '--json', '--session', 'ffff0000'])
    expect(result.exitCode).to.equal(4)
    const lines = result.stdout.trim().split('\n')
    expect(lines).to.have.length(1)
    expect((JSON.parse(lines[0]) as {error: {exitCode: number}}).error.exitCode).to.equal(4)
  })

  it('takes --type as a comma-separated list, like --allowed-tools', async () => {
    const result = await sandbox.cli(['watch', '--json', '--since', '0', '--count', '2', '--type', 'approval_resolved,new_approval'])
    expect(result.exitCode, result.stderr).to.equal(0)
    expect(
      result.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as {type: string}).type),
    ).to.deep.equal(['new_approval', 'approval_resolved'])
  })

  describe('colour, on a real terminal (script(1) gives watch a pty)', () => {
    const onTerminal = async (args: string[], env: Record<string, string | undefined> = {}): Promise<string> => {
      const command = [process.execPath, CLI, ...args].map((part) => `'${part}'`).join(' ')
      const result = await execa('script', ['-qec', command, '/dev/null'], {
        env: sandbox.env({TERM: 'xterm-256color', ...env}),
        extendEnv: false,
        reject: false,
        stdin: 'ignore',
        timeout: 30_000,
      })
      expect(result.exitCode, String(result.stderr)).to.equal(0)
      return String(result.stdout)
    }
    const watchArgs = ['watch', '--since', '0', '--count', '2']

    it('colours watch on a terminal', async () => {
      const out = await onTerminal(watchArgs)
      expect(out).to.include('waiting for approval 0123abcd')
      expect(out).to.include(ESC)
    })

    it('honours NO_COLOR and --no-color', async () => {
      for (const [args, env] of [
        [watchArgs, {NO_COLOR: '1'}],
        [[...watchArgs, '--no-color'], {}],
      ] as const) {
        const out = await onTerminal([...args], env)
        expect(out, JSON.stringify(out)).to.include('denied 0123abcd')
        expect(out, JSON.stringify(out)).not.to.include(ESC)
      }
    })
  })
})
