/**
 * How a command's failure reads, whichever entry ran it (BaseCommand.catch for oclif, lean.ts for
 * the hot commands): the exit status, the message a person sees (in the CLI's words, inert) or
 * the one --json keeps (the daemon's), and the JSON error object.
 */
import {RpcError} from '../protocol/errors.js'
import {CommandError} from './context.js'
import {exitCodeFor} from './exit-codes.js'
import {inert} from './render/inert.js'

export interface ErrorReport {
  name: string
  message: string
  exitCode: number
  /** The JSON-RPC code of a daemon error (not named `code`: oclif would print it). */
  rpcCode?: number
  data?: unknown
}

/** `flags`: the command's own flags, whose names replace the wire fields they fill. */
export function reportError(error: Error, json: boolean, flags: Record<string, unknown> = {}): ErrorReport {
  return {
    name: error.name,
    message: json ? error.message : inert(humanMessage(error, flags), {lines: true}),
    exitCode: exitCodeFor(error),
    ...(error instanceof RpcError ? {rpcCode: error.code, data: error.data} : {}),
    ...(error instanceof CommandError && error.data !== undefined ? {data: error.data} : {}),
  }
}

/** The --json form of an error (what BaseCommand.toErrorJson prints). */
export function errorJson(e: {name: string; message: string; exitCode?: number; rpcCode?: number; data?: unknown}): unknown {
  return {
    error: {
      name: e.name,
      message: e.message,
      exitCode: e.exitCode ?? 1,
      ...(e.rpcCode === undefined ? {} : {code: e.rpcCode}),
      ...(e.data === undefined ? {} : {data: e.data}),
    },
  }
}

/**
 * A daemon error as a person reads it: without the method it came from, and with the flags of
 * this command instead of the wire fields they fill (working_dir → --working-dir).
 */
function humanMessage(error: Error, flags: Record<string, unknown>): string {
  if (!(error instanceof RpcError)) return error.message
  let message = error.message.replace(/^(Invalid params|Internal error) (for|in) \w+: /, (_, kind: string) =>
    kind === 'Internal error' ? 'The daemon failed: ' : '',
  )
  for (const field of (error.data as {fields?: {path: string}[]} | undefined)?.fields ?? []) {
    const flag = field.path.replaceAll('_', '-')
    if (field.path && flag in flags) message = message.replaceAll(new RegExp(`\\b${field.path}\\b`, 'g'), `--${flag}`)
  }
  return message.charAt(0).toUpperCase() + message.slice(1)
}
