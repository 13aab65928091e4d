/**
 * A test hook, registered only when the daemon starts with HUMANLAYER_TEST_EVENTS=1: the
 * `debugPublish` method publishes events on the bus, so integration tests and the bench can
 * drive Subscribe through the real daemon without sessions or approvals behind it.
 */
import type {NewEvent} from '../../protocol/events.js'
import {DebugPublish} from '../../protocol/subscribe.js'
import {type Router, schemasFrom} from '../rpc/router.js'
import type {EventBus} from './index.js'

/** Loaded (with zod) by the first call that validates with one of them. */
const schema = schemasFrom(() => import('../../protocol/subscribe.schema.js'))

export function registerTestEventHooks(router: Router, bus: EventBus): void {
  router.register(DebugPublish, schema('DebugPublishParams'), ({type, data, count = 1}) => {
    let first = 0
    let last = 0
    for (let seq = 0; seq < count; seq++) {
      const event = bus.publish({type, data: count === 1 ? data : {...data, seq}} as NewEvent)
      if (seq === 0) first = event.id
      last = event.id
    }
    return {first_id: first, last_id: last}
  })
}
