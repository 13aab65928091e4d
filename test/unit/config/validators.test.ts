import {expect} from 'chai'

import {ConfigError, loadConfig} from '../../../src/config/index.js'
import {nonEmptyString, oneOf, positiveInt, url} from '../../../src/config/validators.js'

const accepts = (validator: {safeParse(value: unknown): {success: boolean; data?: unknown}}, value: unknown) => {
  const result = validator.safeParse(value)
  return result.success ? {data: result.data} : false
}

describe('config validators', () => {
  it('positiveInt takes positive integers, also as the strings environment variables are', () => {
    expect(accepts(positiveInt, 5)).to.deep.equal({data: 5})
    expect(accepts(positiveInt, '250')).to.deep.equal({data: 250})
    for (const bad of [0, -1, 1.5, '0', '-3', '1.5', 'abc', '', ' ', true, null, [], {}]) {
      expect(accepts(positiveInt, bad), JSON.stringify(bad)).to.equal(false)
    }
  })

  it('nonEmptyString, optional, oneOf and url say what they expected', () => {
    expect(accepts(nonEmptyString, 'x')).to.deep.equal({data: 'x'})
    expect(accepts(nonEmptyString, '')).to.equal(false)
    expect(accepts(nonEmptyString.optional(), undefined)).to.deep.equal({data: undefined})
    expect(accepts(nonEmptyString.optional(), 3)).to.equal(false)
    expect(accepts(oneOf(['a', 'b']), 'b')).to.deep.equal({data: 'b'})
    expect(oneOf(['a', 'b']).safeParse('c')).to.deep.equal({success: false, error: {issues: [{message: 'expected one of a, b'}]}})
    expect(accepts(url(['http', 'https']), 'https://api.example.test/v1')).to.deep.equal({data: 'https://api.example.test/v1'})
    for (const bad of ['ftp://x', 'api.example.test', '', 7]) expect(accepts(url(['http', 'https']), bad), String(bad)).to.equal(false)
  })

  it('loadConfig names the key, where the value came from, and what was expected', () => {
    const env = {HOME: '/nonexistent', HUMANLAYER_CONFIG_FILE: '/nonexistent/daemon.json'}
    expect(() => loadConfig({}, {...env, HUMANLAYER_POLL_INTERVAL_MS: 'soon'}))
      .to.throw(ConfigError)
      .with.property(
        'message',
        'Invalid poll_interval_ms from environment variable HUMANLAYER_POLL_INTERVAL_MS: "soon": expected a positive integer',
      )
    expect(() => loadConfig({}, {...env, HUMANLAYER_API_KEY: ''})).not.to.throw()
    expect(loadConfig({max_frame_bytes: '4096'}, env).max_frame_bytes).to.equal(4096)
  })
})
