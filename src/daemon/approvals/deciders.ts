/**
 * Who may decide an approval. A decision that comes from inside a session's process tree
 * (claude, its tools, their children, anything in claude's process group or session) is an
 * agent approving itself, and is refused. The peer comes from the kernel (see shared/peer.ts), its
 * ancestry, process group and session from /proc; an environment marker would not do, since an
 * agent can unset it. The same answer becomes the decision's provenance.
 *
 * A decision from another machine arrives through `hld daemon dial-stdio`, which is then the peer:
 * started by sshd it is outside every session; started by an agent here (its own bridge to the
 * socket) it is in the agent's tree, and refused like any other process of it.
 */
import type {DecisionChannel, DecisionProvenance} from '../../protocol/approvals.js'
import {ErrorCode, RpcError} from '../../protocol/errors.js'
import {type ProcessStat, readCommandLine, readStat} from '../../shared/procfs.js'
import type {Logger} from '../../shared/logger.js'
import type {Peer} from '../../shared/peer.js'

/** Where a decision came from: the channel, and the process the kernel names (null: it cannot tell). */
export interface Decider {
  channel: DecisionChannel
  peer: Peer | null
  /** Over ssh: the far side's SSH_CONNECTION and who the CLI there says it is; recorded, never trusted. */
  remote?: Pick<DecisionProvenance, 'user' | 'host' | 'ssh_connection'>
}

/** A running session's claude: the leader of its own process group and session (it is spawned detached). */
export interface SessionProcess {
  sessionId: string
  pid: number
}

export interface DeciderCheckDeps {
  /** The claude processes of the sessions that run now. */
  sessionProcesses: () => SessionProcess[]
  log: Logger
  /**
   * Whether ancestry, groups and sessions can be read (Linux /proc). Where they cannot, decisions
   * are let through with whatever provenance the peer gives; the README says so.
   */
  procfs: boolean
}

/** A command line is shown to reviewers and stored with every decision; a few KiB says who it was. */
const MAX_COMMAND_CHARS = 4096
/** Process trees are shallow; this bounds the walk up the parents should /proc ever loop. */
const MAX_ANCESTORS = 512

export class DeciderCheck {
  /** The daemon's own process group and session: fixed once it runs, so read once. */
  private own: {pgid?: number; sid?: number} | undefined

  constructor(private readonly deps: DeciderCheckDeps) {}

  /**
   * The provenance to store with a decision on `approvalId`, or a Forbidden error when the
   * decider is (or cannot be shown not to be) inside a session's process tree.
   */
  admit(by: Decider, approvalId: string): DecisionProvenance {
    const {peer} = by
    const provenance: DecisionProvenance = {channel: by.channel, ...by.remote}
    if (peer) {
      provenance.uid = peer.uid
      provenance.pid = peer.pid
      const argv = readCommandLine(peer.pid)
      if (argv) provenance.command = argv.join(' ').slice(0, MAX_COMMAND_CHARS)
    }
    if (!this.deps.procfs) return provenance

    const refusal = this.refusal(peer)
    if (refusal) {
      this.deps.log.warn('refused a decision', {approval_id: approvalId, reason: refusal.message, ...provenance})
      throw new RpcError(
        ErrorCode.Forbidden,
        `Refused to decide ${approvalId}: ${refusal.message}. The approval is still pending.`,
        refusal.data,
      )
    }
    return provenance
  }

  /** Why `peer` may not decide, or undefined when it may. */
  private refusal(peer: Peer | null): {message: string; data: Record<string, unknown>} | undefined {
    if (!peer) {
      return {
        message: 'the daemon cannot tell which process sent it (no peer credentials), so cannot rule out the agent itself',
        data: {reason: 'unverified_decider'},
      }
    }
    const session = this.sessionContaining(peer.pid)
    if (session === 'unknown') {
      return {
        message: `the deciding process (pid ${peer.pid}) is not in /proc, so it cannot be shown to be outside every session`,
        data: {reason: 'unverified_decider'},
      }
    }
    if (!session) return undefined
    return {
      message:
        `it comes from inside session ${session.sessionId} (pid ${peer.pid} is in the process tree of its claude, pid ${session.pid}); ` +
        'an agent cannot approve its own requests. Decide from a terminal outside the session',
      data: {reason: 'inside_session', session_id: session.sessionId, claude_pid: session.pid},
    }
  }

  /** The session whose tree holds `pid`: by ancestry, or by sharing claude's process group or session. */
  private sessionContaining(pid: number): SessionProcess | 'unknown' | undefined {
    const sessions = this.deps.sessionProcesses()
    const byPid = new Map<number, SessionProcess>()
    // Claude is its group's and session's leader, so its pid is both ids; read them too, in case
    // a runner ever starts it otherwise.
    const byGroupOrSession = new Map<number, SessionProcess>()
    // Never the daemon's own group or session: a claude that shared them would make every
    // process started beside the daemon (its terminal, say) look like part of the session.
    this.own ??= readStat(process.pid) ?? {}
    const shared = new Set([this.own.pgid, this.own.sid])
    for (const session of sessions) {
      byPid.set(session.pid, session)
      const stat = readStat(session.pid)
      for (const id of [session.pid, stat?.pgid, stat?.sid]) {
        if (id !== undefined && id > 1 && !shared.has(id)) byGroupOrSession.set(id, session)
      }
    }
    let current: ProcessStat | undefined = readStat(pid)
    if (!current) return 'unknown'
    for (let step = 0; current && step < MAX_ANCESTORS; step++) {
      const found = byPid.get(current.pid) ?? byGroupOrSession.get(current.pgid) ?? byGroupOrSession.get(current.sid)
      if (found) return found
      if (current.ppid <= 1) return undefined
      current = readStat(current.ppid)
    }
    return undefined
  }
}
