/**
 * Which machine a command talks to: `local` (this one's socket), an `ssh://[user@]host[:port]`
 * address, or a name from the `hosts` map of daemon.json. Pure parsing; src/client/ssh.ts
 * does the connecting.
 */

export interface SshTarget {
  user?: string
  host: string
  port?: number
}

export type HostSpec = {name: string; kind: 'local'} | {name: string; kind: 'ssh'; target: SshTarget; url: string}

export const LOCAL_HOST = 'local'

export class HostError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'HostError'
  }
}

/** A name in the hosts map: it also prefixes ids (`devbox:9c1e`), so no colon. */
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
/**
 * What ssh gets as user and host. No leading '-', spaces or shell characters: ssh would read
 * `-oProxyCommand=…` as an option, and the remote side runs a shell.
 */
const SSH_WORD = /^[A-Za-z0-9_.:%][A-Za-z0-9_.%:-]*$/

/** Parses `ssh://[user@]host[:port]`; `where` says where the text came from, for the error. */
export function parseSshUrl(text: string, where: string): SshTarget {
  const fail = (why: string): never => {
    throw new HostError(`${where}: "${text}" is not a usable ssh address: ${why}. Use ssh://[user@]host[:port].`)
  }
  if (!text.startsWith('ssh://')) fail('only ssh:// is supported')
  if (!URL.canParse(text)) fail('it does not parse as a URL')
  const url = new URL(text)
  if (url.password) fail('put passwords in ssh, not in the address (keys or ssh-agent)')
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) fail('it has a path, query or fragment')
  // URL keeps IPv6 brackets in hostname; ssh wants the bare address.
  const host = url.hostname.replace(/^\[(.*)]$/, '$1')
  const user = url.username ? decodeURIComponent(url.username) : undefined
  if (!host || !SSH_WORD.test(host)) fail('the host is missing or has characters ssh would misread')
  if (user !== undefined && !SSH_WORD.test(user)) fail('the user has characters ssh would misread')
  return {host, ...(user ? {user} : {}), ...(url.port ? {port: Number(url.port)} : {})}
}

export function formatSshUrl(target: SshTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host
  return `ssh://${target.user ? `${target.user}@` : ''}${host}${target.port ? `:${target.port}` : ''}`
}

/** Validates daemon.json's `hosts`: names to ssh:// addresses. */
export function parseHostsMap(value: unknown, file: string): Record<string, string> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HostError(`Config file ${file}: "hosts" must be an object of names to ssh:// addresses, e.g. {"devbox": "ssh://me@devbox"}`)
  }
  const hosts: Record<string, string> = {}
  for (const [name, url] of Object.entries(value)) {
    if (!HOST_NAME.test(name) || name === LOCAL_HOST) {
      throw new HostError(
        `Config file ${file}: host name "${name}" is not allowed: use letters, digits, '.', '_' and '-' (no ':'), and not "${LOCAL_HOST}"`,
      )
    }
    if (typeof url !== 'string') throw new HostError(`Config file ${file}: hosts.${name} must be an ssh:// address string`)
    parseSshUrl(url, `Config file ${file}, hosts.${name}`)
    hosts[name] = url
  }
  return hosts
}

/** What `--host` (or HUMANLAYER_HOST) names: `local`, a name from `hosts`, or an ssh:// address. */
export function resolveHost(text: string, hosts: Record<string, string>, where = '--host'): HostSpec {
  if (text === LOCAL_HOST) return {name: LOCAL_HOST, kind: 'local'}
  if (text.includes('://')) {
    const target = parseSshUrl(text, where)
    return {name: text, kind: 'ssh', target, url: formatSshUrl(target)}
  }
  const url = Object.hasOwn(hosts, text) ? hosts[text] : undefined
  if (url === undefined) {
    const known = Object.keys(hosts)
    throw new HostError(
      `${where}: no host named "${text}". Use "${LOCAL_HOST}", an ssh://[user@]host[:port] address, or a name from "hosts" in daemon.json` +
        (known.length > 0 ? ` (${known.join(', ')})` : ' (none are set)') +
        '.',
    )
  }
  const target = parseSshUrl(url, `hosts.${text}`)
  return {name: text, kind: 'ssh', target, url: formatSshUrl(target)}
}
