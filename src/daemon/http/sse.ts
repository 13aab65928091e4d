/**
 * `GET /stream/events` as Server-Sent Events, served by the same Subscribe stream the socket
 * uses (replay from the durable log, then live, bounded buffering, heartbeats): this file only
 * turns its JSON-RPC frames into SSE. Each event carries its log id as the SSE `id`, so a client
 * that reconnects with `Last-Event-ID` (EventSource does it by itself) resumes with no gap;
 * events the daemon lost come as one `events_lost` event with the last lost id.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'

import {parseSubscribeFrame} from '../../protocol/subscribe.js'
import type {StreamConnection, StreamHandler} from '../rpc/server.js'

export interface SseFilter {
  eventTypes?: string[]
  sessionId?: string
  runId?: string
}

export function serveEventStream(subscribe: StreamHandler, req: IncomingMessage, res: ServerResponse, filter: SseFilter): void {
  const abort = new AbortController()
  req.on('close', () => abort.abort())
  res.on('close', () => abort.abort())
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
  res.flushHeaders()

  const lastEventId = Number(req.headers['last-event-id'])
  const since = Number.isSafeInteger(lastEventId) && lastEventId >= 0 ? lastEventId : undefined
  subscribe(
    {event_types: filter.eventTypes, session_id: filter.sessionId, run_id: filter.runId, ...(since === undefined ? {} : {since})},
    sseConnection(res, abort.signal),
  )
}

/** The Subscribe stream's view of an HTTP response. */
function sseConnection(res: ServerResponse, signal: AbortSignal): StreamConnection {
  const writable = (): boolean => !res.destroyed && !res.writableEnded
  const sendLines = (lines: string): boolean => {
    if (!writable()) return false
    let out = ''
    for (const line of lines.split('\n')) {
      if (line !== '') out += toSse(line)
    }
    return out === '' ? true : res.write(out)
  }
  return {
    send: (message) => sendLines(JSON.stringify(message)),
    sendEncoded: (frames) => sendLines(typeof frames === 'string' ? frames : frames.toString('utf8')),
    onDrain: (listener) => void res.once('drain', listener),
    get pendingBytes() {
      return res.writableLength
    },
    close: () => {
      if (writable()) res.end()
    },
    signal,
  }
}

/** One JSON-RPC stream frame as SSE: events with their id, heartbeats as comments, errors as an `error` event. */
function toSse(line: string): string {
  const frame = parseSubscribeFrame(line)
  switch (frame?.kind) {
    case 'event': {
      return `id: ${frame.event.id}\ndata: ${JSON.stringify(frame.event)}\n\n`
    }
    case 'lost': {
      // A named event (EventSource's onmessage ignores it) whose id moves Last-Event-ID past the gap.
      return `id: ${frame.lost.through_id}\nevent: events_lost\ndata: ${JSON.stringify(frame.lost)}\n\n`
    }
    case 'heartbeat': {
      return ': keepalive\n\n'
    }
    case 'error': {
      return `event: error\ndata: ${JSON.stringify(frame.error)}\n\n`
    }
    default: {
      // The confirmation: SSE has no equivalent; a comment tells a reader the stream is live.
      return ': subscribed\n\n'
    }
  }
}
