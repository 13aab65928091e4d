import {expect} from 'chai'

import {CommandError} from '../../../src/cli/context.js'
import {askHosts, ownerOf, reportFailures, splitQualifiedId} from '../../../src/cli/fan-in.js'
import type {HostSpec} from '../../../src/config/hosts.js'
import {ErrorCode, RpcError} from '../../../src/protocol/errors.js'

const host = (name: string): HostSpec => ({name, kind: 'local'})

describe('fan-in', () => {
  it('asks every host at once: a slow host times out alone, the others answer', async () => {
    const fanIn = await askHosts(
      [host('a'), host('slow'), host('b')],
      (h) => (h.name === 'slow' ? new Promise<string>(() => {}) : Promise.resolve(h.name.toUpperCase())),
      50,
    )
    expect(fanIn.answers.map((a) => a.value)).to.deep.equal(['A', 'B'])
    expect(fanIn.failures.map((f) => [f.host.name, f.error.message])).to.deep.equal([
      ['slow', 'slow did not answer within 50 ms (host_timeout_ms)'],
    ])
  })

  it('reports failures as lines and entries, and fails only when every host failed', () => {
    const lines: string[] = []
    const errors = reportFailures(
      {answers: [{host: host('a'), value: 1}], failures: [{host: host('b'), error: new Error('down\nssh: refused')}]},
      (l) => lines.push(l),
    )
    expect(errors).to.deep.equal([{host: 'b', error: 'down\nssh: refused'}])
    expect(lines).to.deep.equal(['b: down ssh: refused'])
    expect(() =>
      reportFailures({answers: [], failures: [{host: host('b'), error: Object.assign(new Error('x'), {name: 'SshError'})}]}, () => {}),
    ).to.throw(CommandError, 'No host answered')
  })

  it('splits host-qualified ids only at a known host', () => {
    const known = (name: string) => (name === 'devbox' ? host('devbox') : undefined)
    expect(splitQualifiedId('devbox:9c1e', known)).to.deep.include({id: '9c1e'}).and.have.nested.property('host.name', 'devbox')
    expect(splitQualifiedId('9c1e', known)).to.deep.equal({id: '9c1e'})
    expect(splitQualifiedId('other:9c1e', known)).to.deep.equal({id: 'other:9c1e'})
    expect(splitQualifiedId('devbox:', known)).to.deep.equal({id: 'devbox:'})
  })

  it('finds the one owner of an id, or says why not', () => {
    const notFound = new RpcError(ErrorCode.NotFound, 'no')
    expect(
      ownerOf('9c', {answers: [{host: host('a'), value: 1}], failures: [{host: host('b'), error: notFound}]}, 'approval').host.name,
    ).to.equal('a')
    expect(() =>
      ownerOf(
        '9c',
        {
          answers: [
            {host: host('a'), value: 1},
            {host: host('b'), value: 2},
          ],
          failures: [],
        },
        'approval',
      ),
    ).to.throw(CommandError, 'qualify it: a:9c, b:9c')
    expect(() =>
      ownerOf(
        '9c',
        {
          answers: [],
          failures: [
            {host: host('a'), error: notFound},
            {host: host('b'), error: new Error('refused')},
          ],
        },
        'session',
      ),
    ).to.throw(RpcError, 'No session 9c on a; not asked, as they did not answer: b (refused)')
  })
})
