/** What `hld daemon status` does (shared by its oclif command and the lean entry, see context.ts). */
import type {HealthResult} from '../protocol/daemon.js'
import type {CommandContext} from './context.js'
import {inert} from './render/inert.js'
import {cell, padEnd} from './render/table.js'

/** The daemon's health, without starting one: DaemonNotRunningError (exit 3) when none answers. */
export async function daemonStatus(ctx: CommandContext): Promise<HealthResult> {
  const client = await ctx.client({autostart: false})
  const {Health} = await import('../protocol/daemon.js')
  const health = await client.call(Health, {})
  ctx.log(`hld daemon ${inert(health.version)}: ${inert(health.status)} (pid ${inert(health.pid)}, up ${formatUptime(health.uptime_ms)})`)
  ctx.log(`  socket:   ${inert(health.socket_path)}`)
  ctx.log(`  database: ${inert(health.database_path)}`)
  ctx.log(`  log:      ${inert(health.log_file ?? 'stderr (foreground)')}`)
  if (health.log_write_failures > 0)
    ctx.log(`            ${health.log_write_failures} log lines lost: ${inert(health.log_write_error ?? '')}`)
  for (const [name, component] of Object.entries(health.components)) {
    const detail = component.detail ? ` (${inert(component.detail)})` : ''
    ctx.log(`  ${padEnd(cell(`${name}:`), 10)}${component.available ? 'available' : 'unavailable'}${detail}`)
  }
  return health
}

function formatUptime(ms: number): string {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`
}
