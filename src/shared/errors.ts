/** Errors the client raises, each saying what happened and what to do about it. */

export class DaemonNotRunningError extends Error {
  constructor(readonly socketPath: string) {
    super(`No hld daemon is running at ${socketPath}. Start one with \`hld daemon start\`.`)
    this.name = 'DaemonNotRunningError'
  }
}

export class DaemonUnreachableError extends Error {
  constructor(
    readonly socketPath: string,
    reason: string,
  ) {
    super(`Cannot talk to the hld daemon at ${socketPath}: ${reason}`)
    this.name = 'DaemonUnreachableError'
  }
}

export class CallTimeoutError extends Error {
  constructor(method: string, timeoutMs: number, socketPath: string) {
    super(
      `The hld daemon at ${socketPath} did not answer ${method} within ${timeoutMs} ms. ` +
        'It may be overloaded or stuck: check its log, or restart it with `hld daemon stop --force && hld daemon start`.',
    )
    this.name = 'CallTimeoutError'
  }
}

export class DaemonAlreadyRunningError extends Error {
  constructor(
    readonly socketPath: string,
    readonly pid: number | undefined,
  ) {
    super(
      `Another hld daemon is already running at ${socketPath}${pid === undefined ? '' : ` (pid ${pid})`}. ` +
        'Stop it with `hld daemon stop`, or choose another socket with --socket or HUMANLAYER_DAEMON_SOCKET.',
    )
    this.name = 'DaemonAlreadyRunningError'
  }
}

export class DatabaseInUseError extends Error {
  constructor(
    readonly databasePath: string,
    readonly holder: {pid: number; socketPath: string} | undefined,
  ) {
    super(
      `The database ${databasePath} is in use by another hld daemon` +
        (holder
          ? ` (pid ${holder.pid}, socket ${holder.socketPath}). Use that daemon with --socket ${holder.socketPath}, stop it with \`hld daemon stop --socket ${holder.socketPath}\``
          : '. Stop it') +
        ', or give this one its own database with --database or HUMANLAYER_DATABASE_PATH.',
    )
    this.name = 'DatabaseInUseError'
  }
}

export class SocketPathError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SocketPathError'
  }
}

/** A database or log path that would be followed into a file hld does not own (a symbolic link). */
export class UnsafePathError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnsafePathError'
  }
}

export class ReplyTooLargeError extends Error {
  constructor(socketPath: string, bytes: number, limit: number) {
    super(
      `The hld daemon at ${socketPath} sent a reply of ${(bytes / 2 ** 20).toFixed(1)} MiB, over this client's limit of ` +
        `${limit / 2 ** 20} MiB; it was dropped. Ask for less: listSessions and getConversation take a limit (\`--limit\` in the CLI).`,
    )
    this.name = 'ReplyTooLargeError'
  }
}

/** ssh could not reach the daemon: unreachable host, refused key, no hld or no daemon there. */
export class SshError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SshError'
  }
}
