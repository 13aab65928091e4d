import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {ConfigError, configFilePath, loadConfig} from '../../../src/config/index.js'

describe('config', () => {
  let home: string
  let env: NodeJS.ProcessEnv

  beforeEach(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'hld-config-'))
    env = {HOME: home}
  })

  afterEach(() => rmSync(home, {recursive: true, force: true}))

  function writeConfigFile(values: unknown, file = path.join(home, '.config', 'humanlayer', 'daemon.json')): string {
    mkdirSync(path.dirname(file), {recursive: true})
    writeFileSync(file, typeof values === 'string' ? values : JSON.stringify(values))
    return file
  }

  it('uses defaults under HOME when nothing is set', () => {
    const config = loadConfig({}, env)
    expect(config.socket_path).to.equal(path.join(home, '.humanlayer', 'daemon.sock'))
    expect(config.database_path).to.equal(path.join(home, '.humanlayer', 'daemon.db'))
    expect(config.log_file).to.equal(path.join(home, '.humanlayer', 'logs', 'daemon.log'))
    expect(config.api_base_url).to.equal('https://api.humanlayer.dev/humanlayer/v1')
    expect(config.poll_interval_ms).to.equal(5000)
    expect(config.max_frame_bytes).to.equal(10 * 1024 * 1024)
    expect(config.log_level).to.equal('info')
    expect(config.api_key).to.equal(undefined)
    expect(config.sources.socket_path).to.equal('default')
  })

  it('applies flags over environment over file over defaults', () => {
    writeConfigFile({socket_path: '~/from-file.sock', database_path: '~/file.db', poll_interval_ms: 700, log_level: 'warn'})
    env.HUMANLAYER_DAEMON_SOCKET = '/tmp/from-env.sock'
    env.HUMANLAYER_DATABASE_PATH = '/tmp/env.db'
    const config = loadConfig({socket_path: '/tmp/from-flag.sock'}, env)
    expect(config.socket_path).to.equal('/tmp/from-flag.sock')
    expect(config.sources.socket_path).to.equal('flag')
    expect(config.database_path).to.equal('/tmp/env.db')
    expect(config.sources.database_path).to.equal('environment')
    expect(config.poll_interval_ms).to.equal(700)
    expect(config.sources.poll_interval_ms).to.equal('config file')
    expect(config.log_level).to.equal('warn')
  })

  it('expands ~ in paths from the file', () => {
    writeConfigFile({database_path: '~/data/hld.db'})
    expect(loadConfig({}, env).database_path).to.equal(path.join(home, 'data', 'hld.db'))
  })

  it('keeps :memory: as is', () => {
    env.HUMANLAYER_DATABASE_PATH = ':memory:'
    expect(loadConfig({}, env).database_path).to.equal(':memory:')
  })

  it('honours XDG_CONFIG_HOME and HUMANLAYER_CONFIG_FILE for the file location', () => {
    env.XDG_CONFIG_HOME = path.join(home, 'xdg')
    expect(configFilePath(env)).to.equal(path.join(home, 'xdg', 'humanlayer', 'daemon.json'))
    const custom = writeConfigFile({poll_interval_ms: 1234}, path.join(home, 'custom.json'))
    env.HUMANLAYER_CONFIG_FILE = custom
    expect(loadConfig({}, env).poll_interval_ms).to.equal(1234)
  })

  it('accepts HUMANLAYER_API_BASE as an alias, HUMANLAYER_API_BASE_URL first', () => {
    env.HUMANLAYER_API_BASE = 'http://127.0.0.1:9/alias'
    expect(loadConfig({}, env).api_base_url).to.equal('http://127.0.0.1:9/alias')
    env.HUMANLAYER_API_BASE_URL = 'http://127.0.0.1:9/main'
    expect(loadConfig({}, env).api_base_url).to.equal('http://127.0.0.1:9/main')
  })

  it('turns HUMANLAYER_DEBUG=true into debug logging', () => {
    env.HUMANLAYER_DEBUG = 'true'
    expect(loadConfig({}, env).log_level).to.equal('debug')
  })

  it('names the variable when an environment value is malformed', () => {
    env.HUMANLAYER_POLL_INTERVAL_MS = 'soon'
    expect(() => loadConfig({}, env)).to.throw(
      ConfigError,
      /poll_interval_ms from environment variable HUMANLAYER_POLL_INTERVAL_MS: "soon"/,
    )
  })

  it('names the key and the file when a file value is malformed', () => {
    const file = writeConfigFile({log_level: 'loud'})
    expect(() => loadConfig({}, env)).to.throw(ConfigError, new RegExp(`log_level from key "log_level" in the config file \\(${file}\\)`))
  })

  it('rejects a config file that is not JSON, naming the file', () => {
    const file = writeConfigFile('{socket_path: nope')
    expect(() => loadConfig({}, env)).to.throw(ConfigError, new RegExp(`Config file ${file} is not valid JSON`))
  })

  it('reads named hosts from the file, and names the file and host when one is malformed', () => {
    expect(loadConfig({}, env).hosts).to.deep.equal({})
    writeConfigFile({hosts: {devbox: 'ssh://me@devbox', ci: 'ssh://ci@runner:2222'}})
    expect(loadConfig({}, env).hosts).to.deep.equal({devbox: 'ssh://me@devbox', ci: 'ssh://ci@runner:2222'})
    const file = writeConfigFile({hosts: {devbox: 'me@devbox'}})
    expect(() => loadConfig({}, env)).to.throw(ConfigError, `Config file ${file}, hosts.devbox: "me@devbox" is not a usable ssh address`)
  })

  it('rejects unknown keys in the file, listing the known ones', () => {
    writeConfigFile({sokcet_path: '/tmp/x.sock'})
    expect(() => loadConfig({}, env)).to.throw(ConfigError, /unknown key sokcet_path; known keys: socket_path/)
  })

  it('never shows the api_key, not even when it is invalid', () => {
    writeConfigFile({api_key: 12_345})
    let message = ''
    try {
      loadConfig({}, env)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).to.contain('api_key').and.contain('<redacted>').and.not.contain('12345')
  })
})
