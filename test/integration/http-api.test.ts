/**
 * The REST + SSE API (fake claude, real daemon, real HTTP on 127.0.0.1): every response is
 * validated against the Go hld's OpenAPI document (test/fixtures/hld-openapi.yaml, a copy of
 * shared/reference/hld-openapi.yaml) with openapi-backend's response validator.
 */
import {mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import http from 'node:http'
import path from 'node:path'

import {expect} from 'chai'
import addFormats from 'ajv-formats'
import {OpenAPIBackend} from 'openapi-backend'

import {Health} from '../../src/protocol/daemon.js'
import {REPO_ROOT, Sandbox, waitFor} from '../helpers/sandbox.js'
import {FAKE_CLAUDE} from '../helpers/sessions.js'

const SPEC = path.join(REPO_ROOT, 'test', 'fixtures', 'hld-openapi.yaml')

/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call -- bodies are checked against the OpenAPI document, not typed */
interface Reply {
  status: number
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any
}

const validator = new OpenAPIBackend({definition: SPEC, quick: true, customizeAjv: (ajv) => addFormats.default(ajv)})

/** A daemon with its REST API on, and calls to it. */
class RestApi {
  base = ''
  token = ''
  readonly sandbox = new Sandbox()

  async start(env: Record<string, string>): Promise<void> {
    await validator.init()
    await this.sandbox.startDaemon({HUMANLAYER_CLAUDE_PATH: FAKE_CLAUDE, HUMANLAYER_DAEMON_HTTP_PORT: '0', ...env})
    const client = await this.sandbox.client()
    try {
      this.base = (await client.call(Health, {})).components.http?.detail ?? 'the daemon reports no HTTP API'
    } finally {
      client.close()
    }
    const tokenFile = path.join(this.sandbox.home, '.humanlayer', 'http-token')
    expect(statSync(tokenFile).mode & 0o777).to.equal(0o600)
    this.token = readFileSync(tokenFile, 'utf8').trim()
  }

  request(method: string, route: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const all = {authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...headers}
      const req = http.request(`${this.base}${route}`, {method, headers: all}, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({status: res.statusCode!, body: text === '' ? undefined : JSON.parse(text)}))
      })
      req.on('error', reject)
      req.end(body === undefined ? undefined : JSON.stringify(body))
    })
  }

  /** The call, with its response checked against the document for that operation and status. */
  async call(operationId: string, method: string, route: string, body?: unknown): Promise<Reply> {
    const reply = await this.request(method, route, body)
    const result = validator.validateResponse(reply.body, operationId, reply.status)
    expect(result.errors ?? [], `${operationId} ${reply.status} ${JSON.stringify(reply.body).slice(0, 400)}`).to.deep.equal([])
    return reply
  }
}

describe('REST + SSE API (fake claude, real daemon)', function () {
  this.timeout(60_000)
  const api = new RestApi()
  const {sandbox} = api
  let base: string
  let token: string
  const request = api.request.bind(api)
  const call = api.call.bind(api)

  before(async () => {
    await api.start({HUMANLAYER_DAEMON_HTTP_ALLOWED_ORIGINS: 'http://localhost:1420', HUMANLAYER_HEARTBEAT_INTERVAL_MS: '200'})
    ;({base, token} = api)
  })

  after(async () => sandbox.cleanup())

  async function launch(query: string): Promise<string> {
    const cwd = path.join(sandbox.root, 'work')
    mkdirSync(cwd, {recursive: true})
    const reply = await call('createSession', 'POST', '/sessions', {query, working_dir: cwd})
    expect(reply.status).to.equal(201)
    return reply.body.data.session_id as string
  }

  async function statusOf(id: string): Promise<string> {
    return (await call('getSession', 'GET', `/sessions/${id}`)).body.data.status as string
  }

  describe('access', () => {
    it('refuses requests without the bearer token (401), with the wrong one too', async () => {
      const none = await request('GET', '/health', undefined, {authorization: ''})
      expect(none.status).to.equal(401)
      expect(none.body.error.message).to.contain('Authorization: Bearer')
      expect((await request('GET', '/sessions', undefined, {authorization: `Bearer ${'0'.repeat(64)}`})).status).to.equal(401)
    })

    it('refuses a foreign Origin (403) even with the token; an allowed one passes', async () => {
      const foreign = await request('GET', '/sessions', undefined, {origin: 'https://evil.example'})
      expect(foreign.status).to.equal(403)
      expect(foreign.body.error.message).to.contain('http_allowed_origins')
      expect((await request('GET', '/health', undefined, {origin: 'http://localhost:1420'})).status).to.equal(200)
    })

    it('refuses a Host that is not loopback (DNS rebinding)', async () => {
      expect((await request('GET', '/health', undefined, {host: 'attacker.example:80'})).status).to.equal(403)
    })
  })

  it('health, and 404 for an unknown session, in the documented shapes', async () => {
    expect((await call('getHealth', 'GET', '/health')).body).to.include({status: 'ok'})
    expect((await call('getSession', 'GET', '/sessions/no-such-session')).status).to.equal(404)
  })

  it('validates requests against the document: a session without a query is a 400', async () => {
    const reply = await call('createSession', 'POST', '/sessions', {title: 'no query'})
    expect(reply.status).to.equal(400)
  })

  it('launches, lists, reads and changes sessions through REST', async () => {
    const id = await launch('over rest')
    await waitFor(async () => (await statusOf(id)) === 'completed', 15_000, 'the session to complete')

    const leaves = await call('listSessions', 'GET', '/sessions')
    expect(leaves.body.data.map((s: {id: string}) => s.id)).to.include(id)
    await call('listSessions', 'GET', '/sessions?leavesOnly=false&filter=normal')
    const messages = await call('getSessionMessages', 'GET', `/sessions/${id}/messages`)
    expect(messages.body.data[0]).to.include({event_type: 'message', role: 'user', content: 'over rest'})
    await call('getSessionSnapshots', 'GET', `/sessions/${id}/snapshots`)
    expect((await call('getRecentPaths', 'GET', '/recent-paths?limit=5')).body.data).to.have.length(1)

    const patched = await call('updateSession', 'PATCH', `/sessions/${id}`, {title: 'Renamed', auto_accept_edits: true})
    expect(patched.body.data).to.include({title: 'Renamed', auto_accept_edits: true})
    expect((await call('updateSession', 'PATCH', `/sessions/${id}`, {model: 'opus'})).status).to.equal(400)

    expect((await call('interruptSession', 'POST', `/sessions/${id}/interrupt`)).status).to.equal(400)
    const child = await call('continueSession', 'POST', `/sessions/${id}/continue`, {query: 'and more'})
    expect(child.status).to.equal(201)
    expect(child.body.data.parent_session_id).to.equal(id)

    expect((await call('bulkArchiveSessions', 'POST', '/sessions/archive', {session_ids: [id], archived: true})).status).to.equal(200)
    const partial = await call('bulkArchiveSessions', 'POST', '/sessions/archive', {session_ids: [id, 'nope'], archived: false})
    expect(partial.status).to.equal(207)
    expect(partial.body.data).to.deep.equal({success: false, failed_sessions: ['nope']})
  })

  it('lists, shows and decides approvals through REST; a second decision is a 400', async () => {
    const id = await launch('[fake:permission] rest approval')
    let approvals: {id: string; status: string}[] = []
    await waitFor(
      async () => (approvals = (await call('listApprovals', 'GET', `/approvals?sessionId=${id}`)).body.data).length > 0,
      15_000,
      'an approval',
    )
    const [approval] = approvals
    expect((await call('getApproval', 'GET', `/approvals/${approval.id}`)).body.data).to.include({
      status: 'pending',
      session_id: id,
      tool_name: 'Bash',
    })
    expect((await call('decideApproval', 'POST', `/approvals/${approval.id}/decide`, {decision: 'approve'})).body).to.deep.equal({
      data: {success: true},
    })
    // The kernel names the decider (this test's process, found by its connection), channel rest.
    const decided = (await call('getApproval', 'GET', `/approvals/${approval.id}`)).body.data
    expect(decided).to.include({status: 'approved', hld_status: 'approved'})
    expect(decided.decided_by).to.include({channel: 'rest', pid: process.pid, uid: process.getuid!()})
    expect((await call('decideApproval', 'POST', `/approvals/${approval.id}/decide`, {decision: 'deny', comment: 'late'})).status).to.equal(
      400,
    )
    await waitFor(async () => (await statusOf(id)) === 'completed', 15_000, 'the session to complete')
  })

  it("SSE delivers a launch's events, filtered by session, and resumes after Last-Event-ID", async () => {
    const id = await launch('streamed [fake:slow=300]')
    const first = await readEvents({sessionId: id}, undefined, (events) => events.some((e) => e.data.new_status === 'completed'))
    expect(first.every((e) => e.data.session_id === id)).to.equal(true)
    expect(first.map((e) => e.type)).to.include.members(['session_status_changed', 'conversation_updated'])
    const ids = first.map((e) => e.id)
    expect(ids).to.deep.equal([...ids].sort((a, b) => a - b))

    // Resume from the middle: exactly what followed, nothing twice.
    const middle = ids[Math.floor(ids.length / 2)]
    const resumed = await readEvents({sessionId: id}, middle, (events) => events.length >= ids.filter((n) => n > middle).length)
    expect(resumed.map((e) => e.id)).to.deep.equal(ids.filter((n) => n > middle))
  })

  it('sends keepalive comments on an idle stream and filters by event type', async () => {
    const comments = await new Promise<string>((resolve, reject) => {
      const req = http.get(
        `${base}/stream/events?eventTypes=session_settings_changed&runId=nothing-matches`,
        {headers: {authorization: `Bearer ${token}`}},
        (res) => {
          let text = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => {
            text += chunk
            if (text.includes(': keepalive')) {
              req.destroy()
              resolve(text)
            }
          })
        },
      )
      req.on('error', (error) => (error.message.includes('aborted') ? undefined : reject(error)))
    })
    expect(comments).to.contain(': keepalive').and.not.contain('data:')
  })

  interface StreamEvent {
    id: number
    type: string
    data: Record<string, unknown>
  }

  function readEvents(
    filter: Record<string, string>,
    lastEventId: number | undefined,
    done: (events: StreamEvent[]) => boolean,
  ): Promise<StreamEvent[]> {
    return new Promise((resolve, reject) => {
      const query = new URLSearchParams(filter).toString()
      const headers: Record<string, string> = {authorization: `Bearer ${token}`}
      if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId)
      const events: StreamEvent[] = []
      const req = http.get(`${base}/stream/events?${query}`, {headers}, (res) => {
        expect(res.statusCode).to.equal(200)
        expect(res.headers['content-type']).to.equal('text/event-stream')
        let buffer = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          buffer += chunk
          let end
          while ((end = buffer.indexOf('\n\n')) !== -1) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            const data = block.split('\n').find((line) => line.startsWith('data: '))
            const idLine = block.split('\n').find((line) => line.startsWith('id: '))
            if (!data) continue
            const event = JSON.parse(data.slice(6)) as StreamEvent
            expect(idLine).to.equal(`id: ${event.id}`)
            events.push(event)
          }
          if (done(events)) {
            req.destroy()
            resolve(events)
          }
        })
      })
      req.on('error', (error) => (events.length > 0 && done(events) ? undefined : reject(error)))
      setTimeout(() => {
        req.destroy()
        reject(new Error(`no end of the stream within 20 s; got ${JSON.stringify(events.map((e) => [e.id, e.type]))}`))
      }, 20_000).unref()
    })
  }
})

describe('REST statuses the document lacks', function () {
  this.timeout(60_000)
  const api = new RestApi()
  after(async () => api.sandbox.cleanup())

  it("shows a queued session as starting, with hld's status in hld_status, in the documented shape", async () => {
    await api.start({HUMANLAYER_MAX_CONCURRENT_SESSIONS: '1'})
    const cwd = path.join(api.sandbox.root, 'work')
    mkdirSync(cwd, {recursive: true})
    const first = (await api.call('createSession', 'POST', '/sessions', {query: 'holds the slot [fake:hold]', working_dir: cwd})).body.data
      .session_id as string
    const second = (await api.call('createSession', 'POST', '/sessions', {query: 'waits for it', working_dir: cwd})).body.data
      .session_id as string
    const queued = (await api.call('getSession', 'GET', `/sessions/${second}`)).body.data
    expect(queued).to.include({status: 'starting', hld_status: 'queued'})
    const listed = (await api.call('listSessions', 'GET', '/sessions?leavesOnly=false')).body.data as {id: string; status: string}[]
    expect(listed.find((s) => s.id === second)).to.include({status: 'starting', hld_status: 'queued'})
    // The slot frees: the queued one runs, and its status is Go's own again.
    writeFileSync(path.join(cwd, 'hld-release'), '')
    await waitFor(
      async () => (await api.call('getSession', 'GET', `/sessions/${second}`)).body.data.status === 'completed',
      30_000,
      'the queued session to run',
    )
    expect((await api.call('getSession', 'GET', `/sessions/${first}`)).body.data)
      .to.include({status: 'completed'})
      .and.not.have.property('hld_status')
  })
})

describe('REST API is off by default', function () {
  this.timeout(30_000)
  const sandbox = new Sandbox()
  after(async () => sandbox.cleanup())

  it('serves no HTTP and writes no token unless http_port is set', async () => {
    await sandbox.startDaemon()
    const client = await sandbox.client()
    try {
      expect((await client.call(Health, {})).components).to.not.have.property('http')
    } finally {
      client.close()
    }
    expect(() => statSync(path.join(sandbox.home, '.humanlayer', 'http-token'))).to.throw()
  })
})
