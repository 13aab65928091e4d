import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

import {expect} from 'chai'

import {raceTimer, settlesWithin} from '../../../src/shared/timers.js'

const timersModule = fileURLToPath(new URL('../../../src/shared/timers.ts', import.meta.url))

describe('raceTimer and settlesWithin', () => {
  it('gives the promise its answer when it is first', async () => {
    expect(await raceTimer(Promise.resolve('answer'), 60_000, () => 'late')).to.equal('answer')
  })

  it('leaves no timer behind: a process whose race is won exits instead of waiting out the ten minutes', () => {
    const script = `const {raceTimer} = await import(${JSON.stringify(timersModule)}); console.log(await raceTimer(Promise.resolve('won'), 600000, () => 'late'))`
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
    })
    expect(output.trim()).to.equal('won')
  })

  it('gives the timeout its value, or its error, when the promise is slower', async () => {
    const never = new Promise<string>(() => {})
    expect(await raceTimer(never, 5, () => 'timed out')).to.equal('timed out')
    const error = await raceTimer(never, 5, () => {
      throw new Error('no answer within 5 ms')
    }).catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(Error).with.property('message', 'no answer within 5 ms')
  })

  it('passes on the promise rejecting first', async () => {
    const error = await raceTimer(Promise.reject(new Error('refused')), 60_000, () => 'late').catch((error_: unknown) => error_)
    expect(error).to.be.instanceOf(Error).with.property('message', 'refused')
  })

  it('settlesWithin counts a rejection as settled and a silent promise as not', async () => {
    expect(await settlesWithin(Promise.reject(new Error('x')), 60_000)).to.equal(true)
    expect(await settlesWithin(new Promise(() => {}), 5)).to.equal(false)
  })
})
