import {expect} from 'chai'

import {buildClaudeArgs} from '../../../../src/daemon/sessions/args.js'

describe('buildClaudeArgs', () => {
  it('always streams JSON verbosely and puts the query last, after --print --', () => {
    expect(buildClaudeArgs({query: '--help me'})).to.deep.equal([
      '--output-format',
      'stream-json',
      '--verbose',
      '--print',
      '--',
      '--help me',
    ])
  })

  it('orders every flag as the Go daemon does', () => {
    const args = buildClaudeArgs({
      query: 'q',
      resume: 'sid',
      model: 'sonnet',
      mcpConfigFile: '/tmp/m.json',
      permissionPromptTool: 'mcp__approvals__request_permission',
      maxTurns: 3,
      systemPrompt: 'sys',
      appendSystemPrompt: 'more',
      allowedTools: ['Read', 'Bash(ls:*)'],
      disallowedTools: ['Write'],
      additionalDirectories: ['/a', '/b'],
    })
    expect(args).to.deep.equal([
      '--resume',
      'sid',
      '--fork-session',
      '--model',
      'sonnet',
      '--output-format',
      'stream-json',
      '--verbose',
      '--mcp-config',
      '/tmp/m.json',
      '--permission-prompt-tool',
      'mcp__approvals__request_permission',
      '--max-turns',
      '3',
      '--system-prompt',
      'sys',
      '--append-system-prompt',
      'more',
      '--allowedTools',
      'Read,Bash(ls:*)',
      '--disallowedTools',
      'Write',
      '--add-dir',
      '/a',
      '--add-dir',
      '/b',
      '--print',
      '--',
      'q',
    ])
  })

  it('leaves out empty lists and a zero turn budget', () => {
    expect(buildClaudeArgs({query: 'q', allowedTools: [], maxTurns: 0})).to.deep.equal([
      '--output-format',
      'stream-json',
      '--verbose',
      '--print',
      '--',
      'q',
    ])
  })
})
