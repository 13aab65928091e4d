import {expect} from 'chai'

import {HostError, parseHostsMap, parseSshUrl, resolveHost} from '../../../src/config/hosts.js'

describe('host addresses', () => {
  it('parses ssh://[user@]host[:port], IPv6 included', () => {
    expect(parseSshUrl('ssh://devbox', 'x')).to.deep.equal({host: 'devbox'})
    expect(parseSshUrl('ssh://me@devbox', 'x')).to.deep.equal({host: 'devbox', user: 'me'})
    expect(parseSshUrl('ssh://ci@runner.example.com:2222', 'x')).to.deep.equal({host: 'runner.example.com', user: 'ci', port: 2222})
    expect(parseSshUrl('ssh://[::1]:2222', 'x')).to.deep.equal({host: '::1', port: 2222})
  })

  it('refuses what ssh would misread or what is not an ssh address, saying where it came from', () => {
    for (const [text, why] of [
      ['devbox', 'only ssh://'],
      ['http://devbox', 'only ssh://'],
      ['ssh://me:secret@devbox', 'passwords'],
      ['ssh://devbox/path', 'path'],
      ['ssh://-oProxyCommand=x', 'misread'],
      ['ssh://-me@devbox', 'user'],
      ['ssh://me;rm@devbox', 'user'],
    ] as const) {
      expect(() => parseSshUrl(text, 'hosts.a'), text)
        .to.throw(HostError, why)
        .with.property('message')
        .that.match(/^hosts\.a: /)
    }
  })

  it('resolves local, names from the hosts map, and addresses', () => {
    const hosts = {devbox: 'ssh://me@devbox:2200'}
    expect(resolveHost('local', hosts)).to.deep.equal({name: 'local', kind: 'local'})
    expect(resolveHost('devbox', hosts)).to.deep.include({name: 'devbox', kind: 'ssh', url: 'ssh://me@devbox:2200'})
    expect(resolveHost('ssh://ci@runner', hosts)).to.deep.include({kind: 'ssh', target: {host: 'runner', user: 'ci'}})
    expect(() => resolveHost('laptop', hosts)).to.throw(HostError, /no host named "laptop".*\(devbox\)/)
    expect(() => resolveHost('toString', {})).to.throw(HostError, 'none are set')
  })

  it('validates the hosts map of daemon.json by name and address', () => {
    expect(parseHostsMap(undefined, 'f')).to.deep.equal({})
    expect(parseHostsMap({a: 'ssh://a', 'b-2.x': 'ssh://u@b:22'}, 'f')).to.deep.equal({a: 'ssh://a', 'b-2.x': 'ssh://u@b:22'})
    expect(() => parseHostsMap(['ssh://a'], 'f')).to.throw(HostError, 'must be an object')
    expect(() => parseHostsMap({local: 'ssh://a'}, 'f')).to.throw(HostError, 'not allowed')
    expect(() => parseHostsMap({'dev:box': 'ssh://a'}, 'f')).to.throw(HostError, "no ':'")
    expect(() => parseHostsMap({a: 22}, 'f')).to.throw(HostError, 'hosts.a must be')
    expect(() => parseHostsMap({a: 'a.example'}, 'f')).to.throw(HostError, 'hosts.a')
  })
})
