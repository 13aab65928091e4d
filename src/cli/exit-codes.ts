/**
 * Exit statuses, documented in the README, so scripts can branch on them. One function maps
 * an error to its status; commands never pick numbers themselves.
 */
import {
  DaemonAlreadyRunningError,
  DaemonNotRunningError,
  DatabaseInUseError,
  SocketPathError,
  SshError,
  UnsafePathError,
} from '../shared/errors.js'
import {HostError} from '../config/hosts.js'
import {ConfigError} from '../config/index.js'
import {ErrorCode, RpcError} from '../protocol/errors.js'
import {DaemonGoneError, WaitInterruptedError, WaitTimeoutError, WatchTimeoutError} from './errors.js'

export const ExitCode = {
  Ok: 0,
  Failure: 1,
  Usage: 2,
  DaemonNotRunning: 3,
  NotFound: 4,
  Conflict: 5,
  Unavailable: 6,
  UpstreamFailure: 7,
  /** `hld watch --timeout` or `hld session wait --timeout` ran out before its exit condition. */
  Timeout: 8,
  /** Ctrl-C while waiting (128 + SIGINT, as shells report it). */
  Interrupted: 130,
} as const

/** By class, so a renamed or subclassed error keeps its status (`instanceof`, not `error.name`). */
const BY_CLASS: [new (...args: never[]) => Error, number][] = [
  [DaemonNotRunningError, ExitCode.DaemonNotRunning],
  [SshError, ExitCode.DaemonNotRunning],
  [HostError, ExitCode.Usage],
  [DaemonAlreadyRunningError, ExitCode.Conflict],
  [DatabaseInUseError, ExitCode.Conflict],
  [ConfigError, ExitCode.Usage],
  [SocketPathError, ExitCode.Usage],
  [UnsafePathError, ExitCode.Usage],
  [WatchTimeoutError, ExitCode.Timeout],
  [WaitTimeoutError, ExitCode.Timeout],
  [DaemonGoneError, ExitCode.DaemonNotRunning],
  [WaitInterruptedError, ExitCode.Interrupted],
]

const BY_RPC_CODE: Record<number, number> = {
  [ErrorCode.InvalidParams]: ExitCode.Usage,
  [ErrorCode.NotFound]: ExitCode.NotFound,
  [ErrorCode.Conflict]: ExitCode.Conflict,
  // Refused, like a conflict: the state of things (who asks) forbids it, and retrying will not help.
  [ErrorCode.Forbidden]: ExitCode.Conflict,
  [ErrorCode.Unavailable]: ExitCode.Unavailable,
  [ErrorCode.UpstreamFailure]: ExitCode.UpstreamFailure,
}

export function exitCodeFor(error: Error): number {
  if (error instanceof RpcError) return BY_RPC_CODE[error.code] ?? ExitCode.Failure
  const oclifExit = (error as {oclif?: {exit?: number}}).oclif?.exit
  if (typeof oclifExit === 'number') return oclifExit
  return BY_CLASS.find(([errorClass]) => error instanceof errorClass)?.[1] ?? ExitCode.Failure
}
