import {BaseCommand} from '../cli/base-command.js'
import type {Check} from '../cli/doctor.js'

export interface DoctorResult {
  ok: boolean
  checks: Check[]
}

export default class Doctor extends BaseCommand<typeof Doctor> {
  static summary = 'Check what hld needs: claude, file permissions, disk space, the daemon and the cloud API.'
  static description =
    'Reports the claude binary and its version; the socket, database and log paths and their permissions; free disk space; ' +
    "the daemon's health and whether its version matches this CLI's; and, when an api_key is set, whether the HumanLayer " +
    'API answers. Exits 1 when a check fails, each failure saying what to do; warnings alone exit 0. Starts nothing.'

  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json | jq \'.checks[] | select(.status != "ok")\'',
  ]

  async run(): Promise<DoctorResult> {
    await this.parseFlags()
    const config = await this.loadConfig()
    const [doctor, {probeDaemon}] = await Promise.all([import('../cli/doctor.js'), import('../shared/probe.js')])
    const health = await probeDaemon(config.socket_path).catch(() => undefined)
    const checks = [
      await doctor.claudeCheck(config),
      doctor.pathCheck('socket', config.socket_path, {expectSocket: true}),
      doctor.pathCheck('database', config.database_path),
      doctor.pathCheck('log', config.log_file),
      doctor.diskCheck(config),
      ...doctor.daemonCheck(
        health?.pid === undefined ? undefined : (health as Required<typeof health>),
        this.config.version,
        config.socket_path,
      ),
    ]
    const cloud = await doctor.cloudCheck(config)
    if (cloud) checks.push(cloud)

    const mark = {ok: 'ok  ', warn: 'warn', fail: 'FAIL'} as const
    for (const check of checks) {
      this.log(`${mark[check.status]}  ${check.name.padEnd(14)} ${check.detail}`)
      if (check.fix && check.status !== 'ok') this.log(`      ${''.padEnd(14)} → ${check.fix}`)
    }
    const ok = checks.every((check) => check.status !== 'fail')
    if (!ok) process.exitCode = 1
    return {ok, checks}
  }
}
