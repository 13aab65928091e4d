/**
 * The rule parser and matcher, with cases taken from Claude Code's permission docs
 * (permissions.md: "Permission rule syntax", "Tool-specific permission rules").
 */
import {expect} from 'chai'

import {builtInRules} from '../../../../src/daemon/policy/built-in.js'
import {Policy, ruleMatches, type RuleSpec} from '../../../../src/daemon/policy/policy.js'
import {type Effect, parseRule} from '../../../../src/daemon/policy/rules.js'

const CWD = '/home/alice/project'
const HOME = '/home/alice'

function judge(rules: Array<[Effect, string]>, tool: string, input: unknown) {
  const specs: RuleSpec[] = rules.map(([effect, rule]) => ({rule, effect, source: 'test'}))
  return new Policy(specs).judge({tool_name: tool, tool_input: input, cwd: CWD, home: HOME})
}

const bash = (command: string) => ({command})
const file = (file_path: string) => ({file_path})

describe('policy rules (Claude Code syntax)', () => {
  // [rule, tool, input, matches?] — each rule is tried as an allow rule and as a deny rule.
  const table: Array<[string, string, unknown, boolean]> = [
    ['Bash', 'Bash', bash('anything at all'), true],
    ['Bash(*)', 'Bash', bash('rm -rf /'), true],
    ['Bash(npm run build)', 'Bash', bash('npm run build'), true],
    ['Bash(npm run build)', 'Bash', bash('npm run build --prod'), false],
    ['Bash(npm run test *)', 'Bash', bash('npm run test unit'), true],
    ['Bash(npm run test *)', 'Bash', bash('npm run test'), true],
    ['Bash(npm run test:*)', 'Bash', bash('npm run test --watch'), true],
    ['Bash(npm *)', 'Bash', bash('npm install'), true],
    ['Bash(* install)', 'Bash', bash('pip install'), true],
    ['Bash(git * main)', 'Bash', bash('git checkout main'), true],
    ['Bash(git * main)', 'Bash', bash('git log --oneline main'), true],
    ['Bash(git *)', 'Bash', bash('git log --oneline --all'), true],
    ['Bash(ls *)', 'Bash', bash('ls -la'), true],
    ['Bash(ls *)', 'Bash', bash('lsof'), false],
    ['Bash(ls*)', 'Bash', bash('lsof'), true],
    ['Bash(ls:*)', 'Bash', bash('ls -la'), true],
    ['Bash(git status *)', 'Bash', bash('git status --short'), true],
    ['Bash(npm test *)', 'Bash', bash('timeout 30 npm test'), true],
    ['Bash(npm test *)', 'Bash', bash('NODE_ENV=test npm test'), true],
    ['Bash(/^git (push|pull)\\b/)', 'Bash', bash('git push origin'), true],
    ['Bash(/^git (push|pull)\\b/)', 'Bash', bash('git pushx'), false],
    ['Bash(/^git\\s+push/)', 'Bash', bash('git \t push'), true],
    ['Bash(/^curl *evil/)', 'Bash', bash('curlevil'), true],
    ['Bash(/^rm -rf|^dd /)', 'Bash', bash('dd if=/dev/zero'), true],
    ['Bash(/^GIT push/i)', 'Bash', bash('git push'), true],
    ['Edit(src/**)', 'Edit', file('src/a/b.ts'), true],
    ['Edit(src/**)', 'Write', file(`${CWD}/src/new.ts`), true],
    ['Edit(src/**)', 'Edit', file('lib/a.ts'), false],
    ['Edit(/docs/**)', 'Edit', file('docs/x.md'), true],
    ['Edit(/docs/**)', 'Edit', file('/docs/x.md'), false],
    ['Read(~/.ssh/**)', 'Read', file('/home/alice/.ssh/id_rsa'), true],
    ['Read(~/.ssh/**)', 'Grep', {pattern: 'x', path: '/home/alice/.ssh'}, true],
    ['Read(~/.zshrc)', 'Read', file('~/.zshrc'), true],
    ['Write(//etc/**)', 'Write', file('/etc/passwd'), true],
    ['Write(//etc/**)', 'Write', file('/home/alice/etc/x'), false],
    ['Edit(//tmp/scratch.txt)', 'Edit', file('/tmp/scratch.txt'), true],
    ['Edit(//tmp/scratch.txt)', 'Edit', file('/tmp/scratch.txt.bak'), false],
    ['Read(//**)', 'Read', file('/etc/hosts'), true],
    ['Read(//etc/**)', 'Read', {pattern: 'x', path: '/etc'}, true],
    ['Read(//e*/hosts)', 'Read', file('/etc/hosts'), true],
    ['Read(./.env)', 'Read', file('.env'), true],
    ['Read(./.env)', 'Read', file('sub/.env'), false],
    ['Read(.env)', 'Read', file('sub/deeper/.env'), true],
    ['Read(*.env)', 'Read', file('a/prod.env'), true],
    ['Read(/\\.pem$/)', 'Read', file('keys/server.pem'), true],
    ['WebFetch(domain:example.com)', 'WebFetch', {url: 'https://example.com/page'}, true],
    ['WebFetch(domain:example.com)', 'WebFetch', {url: 'https://evil.com/?example.com'}, false],
    ['WebFetch(domain:*.example.com)', 'WebFetch', {url: 'https://api.example.com/'}, true],
    ['mcp__github__get_issue', 'mcp__github__get_issue', {}, true],
    ['mcp__github__*', 'mcp__github__create_pr', {}, true],
    ['mcp__github__*', 'mcp__gitlab__create_pr', {}, false],
    ['Agent(model:opus)', 'Agent', {model: 'opus'}, true],
    ['Agent(model:opus)', 'Agent', {model: 'sonnet'}, false],
  ]
  for (const [rule, tool, input, matches] of table) {
    it(`${rule} ${matches ? 'matches' : 'does not match'} ${tool} ${JSON.stringify(input)}`, () => {
      expect(judge([['deny', rule]], tool, input).decision).to.equal(
        matches ? 'deny' : tool === 'Read' || tool === 'Grep' ? 'allow' : 'ask',
      )
      const allowed = judge([['allow', rule]], tool, input)
      if (matches) expect(allowed).to.include({decision: 'allow', rule})
      else expect(allowed.rule).to.equal(null)
    })
  }

  it('deny beats ask beats allow, whatever the order and however specific', () => {
    expect(
      judge(
        [
          ['allow', 'Bash(aws s3 ls)'],
          ['deny', 'Bash(aws *)'],
        ],
        'Bash',
        bash('aws s3 ls'),
      ).decision,
    ).to.equal('deny')
    expect(
      judge(
        [
          ['allow', 'Bash(git push)'],
          ['ask', 'Bash(git *)'],
        ],
        'Bash',
        bash('git push'),
      ).decision,
    ).to.equal('ask')
    expect(
      judge(
        [
          ['ask', 'Bash(git *)'],
          ['deny', 'Bash(git push *)'],
        ],
        'Bash',
        bash('git push --force'),
      ).decision,
    ).to.equal('deny')
  })

  it('the default: read-only tools allowed, everything else asks', () => {
    for (const tool of ['Read', 'Glob', 'Grep', 'LS', 'NotebookRead', 'TodoWrite']) {
      expect(judge([], tool, {}), tool).to.include({decision: 'allow', rule: null, source: 'default'})
    }
    for (const tool of ['Bash', 'Edit', 'Write', 'WebFetch', 'mcp__x__y']) expect(judge([], tool, {}).decision, tool).to.equal('ask')
    // Overridable: a rule wins over the default.
    expect(judge([['ask', 'Read(~/.ssh/**)']], 'Read', file('~/.ssh/id_rsa')).decision).to.equal('ask')
  })

  it('compound commands: allowed only when every part is, denied when any part is', () => {
    const rules: Array<[Effect, string]> = [
      ['allow', 'Bash(npm test)'],
      ['allow', 'Bash(git status *)'],
      ['deny', 'Bash(git push *)'],
    ]
    expect(judge(rules, 'Bash', bash('git status && npm test')).decision).to.equal('allow')
    const asked = judge(rules, 'Bash', bash('npm test && rm -rf build'))
    expect(asked.decision).to.equal('ask')
    expect(asked.reason).to.contain('"rm -rf build"')
    expect(asked.parts!.map((p) => p.decision)).to.deep.equal(['allow', 'ask'])
    expect(judge(rules, 'Bash', bash('npm test; git push --force origin main')).decision).to.equal('deny')
    expect(judge(rules, 'Bash', bash('npm test $(git push --force)')).decision).to.equal('deny')
    expect(judge(rules, 'Bash', bash('npm test | (git status && curl x | sh)')).decision).to.equal('ask')
    expect(judge([['allow', 'Bash(echo *)']], 'Bash', bash('echo `rm -rf ~`')).decision).to.equal('ask')
  })

  it('an allow rule does not look past an unknown assignment; a deny rule does', () => {
    expect(judge([['allow', 'Bash(npm test)']], 'Bash', bash('PATH=. npm test')).decision).to.equal('ask')
    expect(judge([['deny', 'Bash(rm *)']], 'Bash', bash('FOO=bar rm -rf tmp/')).decision).to.equal('deny')
  })

  it('an unanchored tool-name glob works in deny and ask rules, and is refused in an allow rule', () => {
    expect(judge([['deny', 'mcp__*']], 'mcp__any__tool', {}).decision).to.equal('deny')
    expect(judge([['ask', '*']], 'Read', {}).decision).to.equal('ask')
    expect(() => parseRule('*', 'allow')).to.throw(/position 1: an allow rule may use \* in the tool name only after mcp__<server>__/)
    expect(() => parseRule('mcp__*', 'allow')).to.throw(/only after mcp__<server>__/)
  })

  it('bad syntax names the rule and the position', () => {
    expect(() => parseRule('Bash(npm test', 'allow')).to.throw('Rule "Bash(npm test" (allow), at position 14: expected ")"')
    expect(() => parseRule('Ba sh', 'deny')).to.throw('Rule "Ba sh" (deny), at position 3: " " cannot be part of a tool name')
    expect(() => parseRule('Bash()', 'deny')).to.throw(/at position 6: empty parentheses/)
    expect(() => parseRule('Bash(/a(b/)', 'deny')).to.throw(/at position 6: bad regular expression/)
    expect(() => parseRule('WebFetch(example.com)', 'allow')).to.throw(/at position 10: WebFetch takes domain:HOST/)
    expect(() => parseRule('(Bash)', 'allow')).to.throw(/at position 1: expected a tool name/)
  })

  it('match / not_match examples are checked when the policy loads', () => {
    const ok: RuleSpec = {
      rule: 'Bash(npm run test:*)',
      effect: 'allow',
      source: 'file',
      match: ['npm run test --watch', 'npm run test'],
      not_match: ['npm run test:unit', 'npm run build', 'npm run test && rm x'],
    }
    expect(() => new Policy([ok])).not.to.throw()
    const bad: RuleSpec = {rule: 'Bash(git push *)', effect: 'deny', source: 'policy file p.json', match: ['git  push --force']}
    expect(() => new Policy([bad])).to.throw(
      'Rule "Bash(git push *)" (deny, policy file p.json) does not match its match example "git  push --force"',
    )
    const wrong: RuleSpec = {rule: 'Read(~/.ssh/**)', effect: 'deny', source: 'f', not_match: ['~/.ssh/id_rsa']}
    expect(() => new Policy([wrong])).to.throw(/matches its not_match example/)
  })

  it('among rules of one effect, the first given decides, whether it is looked up by its word or path or tried as a regex', () => {
    expect(
      judge(
        [
          ['deny', 'Bash(/push/)'],
          ['deny', 'Bash(git push *)'],
        ],
        'Bash',
        bash('git push'),
      ).rule,
    ).to.equal('Bash(/push/)')
    expect(
      judge(
        [
          ['deny', 'Bash(git push *)'],
          ['deny', 'Bash(/push/)'],
        ],
        'Bash',
        bash('git push'),
      ).rule,
    ).to.equal('Bash(git push *)')
    expect(
      judge(
        [
          ['deny', 'Read(/id_rsa/)'],
          ['deny', 'Read(~/.ssh/**)'],
        ],
        'Read',
        file('~/.ssh/id_rsa'),
      ).rule,
    ).to.equal('Read(/id_rsa/)')
    expect(
      judge(
        [
          ['deny', 'Read(~/.ssh/**)'],
          ['deny', 'Read(/id_rsa/)'],
        ],
        'Read',
        file('~/.ssh/id_rsa'),
      ).rule,
    ).to.equal('Read(~/.ssh/**)')
    expect(
      judge(
        [
          ['allow', 'Bash(npm *)'],
          ['allow', 'Bash(npm test)'],
        ],
        'Bash',
        bash('npm test'),
      ).rule,
    ).to.equal('Bash(npm *)')
  })

  it('one policy judges calls from different working directories each by its own', () => {
    const policy = new Policy([
      {rule: 'Edit(src/**)', effect: 'allow', source: 't'},
      {rule: 'Edit(/secret/**)', effect: 'deny', source: 't'},
    ])
    const edit = (cwd: string, path: string) => policy.judge({tool_name: 'Edit', tool_input: file(path), cwd, home: HOME}).decision
    expect(edit('/a', '/a/src/x.ts')).to.equal('allow')
    expect(edit('/b', '/a/src/x.ts')).to.equal('ask')
    expect(edit('/b', '/b/src/x.ts')).to.equal('allow')
    expect(edit('/b', '/b/secret/k')).to.equal('deny')
    expect(edit('/a', '/b/secret/k')).to.equal('ask')
    expect(edit('/a', '/a/src/y.ts')).to.equal('allow')
  })

  it('a policy of 1,000 rules decides every call as trying each rule in turn would', () => {
    const specs: RuleSpec[] = []
    for (let i = 0; specs.length < 1000; i++) {
      specs.push(
        {rule: `Bash(tool${i % 50} run *)`, effect: 'allow', source: 't'},
        {rule: `Bash(deploy${i % 40} *)`, effect: i % 3 ? 'deny' : 'ask', source: 't'},
        {rule: `Edit(packages/p${i % 30}/**)`, effect: i % 2 ? 'allow' : 'ask', source: 't'},
        {rule: `Read(~/secret${i % 20}/**)`, effect: 'deny', source: 't'},
        {rule: `mcp__server${i % 10}__*`, effect: i % 2 ? 'ask' : 'allow', source: 't'},
        {rule: i % 2 ? `Bash(/^curl .*evil${i % 25}\\.com/)` : `Bash(/evil${i % 25}/)`, effect: 'deny', source: 't'},
        {rule: `WebFetch(domain:site${i % 30}.example.com)`, effect: i % 4 ? 'allow' : 'deny', source: 't'},
        {rule: i % 2 ? `Read(packages/p${i % 30}/*.md)` : `Edit(//tmp/out${i % 10}/**)`, effect: 'ask', source: 't'},
      )
    }
    const policy = new Policy(specs)
    const parsed = specs.map((spec) => parseRule(spec.rule, spec.effect))
    const calls: Array<[string, unknown]> = []
    for (let i = 0; i < 60; i++) {
      calls.push(
        ['Bash', bash(`tool${i} run --fast`)],
        ['Bash', bash(`deploy${i} prod`)],
        ['Bash', bash(`curl https://evil${i}.com/x`)],
        ['Bash', bash(`echo evil${i}`)],
        ['Edit', file(`packages/p${i}/src/index.ts`)],
        ['Write', file(`/tmp/out${i}/a`)],
        ['Read', file(`~/secret${i}/key`)],
        ['Read', file(`packages/p${i}/README.md`)],
        ['Grep', {pattern: 'x', path: `packages/p${i}`}],
        ['WebFetch', {url: `https://site${i}.example.com/x`}],
        [`mcp__server${i}__do`, {}],
      )
    }
    let decided = 0
    for (const [tool, input] of calls) {
      const call = {tool_name: tool, tool_input: input, cwd: CWD, home: HOME}
      const expected = (['deny', 'ask', 'allow'] as const)
        .map((effect) => parsed.find((rule) => rule.effect === effect && ruleMatches(rule, call)))
        .find((rule) => rule !== undefined)
      const got = policy.judge(call)
      expect(got.rule, `${tool} ${JSON.stringify(input)}`).to.equal(expected?.text ?? null)
      if (expected) expect(got.decision).to.equal(expected.effect)
      if (expected) decided++
    }
    expect(decided).to.be.greaterThan(calls.length / 3)
  })

  it('per-rule timeouts travel with an ask', () => {
    const policy = new Policy([{rule: 'Bash(deploy *)', effect: 'ask', source: 'f', timeout_ms: 60_000, on_timeout: 'allow'}])
    expect(policy.judge({tool_name: 'Bash', tool_input: bash('deploy prod'), cwd: CWD, home: HOME})).to.include({
      decision: 'ask',
      timeout_ms: 60_000,
      on_timeout: 'allow',
    })
  })

  describe('built-in rules', () => {
    const paths = {
      socketPath: '/home/alice/.humanlayer/daemon.sock',
      databasePath: '/home/alice/.humanlayer/daemon.db',
      configDir: '/home/alice/.config/humanlayer',
      httpTokenFile: '/home/alice/.humanlayer/http-token',
      mcpConfigDirs: '/tmp/hld-mcp-0123456789ab-*',
    }
    const policy = new Policy(
      [
        {rule: 'Bash', effect: 'allow', source: 'file'},
        {rule: 'Edit', effect: 'allow', source: 'file'},
      ],
      builtInRules(paths),
    )
    const call = (tool: string, input: unknown) => policy.judge({tool_name: tool, tool_input: input, cwd: CWD, home: HOME})
    for (const command of [
      'hld approvals approve local-123',
      'npx hld approvals deny abc --comment x',
      'cd /tmp && node ~/hld/bin/run.js approvals approve x',
      'echo \'{"method":"sendDecision"}\' | nc -U ~/.humanlayer/daemon.sock',
      'sqlite3 /home/alice/.humanlayer/daemon.db "update approvals set status=\'approved\'"',
      'cat > /home/alice/.config/humanlayer/policy.json',
      'cat ~/.humanlayer/http-token',
      'curl -H "Authorization: Bearer $(cat $HOME/.humanlayer/http-token)" http://127.0.0.1:7777/api/v1/approvals',
      'cd ~/.humanlayer && cat http-token',
      'grep api_key ~/.config/humanlayer/daemon.json',
      'cat /tmp/hld-mcp-0123456789ab-XyZ/mcp-config.json',
    ]) {
      it(`deny, even with Bash allowed: ${command}`, () => {
        expect(call('Bash', bash(command))).to.include({decision: 'deny', source: 'built-in'})
      })
    }
    it('deny edits of the policy and reads of the database; leave others alone', () => {
      expect(call('Write', file('/home/alice/.config/humanlayer/policy.json')).decision).to.equal('deny')
      expect(call('Read', file('/home/alice/.humanlayer/daemon.db-wal')).decision).to.equal('deny')
      expect(call('Bash', bash('hld approvals list'))).to.include({decision: 'allow'})
      expect(call('Edit', file('src/x.ts'))).to.include({decision: 'allow'})
    })
    it("deny reads of hld's secrets (the REST token, daemon.json, the sessions' MCP configs) by any reading tool", () => {
      for (const [tool, input] of [
        ['Read', file('/home/alice/.humanlayer/http-token')],
        ['Read', file('~/.humanlayer/http-token')],
        ['Grep', {pattern: '.', path: '/home/alice/.humanlayer/http-token'}],
        ['Read', file('/home/alice/.config/humanlayer/daemon.json')],
        ['Read', file('/tmp/hld-mcp-0123456789ab-XyZ/mcp-config.json')],
        ['Write', file('/home/alice/.humanlayer/http-token')],
      ] as const) {
        expect(call(tool, input), `${tool} ${JSON.stringify(input)}`).to.include({decision: 'deny', source: 'built-in'})
      }
      expect(call('Read', file('/home/alice/.humanlayer/notes.txt'))).to.include({decision: 'allow'})
      expect(call('Read', file('/tmp/hld-mcp-other-XyZ/mcp-config.json'))).to.include({decision: 'allow'})
      expect(call('Bash', bash('cat README.md http-token.md'))).to.include({decision: 'allow'})
    })
  })
})
