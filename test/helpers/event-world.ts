/**
 * The event machinery on a real socket, without the rest of the daemon: a real SQLite file
 * through openStore, the durable EventLog, and an RpcServer whose only stream is Subscribe.
 * `restart()` closes everything and opens it again on the same files, as a daemon restart.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import {EventLog, type RetentionOptions} from '../../src/daemon/bus/log.js'
import {createSubscribeStream} from '../../src/daemon/bus/subscription.js'
import {createLogger} from '../../src/shared/logger.js'
import {Router} from '../../src/daemon/rpc/router.js'
import {RpcServer} from '../../src/daemon/rpc/server.js'
import {openStore, type Store} from '../../src/daemon/store/index.js'
import type {NewEvent} from '../../src/protocol/events.js'
import {Subscribe} from '../../src/protocol/subscribe.js'
import {RawConnection} from './raw-socket.js'

export interface EventWorldOptions {
  heartbeatIntervalMs?: number
  bufferBytes?: number
  retention?: RetentionOptions
}

export class EventWorld {
  readonly root = mkdtempSync(path.join(os.tmpdir(), 'hld-ev-'))
  readonly socketPath = path.join(this.root, 'd.sock')
  readonly databasePath = path.join(this.root, 'events.db')
  store!: Store
  bus!: EventLog
  server!: RpcServer
  private readonly connections = new Set<RawConnection>()

  constructor(private readonly options: EventWorldOptions = {}) {}

  async start(): Promise<this> {
    const log = createLogger('error', {kind: 'none'})
    this.store = openStore(this.databasePath)
    this.bus = new EventLog(this.store, log, this.options.retention ?? {maxCount: 1_000_000, maxAgeMs: 24 * 3600 * 1000})
    const stream = createSubscribeStream(this.bus, {
      heartbeatIntervalMs: this.options.heartbeatIntervalMs ?? 60_000,
      bufferBytes: this.options.bufferBytes ?? 4 * 1024 * 1024,
      log,
    })
    this.server = new RpcServer({
      socketPath: this.socketPath,
      maxFrameBytes: 1024 * 1024,
      router: new Router(log),
      streams: {[Subscribe.name]: stream},
      log,
    })
    await this.server.listen()
    return this
  }

  async stop(): Promise<void> {
    for (const connection of this.connections) connection.close()
    this.connections.clear()
    await this.server.close(1000)
    this.bus.close()
    this.store.close()
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.start()
  }

  async cleanup(): Promise<void> {
    await this.stop().catch(() => {})
    rmSync(this.root, {recursive: true, force: true})
  }

  /** A bare peer that has sent Subscribe and read the confirmation. */
  async subscribe(params: Record<string, unknown> = {}): Promise<{connection: RawConnection; confirmation: Record<string, unknown>}> {
    const connection = await RawConnection.open(this.socketPath)
    this.connections.add(connection)
    const frame = await connection.request<{result: Record<string, unknown>}>({jsonrpc: '2.0', method: 'Subscribe', params, id: 7})
    return {connection, confirmation: frame.result}
  }

  publish(count: number, make: (i: number) => NewEvent = statusEvent): number[] {
    const ids: number[] = []
    for (let i = 0; i < count; i++) ids.push(this.bus.publish(make(i)).id)
    return ids
  }
}

export function statusEvent(i: number): NewEvent {
  return {
    type: 'session_status_changed',
    data: {session_id: `s-${i % 3}`, run_id: `r-${i % 3}`, old_status: 'running', new_status: `n${i}`},
  }
}

/** Reads event frames until `count` arrived; returns their ids (fails on a non-event frame). */
export async function readEvents(connection: RawConnection, count: number, timeoutMs = 10_000): Promise<number[]> {
  const ids: number[] = []
  while (ids.length < count) {
    const frame = await connection.next<{result?: {event?: {id: number}}}>(timeoutMs)
    if (!frame.result?.event) throw new Error(`expected an event frame, got ${JSON.stringify(frame)}`)
    ids.push(frame.result.event.id)
  }
  return ids
}

export function range(from: number, to: number): number[] {
  return Array.from({length: to - from + 1}, (_, i) => from + i)
}
