import {readFileSync} from 'node:fs'

/** Resident set size of a live process in MiB, from /proc (Linux). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status)
  if (!match) throw new Error(`No VmRSS in /proc/${pid}/status`)
  return Number(match[1]) / 1024
}
