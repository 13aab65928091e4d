/**
 * Newline-delimited framing, used by the daemon's socket server, the CLI client and the
 * session stdout reader. Works on bytes, so a multi-byte character split across chunks is
 * never corrupted, and caps how much it buffers, so a peer that never sends `\n` costs
 * bounded memory.
 */

const NEWLINE = 0x0a

export interface LineDecoderOptions {
  /** Largest frame in bytes, newline excluded. Longer frames are dropped, not buffered. */
  maxFrameBytes: number
  onLine: (line: string) => void
  /** Called once per frame that went over the limit, after it has been skipped. */
  onOversize?: (bytesSeen: number) => void
}

export class LineDecoder {
  private parts: Buffer[] = []
  private size = 0
  /** True while discarding the rest of an oversized frame up to its newline. */
  private skipping = false

  constructor(private readonly options: LineDecoderOptions) {}

  push(chunk: Buffer): void {
    let start = 0
    while (start < chunk.length) {
      const newline = chunk.indexOf(NEWLINE, start)
      const end = newline === -1 ? chunk.length : newline
      this.append(chunk.subarray(start, end))
      if (newline === -1) return
      this.finishFrame()
      start = newline + 1
    }
  }

  /** Ends the stream: a final frame without a trailing newline still counts (as Go's scanner). */
  end(): void {
    if (this.size > 0 || this.skipping) this.finishFrame()
  }

  /** Bytes held in memory for the frame in progress (none while an oversized one is skipped). */
  get buffered(): number {
    return this.skipping ? 0 : this.size
  }

  /** Drops the frame in progress, as if it had never been sent. */
  discard(): void {
    this.reset()
  }

  private append(piece: Buffer): void {
    if (piece.length === 0) return
    this.size += piece.length
    if (this.skipping) return
    if (this.size > this.options.maxFrameBytes) {
      this.skipping = true
      this.parts = []
      return
    }
    this.parts.push(piece)
  }

  private finishFrame(): void {
    if (this.skipping) {
      const seen = this.size
      this.reset()
      this.options.onOversize?.(seen)
      return
    }
    const line = this.parts.length === 1 ? this.parts[0].toString('utf8') : Buffer.concat(this.parts, this.size).toString('utf8')
    this.reset()
    // Blank lines (and stray `\r` from CRLF peers) carry nothing.
    const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line
    if (trimmed.trim() !== '') this.options.onLine(trimmed)
  }

  private reset(): void {
    this.parts = []
    this.size = 0
    this.skipping = false
  }
}

/**
 * A value already encoded as JSON (a reply a service keeps encoded between calls): encodeFrame
 * splices its text into a response instead of encoding the value again. Whatever else
 * serialises it gets the value back through toJSON, so it is never wrong, only slower.
 */
export class EncodedJson<T = unknown> {
  constructor(readonly json: string) {}

  value(): T {
    return JSON.parse(this.json) as T
  }

  toJSON(): T {
    return this.value()
  }
}

/** One frame on the wire: compact JSON plus `\n` (JSON.stringify never emits a raw newline). */
export function encodeFrame(message: unknown): string {
  if (typeof message === 'object' && message !== null && 'result' in message && message.result instanceof EncodedJson) {
    const {result, ...envelope} = message
    const head = JSON.stringify(envelope).slice(0, -1)
    return `${head}${head.length > 1 ? ',' : ''}"result":${result.json}}\n`
  }
  return `${JSON.stringify(message)}\n`
}

export const DEFAULT_MAX_FRAME_BYTES = 10 * 1024 * 1024
