/**
 * The in-process event bus: services publish, subscribers (the Subscribe stream, tests)
 * listen. The bus stamps each event with a monotonic id and a timestamp. The daemon's bus
 * is the durable `EventLog` (./log.ts); `MemoryBus` is for unit tests of services.
 */
import type {DaemonEvent, NewEvent} from '../../protocol/events.js'

export type EventListener = (event: DaemonEvent) => void

export interface EventBus {
  publish(event: NewEvent): DaemonEvent
  /** Returns the function that unsubscribes. */
  subscribe(listener: EventListener): () => void
  /**
   * Runs `work`, which writes rows and then publishes the events about them, so that rows and
   * events are stored in one transaction (one commit per batch of claude's output). Throws what
   * `work` or the commit throws.
   */
  storeWith<T>(work: () => T): T
}

export class MemoryBus implements EventBus {
  private readonly listeners = new Set<EventListener>()
  private lastId = 0

  publish(event: NewEvent): DaemonEvent {
    const stamped: DaemonEvent = {...event, id: ++this.lastId, timestamp: new Date().toISOString()}
    for (const listener of this.listeners) listener(stamped)
    return stamped
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  storeWith<T>(work: () => T): T {
    return work()
  }
}
