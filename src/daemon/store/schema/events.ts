import {sql} from 'drizzle-orm'
import {index, integer, sqliteTable, text} from 'drizzle-orm/sqlite-core'

/**
 * The durable event log behind the bus. `id` is the monotonic id subscribers resume from
 * (AUTOINCREMENT, so an id is never reused even after retention empties the table).
 * `session_id` and `run_id` are copied out of `data` so filtered replays are plain lookups.
 * A row of type `events_lost` marks events the daemon gave up storing (bus/log.ts); a partial
 * index holds only those, so a filtered replay finds them without scanning the log.
 */
export const events = sqliteTable(
  'events',
  {
    id: integer('id').primaryKey({autoIncrement: true}),
    type: text('type').notNull(),
    /** RFC 3339 with milliseconds, UTC: sorts as text, and is what the wire carries. */
    timestamp: text('timestamp').notNull(),
    sessionId: text('session_id'),
    runId: text('run_id'),
    /** The event's `data`, as JSON text exactly as it went on the wire. */
    data: text('data').notNull(),
  },
  (table) => [
    index('events_session_idx').on(table.sessionId, table.id),
    index('events_run_idx').on(table.runId, table.id),
    index('events_lost_idx')
      .on(table.id)
      .where(sql`type = 'events_lost'`),
  ],
)
