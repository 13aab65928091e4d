import {eq, sql} from 'drizzle-orm'
import {expect} from 'chai'

import {openStore, type Store} from '../../../../src/daemon/store/index.js'
import {preparedOnFirstUse} from '../../../../src/daemon/store/prepared.js'
import {daemonMeta} from '../../../../src/daemon/store/schema/index.js'

describe('preparedOnFirstUse', () => {
  let store: Store

  beforeEach(() => (store = openStore(':memory:')))
  afterEach(() => store.close())

  it('prepares nothing until the statement first runs, then prepares it once for every later run', () => {
    let prepared = 0
    const insert = preparedOnFirstUse(() => {
      prepared++
      return store.db
        .insert(daemonMeta)
        .values({key: sql.placeholder('key'), value: sql.placeholder('value')})
        .prepare()
    })
    const byKey = preparedOnFirstUse(() => {
      prepared++
      return store.db
        .select()
        .from(daemonMeta)
        .where(eq(daemonMeta.key, sql.placeholder('key')))
        .prepare()
    })
    expect(prepared).to.equal(0)

    insert.run({key: 'a', value: '1'})
    insert.run({key: 'b', value: '2'})
    expect(prepared).to.equal(1)
    expect(byKey.get({key: 'b'})).to.deep.equal({key: 'b', value: '2'})
    expect(byKey.all({key: 'a'})).to.deep.equal([{key: 'a', value: '1'}])
    expect(byKey.values({key: 'a'})).to.deep.equal([['a', '1']])
    expect(prepared).to.equal(2)
  })

  it("reports a statement's error when it first runs", () => {
    const broken = preparedOnFirstUse(() =>
      store.db
        .select()
        .from(daemonMeta)
        .where(sql`no_such_column = 1`)
        .prepare(),
    )
    expect(() => broken.all()).to.throw(/no such column/)
  })
})
