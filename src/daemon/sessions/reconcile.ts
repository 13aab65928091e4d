/**
 * Start-up: what a previous daemon left active (upstream #954: sessions stuck after a daemon
 * disconnect). A session whose claude still runs is adopted, after checking that the pid is
 * still that claude: it runs on, and its pending approvals stay pending. One whose claude ended
 * while no daemon ran ends as its output file says. Only a session whose process is really gone
 * without a word fails (or, if it was being interrupted, is interrupted), with a reason and a
 * final status event; what is left of its process group is killed, once verified to be its own.
 */
import {readdirSync, readFileSync} from 'node:fs'

import type {Logger} from '../../shared/logger.js'
import type {SessionRow} from './repository.js'
import {killGroup, writesTo} from './runner.js'
import type {SessionService} from './service.js'

export async function reconcileSessions(sessions: SessionService, log: Logger): Promise<number> {
  const orphans = sessions.activeRowsFromBefore()
  for (const row of orphans) {
    if (row.pid !== null && isSessionClaude(row, sessions.filesOf(row.id).output)) {
      sessions.adopt(row)
      continue
    }
    if (row.pid !== null) killOrphanGroup(row, log)
    if (row.pid !== null && sessions.hasOutput(row)) {
      await sessions.finishFromOutput(row)
    } else if (row.status === 'interrupting') {
      await sessions.endOrphan(
        row,
        'interrupted',
        'The daemon stopped before the interrupt finished; marked interrupted when it restarted.',
      )
    } else {
      await sessions.endOrphan(
        row,
        'failed',
        `The daemon stopped while the session was ${row.status} (crash or kill); marked failed when it restarted.`,
      )
    }
    log.warn('reconciled a session whose claude is gone', {session_id: row.id, was: row.status, pid: row.pid})
  }
  return orphans.length
}

/**
 * Whether `row.pid` is still the session's claude and not a reused pid: its command line ends
 * with `--print -- <the session's query>` and its stdout is the session's output file.
 */
function isSessionClaude(row: SessionRow, outputFile: string): boolean {
  let argv: string[]
  try {
    argv = readFileSync(`/proc/${row.pid}/cmdline`, 'utf8').split('\0').slice(0, -1)
  } catch {
    return false
  }
  return argv.at(-1) === row.query && argv.at(-2) === '--' && argv.at(-3) === '--print' && writesTo(row.pid!, outputFile)
}

/**
 * Kills what is left of the session's process group (its leader, claude, may be gone while its
 * tools live on), but only if some process in the group carries the session's run id in its
 * environment, as everything claude starts inherits it: a group id can have been reused.
 */
function killOrphanGroup(row: SessionRow, log: Logger): void {
  const pgid = row.pid!
  const members = groupMembers(pgid)
  if (members === undefined) {
    log.warn('cannot verify an orphaned claude process group without /proc; leaving it', {session_id: row.id, pgid})
    return
  }
  if (members.length === 0) return
  if (!members.some((pid) => carriesRunId(pid, row.runId))) {
    log.info('process group of an orphaned session now belongs to something else; leaving it', {session_id: row.id, pgid, members})
    return
  }
  try {
    killGroup(pgid, 'SIGKILL')
    log.warn('killed the process group of an orphaned session', {session_id: row.id, pgid, members})
  } catch (error) {
    log.error('could not kill the process group of an orphaned session', {session_id: row.id, pgid, error})
  }
}

/** The pids whose process group is `pgid`, from /proc; undefined without /proc. */
export function groupMembers(pgid: number): number[] | undefined {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return undefined
  }
  const members: number[] = []
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so count from the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return members
}

/** Whether the process started with HUMANLAYER_RUN_ID=<runId> in its environment. */
export function carriesRunId(pid: number, runId: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`HUMANLAYER_RUN_ID=${runId}`)
  } catch {
    return false
  }
}
