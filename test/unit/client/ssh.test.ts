import {expect} from 'chai'

import {SshError, quoteWord, splitWords, sshCommand} from '../../../src/client/ssh.js'

describe('ssh command lines', () => {
  it('splits HUMANLAYER_SSH_COMMAND-style words with quotes and backslashes, without expansions', () => {
    expect(splitWords('ssh', 'x')).to.deep.equal(['ssh'])
    expect(splitWords('  ssh   -F /tmp/c  ', 'x')).to.deep.equal(['ssh', '-F', '/tmp/c'])
    expect(splitWords(`ssh -i "/a b/key" -o 'ProxyJump=j h' a\\ b ""`, 'x')).to.deep.equal([
      'ssh',
      '-i',
      '/a b/key',
      '-o',
      'ProxyJump=j h',
      'a b',
      '',
    ])
    expect(splitWords('echo "a\\"b" $HOME', 'x')).to.deep.equal(['echo', 'a"b', '$HOME'])
    expect(() => splitWords('ssh "-F', 'HUMANLAYER_SSH_COMMAND')).to.throw(SshError, 'HUMANLAYER_SSH_COMMAND has an unterminated " quote')
    expect(() => splitWords('  ', 'HUMANLAYER_REMOTE_HLD')).to.throw(SshError, 'HUMANLAYER_REMOTE_HLD is empty')
  })

  it('quotes words for the remote shell so they arrive as they were', () => {
    expect(quoteWord('hld')).to.equal('hld')
    expect(quoteWord('HOME=/tmp/x')).to.equal('HOME=/tmp/x')
    expect(quoteWord('a b')).to.equal("'a b'")
    expect(quoteWord("it's; rm -rf ~")).to.equal(`'it'\\''s; rm -rf ~'`)
    expect(quoteWord('')).to.equal("''")
  })

  it('builds <ssh> [-p port] [user@]host -- <remote hld> daemon dial-stdio', () => {
    expect(sshCommand({host: 'devbox'}, {env: {}})).to.deep.equal(['ssh', 'devbox', '--', 'hld daemon dial-stdio'])
    expect(
      sshCommand(
        {host: 'runner', user: 'ci', port: 2222},
        {
          env: {HUMANLAYER_SSH_COMMAND: 'ssh -F "/tmp/my config"', HUMANLAYER_REMOTE_HLD: "env HOME='/h x' node /o/bin/run.js"},
          dialArgs: ['--no-autostart'],
        },
      ),
    ).to.deep.equal([
      'ssh',
      '-F',
      '/tmp/my config',
      '-p',
      '2222',
      'ci@runner',
      '--',
      "env 'HOME=/h x' node /o/bin/run.js daemon dial-stdio --no-autostart",
    ])
  })
})
