import {expect} from 'chai'

import {readableLogLine} from '../../../src/cli/logs.js'
import {timestamp} from '../../../src/cli/render/time.js'

describe('one time format for people', () => {
  // Built from local components, so the expectations hold in any time zone.
  const at = new Date(2026, 4, 1, 14, 3, 7, 123).toISOString()
  const sameDay = new Date(2026, 4, 1, 23, 59)
  const nextDay = new Date(2026, 4, 2, 0, 1)

  it('is local time, with the date only when it is not today', () => {
    expect(timestamp(at, {now: sameDay})).to.equal('14:03:07')
    expect(timestamp(at, {now: nextDay})).to.equal('2026-05-01 14:03:07')
    expect(timestamp(at, {now: sameDay, ms: true})).to.equal('14:03:07.123')
    expect(timestamp('not a time \u001B[2J')).to.equal('not a time \\x1b[2J')
  })

  it('is what daemon logs shows, with the fields after the message', () => {
    const line = JSON.stringify({time: at, level: 'error', msg: 'boom', component: 'rpc', method: 'health', error: {message: 'a b'}})
    expect(readableLogLine(line, nextDay)).to.equal('2026-05-01 14:03:07.123 error [rpc] boom method=health error={"message":"a b"}')
    expect(readableLogLine('Node crashed \u001B[31mred', nextDay)).to.equal('Node crashed \\x1b[31mred')
  })
})
