import {expect} from 'chai'

import {hoistGlobalFlags, isLeanDialStdio} from '../../../src/cli/argv.js'

describe('bin/run.js arguments', () => {
  it('moves global flags written before the command behind it, and before a --', () => {
    expect(hoistGlobalFlags(['approvals', 'list'])).to.deep.equal(['approvals', 'list'])
    expect(hoistGlobalFlags(['--host', 'devbox', 'approvals', 'list', '--json'])).to.deep.equal([
      'approvals',
      'list',
      '--json',
      '--host',
      'devbox',
    ])
    expect(hoistGlobalFlags(['--hosts=a,b', '--socket', '/s', 'session', 'list'])).to.deep.equal([
      'session',
      'list',
      '--hosts=a,b',
      '--socket',
      '/s',
    ])
    expect(hoistGlobalFlags(['--host', 'd', 'session', 'launch', '--', '--host'])).to.deep.equal([
      'session',
      'launch',
      '--host',
      'd',
      '--',
      '--host',
    ])
    expect(hoistGlobalFlags(['--version'])).to.deep.equal(['--version'])
    expect(hoistGlobalFlags(['--host'])).to.deep.equal(['--host'])
  })

  it('takes the lean dial-stdio path only for arguments it understands', () => {
    expect(isLeanDialStdio(['daemon', 'dial-stdio'])).to.equal(true)
    expect(isLeanDialStdio(['daemon', 'dial-stdio', '--no-autostart'])).to.equal(true)
    expect(isLeanDialStdio(['daemon', 'dial-stdio', '--help'])).to.equal(false)
    expect(isLeanDialStdio(['daemon', 'status'])).to.equal(false)
  })
})
