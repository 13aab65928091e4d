/**
 * Who may use the REST API: a local process that can read the token file (0600), sending
 * `Authorization: Bearer <token>`; browsers only from allowed origins; and only through a
 * loopback Host name (a page on another site cannot reach us by DNS rebinding). The Go hld
 * serves the same API to anyone on the machine with `CORS: *`.
 */
import {randomBytes, timingSafeEqual} from 'node:crypto'
import {mkdir, readFile, writeFile, chmod} from 'node:fs/promises'
import type {IncomingMessage} from 'node:http'
import path from 'node:path'

export interface AccessPolicy {
  /** null: `http_auth: "none"`, every local caller is let in. */
  token: string | null
  allowedOrigins: readonly string[]
}

/** The token in `file`, made (random, 0600, directory 0700) when the file has none. */
export async function ensureToken(file: string): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim()
    if (/^[\da-f]{64}$/.test(existing)) {
      await chmod(file, 0o600)
      return existing
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  await mkdir(path.dirname(file), {recursive: true, mode: 0o700})
  const token = randomBytes(32).toString('hex')
  await writeFile(file, `${token}\n`, {mode: 0o600})
  await chmod(file, 0o600)
  return token
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** Why the request may not go on (status and message), or undefined when it may. */
export function refusal(req: IncomingMessage, policy: AccessPolicy): {status: 401 | 403; message: string} | undefined {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase()
  if (!LOOPBACK_HOSTS.has(host))
    return {status: 403, message: `Host ${JSON.stringify(req.headers.host ?? '')} is not this machine's loopback address`}
  const origin = req.headers.origin
  if (origin !== undefined && !policy.allowedOrigins.includes(origin)) {
    return {status: 403, message: `Origin ${origin} is not allowed; add it to http_allowed_origins to let that page call the API`}
  }
  if (policy.token === null) return undefined
  const match = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')
  const given = Buffer.from(match?.[1] ?? '')
  const expected = Buffer.from(policy.token)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return {status: 401, message: 'Send Authorization: Bearer <token>, with the token from the http_token_file (~/.humanlayer/http-token)'}
  }
  return undefined
}
