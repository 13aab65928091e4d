/**
 * DeciderCheck against real process trees: a stand-in "claude" (sh, spawned detached as the
 * runner spawns claude: leader of its own process group and session) and processes inside and
 * outside its tree.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {readFileSync, readdirSync} from 'node:fs'

import {expect} from 'chai'

import {type Decider, DeciderCheck, type SessionProcess} from '../../../../src/daemon/approvals/deciders.js'
import {createLogger} from '../../../../src/shared/logger.js'
import {ErrorCode} from '../../../../src/protocol/errors.js'
import {hasProcFs, type ProcessStat, readStat} from '../../../../src/shared/procfs.js'
import {rejected} from '../../../helpers/rpc.js'
import {waitFor} from '../../../helpers/sandbox.js'

const uid = process.getuid!()
const gid = process.getgid!()
const as = (pid: number): Decider => ({channel: 'cli', peer: {pid, uid, gid}})

const command = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1).join(' ')

/** Waits for processes that `match` (from /proc) until `enough` says so; returns them. */
async function processesWhere(
  match: (stat: ProcessStat) => boolean,
  enough: (found: ProcessStat[]) => boolean,
  what: string,
): Promise<ProcessStat[]> {
  let found: ProcessStat[] = []
  await waitFor(
    () => {
      found = readdirSync('/proc')
        .filter((name) => /^\d+$/.test(name))
        .flatMap((name) => readStat(Number(name)) ?? [])
        .filter(match)
      return enough(found)
    },
    10_000,
    what,
  )
  return found
}

if (hasProcFs()) {
  describe('DeciderCheck', () => {
    const spawned: ChildProcess[] = []
    let sessions: SessionProcess[] = []
    const check = new DeciderCheck({sessionProcesses: () => sessions, log: createLogger('error', {kind: 'none'}), procfs: true})

    /** A detached sh running `script`: what the runner does with claude. */
    function fakeClaude(script: string): ChildProcess {
      const child = spawn('sh', ['-c', script], {detached: true, stdio: 'ignore'})
      spawned.push(child)
      return child
    }

    afterEach(() => {
      for (const child of spawned.splice(0)) {
        try {
          process.kill(-child.pid!, 'SIGKILL')
        } catch {
          // The group is gone already.
        }
      }
      sessions = []
    })

    it('refuses claude itself, its children, and a child that left for a session of its own (setsid)', async () => {
      const claude = fakeClaude('sleep 60 & setsid sleep 61 & wait')
      sessions = [{sessionId: 's1', pid: claude.pid!}]
      const children = await processesWhere(
        (stat) => stat.ppid === claude.pid,
        (found) => found.length === 2 && found.some((stat) => stat.sid !== claude.pid),
        'two children of the fake claude, one in a session of its own',
      )
      for (const pid of [claude.pid!, ...children.map((stat) => stat.pid)]) {
        const error = await rejected(() => check.admit(as(pid), 'local-1'))
        expect(error.code).to.equal(ErrorCode.Forbidden)
        expect(error.message).to.contain('inside session s1').and.contain('still pending')
        expect(error.data).to.deep.include({reason: 'inside_session', session_id: 's1', claude_pid: claude.pid})
      }
    })

    it("refuses a process in claude's process group whose parent is elsewhere", async () => {
      // The group's leader starts a child and exits: the child is reparented, but keeps the group.
      const claude = fakeClaude('sleep 60 & exit 0')
      await new Promise((resolve) => claude.once('exit', resolve))
      const [member] = await processesWhere(
        (stat) => stat.pgid === claude.pid,
        (found) => found.length === 1,
        'the sleep left in the group',
      )
      expect(member.ppid, 'reparented').to.not.equal(claude.pid)
      sessions = [{sessionId: 's2', pid: claude.pid!}]
      expect((await rejected(() => check.admit(as(member.pid), 'local-2'))).data).to.deep.include({session_id: 's2'})
    })

    it('admits a process outside every session and says who it was', () => {
      const claude = fakeClaude('sleep 60')
      sessions = [{sessionId: 's1', pid: claude.pid!}]
      expect(check.admit(as(process.pid), 'local-3')).to.deep.equal({
        channel: 'cli',
        uid,
        pid: process.pid,
        command: command(process.pid),
      })
    })

    it('refuses a decision whose sender it cannot name', async () => {
      const unknown = await rejected(() => check.admit({channel: 'rpc', peer: null}, 'local-4'))
      expect(unknown.code).to.equal(ErrorCode.Forbidden)
      expect(unknown.data).to.deep.equal({reason: 'unverified_decider'})
    })
  })
}
