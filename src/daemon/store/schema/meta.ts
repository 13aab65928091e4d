import {sqliteTable, text} from 'drizzle-orm/sqlite-core'

/** Facts about the database itself, e.g. which hld version last opened it. */
export const daemonMeta = sqliteTable('daemon_meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
})
