/**
 * What Linux's /proc says about a process: its state, parent, process group and session (for
 * telling whether a process belongs to a session's tree) and its command line (for naming who
 * decided, and for checking a pid is still the process we think before signalling it).
 * Everything returns undefined where there is no such process or no /proc (macOS).
 */
import {readFileSync} from 'node:fs'

export interface ProcessStat {
  pid: number
  /** R, S, D, Z, T, … (a zombie, Z, has exited). */
  state: string
  ppid: number
  pgid: number
  sid: number
}

export function readStat(pid: number): ProcessStat | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // "pid (comm) S ppid pgrp session …": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const [state, ppid, pgid, sid] = [fields[0], Number(fields[1]), Number(fields[2]), Number(fields[3])]
  if (!state || !Number.isInteger(ppid) || !Number.isInteger(pgid) || !Number.isInteger(sid)) return undefined
  return {pid, state, ppid, pgid, sid}
}

/** argv of a process; undefined when it is gone, a zombie or a kernel thread (no command line). */
export function readCommandLine(pid: number): string[] | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
  } catch {
    return undefined
  }
  if (text === '') return undefined
  return (text.endsWith('\0') ? text.slice(0, -1) : text).split('\0')
}

export function hasProcFs(): boolean {
  return readStat(process.pid) !== undefined
}

/** Whether the process still runs. A zombie (exited, not yet reaped by init) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  // No procfs (macOS): trust kill(0).
  return readStat(pid)?.state !== 'Z'
}
