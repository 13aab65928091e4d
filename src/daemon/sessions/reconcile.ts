/**
 * Start-up sweep for what a crashed or killed daemon left behind (upstream #954): sessions
 * still marked starting, running or waiting_input become failed, interrupting ones become
 * interrupted, each with a reason and a final status event; a claude process group that is
 * still alive is killed, so no session runs unobserved.
 */
import {readFileSync} from 'node:fs'

import type {Logger} from '../logger.js'
import type {SessionRow} from './repository.js'
import type {SessionService} from './service.js'

export function reconcileSessions(sessions: SessionService, log: Logger): number {
  const orphans = sessions.activeRowsFromBefore()
  for (const row of orphans) {
    if (row.pid !== null) killOrphanGroup(row, log)
    if (row.status === 'interrupting') {
      sessions.endOrphan(row, 'interrupted', 'The daemon stopped before the interrupt finished; marked interrupted when it restarted.')
    } else {
      sessions.endOrphan(row, 'failed', `The daemon stopped while the session was ${row.status} (crash or kill); marked failed when it restarted.`)
    }
    log.warn('reconciled a session left active by a previous daemon', {session_id: row.id, was: row.status, pid: row.pid})
  }
  return orphans.length
}

/**
 * Kills the session's claude process group, after checking that the pid is still that claude
 * (its command line ends with `--print -- <the session's query>`), not a reused pid.
 */
function killOrphanGroup(row: SessionRow, log: Logger): void {
  const pid = row.pid!
  let argv: string[] | undefined
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1)
  } catch {
    // The leader is gone (or there is no /proc): a group may remain, and Linux does not hand out
    // a pid that is still some group's id, so signalling the group can only reach claude's tools.
    if (!hasProcFs()) {
      log.warn('cannot verify an orphaned claude process without /proc; leaving it', {session_id: row.id, pid})
      return
    }
  }
  if (argv && !(argv.at(-1) === row.query && argv.at(-2) === '--' && argv.at(-3) === '--print')) {
    log.info('pid of an orphaned session now belongs to another process; leaving it', {session_id: row.id, pid})
    return
  }
  try {
    process.kill(-pid, 'SIGKILL')
    log.warn('killed the process group of an orphaned claude', {session_id: row.id, pid})
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') log.error('could not kill an orphaned claude', {session_id: row.id, pid, error})
  }
}

function hasProcFs(): boolean {
  try {
    readFileSync('/proc/self/cmdline')
    return true
  } catch {
    return false
  }
}
