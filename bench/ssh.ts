/**
 * `hld --host` over ssh against ssh itself: a real sshd on 127.0.0.1 (test/helpers/sshd.ts) and
 * three "remote" daemons, each in its own sandbox on its own port. Targets: `approvals list --json`
 * on one host costs at most 1.5x `ssh host true` to the same sshd (the baseline: ssh's handshake,
 * the remote shell, and nothing of hld), and `--hosts a,b,c` costs about one host, not three.
 * Every program runs with the same environment.
 *
 * Here the three "remote" machines are this one: their sshd sessions and daemons share its cores
 * with the client, so three connections cost more than one even when nothing waits on another.
 * `ssh3_true` (three `ssh host true` at once) measures that for ssh alone: the fan-in's baseline
 * beside the one-host comparison the issue states.
 */
import {CLI, Sandbox} from '../test/helpers/sandbox.js'
import {TestSshd, remoteHldByHost, writeRemoteEnv} from '../test/helpers/sshd.js'
import {medianWallTimes, round} from './lib/measure.js'

const RUNS = 15
const HOSTS = ['alpha', 'beta', 'gamma']

export async function benchSsh(): Promise<Record<string, number>> {
  const local = new Sandbox()
  const remotes = HOSTS.map(() => new Sandbox())
  const sshd = new TestSshd()
  try {
    HOSTS.forEach((name, i) => {
      sshd.addHost(name, remotes[i].root)
      writeRemoteEnv(remotes[i].root, remotes[i].env())
    })
    await sshd.start()
    await Promise.all(remotes.map((remote) => remote.startDaemon()))
    const env = local.env({HUMANLAYER_SSH_COMMAND: sshd.sshCommand, HUMANLAYER_REMOTE_HLD: remoteHldByHost()})
    const [ssh, ...sshOptions] = sshd.sshCommand.split(' ')
    const url = (name: string): string => sshd.url(name)
    const times = medianWallTimes(
      env,
      [
        {name: 'ssh_true', command: ssh, argv: [...sshOptions, 'alpha', 'true']},
        {name: 'host_approvals_list', argv: [CLI, '--host', url('alpha'), 'approvals', 'list', '--json']},
        {name: 'hosts3_approvals_list', argv: [CLI, '--hosts', HOSTS.map(url).join(','), 'approvals', 'list', '--json']},
        {
          name: 'ssh3_true',
          command: 'sh',
          argv: ['-c', `${HOSTS.map((name) => `${sshd.sshCommand} ${name} true &`).join(' ')} wait`],
        },
      ],
      RUNS,
    )
    return {
      ssh_true_ms: round(times.ssh_true),
      host_approvals_list_ms: round(times.host_approvals_list),
      host_approvals_list_ratio: round(times.host_approvals_list / times.ssh_true),
      hosts3_approvals_list_ms: round(times.hosts3_approvals_list),
      hosts3_vs_one_host_ratio: round(times.hosts3_approvals_list / times.host_approvals_list),
      ssh3_true_ms: round(times.ssh3_true),
      ssh3_true_vs_ssh_true_ratio: round(times.ssh3_true / times.ssh_true),
      hosts3_vs_ssh3_true_ratio: round(times.hosts3_approvals_list / times.ssh3_true),
    }
  } finally {
    await Promise.all([local.cleanup(), ...remotes.map((remote) => remote.cleanup())])
    await sshd.stop()
  }
}
