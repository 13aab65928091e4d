import {BaseCommand} from '../../cli/base-command.js'
import {inert} from '../../cli/render/inert.js'
import {cell, padEnd} from '../../cli/render/table.js'
import type {HealthResult} from '../../protocol/daemon.js'

export type DaemonStatusResult = HealthResult

export default class DaemonStatus extends BaseCommand<typeof DaemonStatus> {
  static summary = 'Show whether the daemon runs, and its version, pid, uptime, socket, database and log file.'
  static description = 'Exits 0 when the daemon answers and 3 when none is running, so a CI smoke check is just `hld daemon status`.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<DaemonStatusResult> {
    await this.parseFlags()
    const client = await this.client({autostart: false})
    const {Health} = await import('../../protocol/daemon.js')
    const health = await client.call(Health, {})
    this.log(`hld daemon ${inert(health.version)}: ${inert(health.status)} (pid ${inert(health.pid)}, up ${formatUptime(health.uptime_ms)})`)
    this.log(`  socket:   ${inert(health.socket_path)}`)
    this.log(`  database: ${inert(health.database_path)}`)
    this.log(`  log:      ${inert(health.log_file ?? 'stderr (foreground)')}`)
    if (health.log_write_failures > 0) this.log(`            ${health.log_write_failures} log lines lost: ${inert(health.log_write_error ?? '')}`)
    for (const [name, component] of Object.entries(health.components)) {
      const detail = component.detail ? ` (${inert(component.detail)})` : ''
      this.log(`  ${padEnd(cell(`${name}:`), 10)}${component.available ? 'available' : 'unavailable'}${detail}`)
    }
    return health
  }
}

function formatUptime(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`
}
