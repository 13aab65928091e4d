import {mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {expect} from 'chai'

import {StoreError, openStore} from '../../../src/daemon/store/index.js'

describe('openStore', () => {
  let dir: string

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'hld-store-'))
  })

  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  it('opens :memory: with migrations applied', () => {
    const store = openStore(':memory:')
    try {
      const tables = store.sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {name: string}[]
      expect(tables.map((t) => t.name)).to.include('daemon_meta')
      expect(store.sqlite.pragma('foreign_keys', {simple: true})).to.equal(1)
    } finally {
      store.close()
    }
  })

  it('creates a file database in WAL mode, no busy timeout (writes wait in Store.write), in a 0700 directory', () => {
    const file = path.join(dir, 'nested', 'daemon.db')
    const store = openStore(file)
    try {
      expect(store.sqlite.pragma('journal_mode', {simple: true})).to.equal('wal')
      expect(store.sqlite.pragma('busy_timeout', {simple: true})).to.equal(0)
    } finally {
      store.close()
    }
    expect(statSync(path.dirname(file)).mode & 0o777).to.equal(0o700)
  })

  it('re-opens an existing database without re-running migrations', () => {
    const file = path.join(dir, 'daemon.db')
    openStore(file).close()
    const store = openStore(file)
    try {
      const applied = store.sqlite.prepare('SELECT COUNT(*) AS n FROM __drizzle_migrations').get() as {n: number}
      expect(applied.n).to.be.greaterThan(0)
      const again = store.sqlite.prepare('SELECT COUNT(*) AS n FROM __drizzle_migrations').get() as {n: number}
      expect(again.n).to.equal(applied.n)
    } finally {
      store.close()
    }
  })

  it('runs a commit participant inside every transaction it commits, and after each commit, not after one that failed', async () => {
    const store = openStore(path.join(dir, 'daemon.db'))
    const count = (key: string) => (store.sqlite.prepare('SELECT COUNT(*) AS n FROM daemon_meta WHERE key = ?').get(key) as {n: number}).n
    const put = (key: string) => store.sqlite.prepare('INSERT OR REPLACE INTO daemon_meta (key, value) VALUES (?, ?)').run(key, 'v')
    const heard: string[] = []
    let fail = false
    const leave = store.joinCommits({
      beforeCommit: () => {
        heard.push(`before:${store.sqlite.inTransaction}`)
        put('participant')
        if (fail) throw new Error('participant failed')
      },
      afterCommit: () => heard.push(`after:${store.sqlite.inTransaction}:${count('work')}:${count('participant')}`),
    })
    try {
      await store.write(() => put('work'), {durable: true})
      // A nested transaction is part of the outer one: one commit.
      expect(store.transaction(() => store.transaction(() => 'nested'))).to.equal('nested')
      expect(heard).to.deep.equal(['before:true', 'after:false:1:1', 'before:true', 'after:false:1:1'])

      store.sqlite.prepare('DELETE FROM daemon_meta').run()
      heard.length = 0
      fail = true
      const failed = await store
        .write(() => put('work'))
        .then(
          () => 'committed',
          (error: unknown) => (error as Error).message,
        )
      expect(failed).to.equal('participant failed')
      expect(heard).to.deep.equal(['before:true'])
      expect(count('work') + count('participant'), 'the work is rolled back with it').to.equal(0)

      leave()
      heard.length = 0
      await store.write(() => put('work'))
      expect(heard, 'left').to.deep.equal([])
    } finally {
      store.close()
    }
  })

  it('refuses a database migrated by a newer hld, saying what to do', () => {
    const file = path.join(dir, 'daemon.db')
    const store = openStore(file)
    store.sqlite
      .prepare('INSERT INTO __drizzle_migrations (hash, created_at) VALUES (?, ?)')
      .run('from-the-future', Date.now() + 86_400_000)
    store.close()
    expect(() => openStore(file)).to.throw(StoreError, /written by a newer version of hld.*Upgrade hld, or point database_path/)
  })

  it('explains a database path it cannot open', () => {
    const notADirectory = path.join(dir, 'file.txt')
    writeFileSync(notADirectory, '')
    expect(() => openStore(path.join(notADirectory, 'daemon.db'))).to.throw(
      StoreError,
      /Cannot open the database .*HUMANLAYER_DATABASE_PATH/,
    )
  })
})
