/**
 * API faults, end to end: a real daemon polls the fake HumanLayer API while it answers 500,
 * 429, malformed JSON or 409, or does not answer in time, and the built CLI decides.
 * The poller backs off (the wait doubles per failure, as health reports it), says what went
 * wrong in health.components.cloud, recovers, and lists what arrived meanwhile; the daemon
 * stays up. A decision the API refused exits 7 naming the failure and leaves the approval
 * pending; a 409 exits 5 and the approval is resolved_externally.
 * (The poller's backoff arithmetic and the HTTP client are unit-tested in
 * test/unit/daemon/approvals/poller.test.ts; approvals-cloud.test.ts covers the happy paths.)
 */
import {expect} from 'chai'

import type {DaemonClient} from '../../src/client/index.js'
import {GetApproval} from '../../src/protocol/approvals.js'
import {Health, type ComponentHealth} from '../../src/protocol/daemon.js'
import {type FakeHumanLayerApi, PENDING_LIST_PATHS, startFakeHumanLayerApi} from '../fixtures/fake-humanlayer-api.js'
import {waitForApproval} from '../helpers/approvals.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'

const POLL_INTERVAL_MS = 50
const API_TIMEOUT_MS = 300
/** Consecutive faults armed per case: enough for the wait to double a few times. */
const FAULTS_IN_A_ROW = 3

interface Fault {
  name: string
  arm(fake: FakeHumanLayerApi, n: number, path: string | RegExp): void
  /** What the daemon's message says about it. */
  says: string
}

const FAULTS: Fault[] = [
  {name: '500', arm: (fake, n, path) => fake.failNext(n, {status: 500, path}), says: 'answered 500'},
  {name: '429', arm: (fake, n, path) => fake.failNext(n, {status: 429, path}), says: 'answered 429'},
  {name: 'malformed JSON', arm: (fake, n, path) => fake.malformedNext(n, {path}), says: 'not JSON'},
  {name: 'a timeout', arm: (fake, n, path) => fake.delayNext(n, API_TIMEOUT_MS * 4, {path}), says: `no answer within ${API_TIMEOUT_MS} ms`},
]

const RETRY = /^(\d+) failed poll\(s\), retrying in (\d+) ms: /

describe('API faults (real daemon, fake HumanLayer API)', function () {
  this.timeout(60_000)
  let fake: FakeHumanLayerApi
  let sandbox: Sandbox
  let client: DaemonClient
  let pid: number

  before(async () => {
    fake = await startFakeHumanLayerApi()
    sandbox = new Sandbox({
      HUMANLAYER_API_KEY: fake.apiKey,
      HUMANLAYER_API_BASE_URL: fake.baseUrl,
      HUMANLAYER_POLL_INTERVAL_MS: String(POLL_INTERVAL_MS),
      HUMANLAYER_API_TIMEOUT_MS: String(API_TIMEOUT_MS),
    })
    pid = (await sandbox.startDaemon()).pid
    client = await sandbox.client()
  })

  after(async () => {
    client?.close()
    await sandbox.cleanup()
    await fake.close()
  })

  const cloud = async (): Promise<ComponentHealth> => {
    const health = await client.call(Health, {})
    expect(health.pid, 'the daemon that answers is the one started').to.equal(pid)
    return health.components.cloud
  }
  const cloudHealthy = (): Promise<void> => waitFor(async () => (await cloud()).available, 10_000, 'the cloud poller to be healthy')
  const statusOf = async (id: string): Promise<string> => (await client.call(GetApproval, {approval_id: id})).approval.status

  for (const fault of FAULTS) {
    it(`poller, ${fault.name} on the pending lists: backs off, says so in health, recovers, lists what came meanwhile`, async () => {
      await cloudHealthy()
      fault.arm(fake, FAULTS_IN_A_ROW, PENDING_LIST_PATHS)
      const call = fake.addFunctionCall({run_id: `run-poll-${fault.name}`, fn: 'deploy', kwargs: {fault: fault.name}})

      const failing: string[] = []
      await waitFor(
        async () => {
          const {available, detail} = await cloud()
          if (!available) failing.push(detail ?? '')
          return available && failing.length > 0
        },
        20_000,
        `the poller to fail on ${fault.name} and recover`,
      )
      expect(
        failing.some((detail) => detail.includes(fault.says)),
        `health while failing: ${failing.join(' | ')}`,
      ).to.equal(true)
      const backoff = failing.map((detail) => RETRY.exec(detail)).map((match) => match && [Number(match[1]), Number(match[2])])
      for (const pair of backoff) {
        expect(pair, `health detail while failing: ${failing.join(' | ')}`).to.not.equal(null)
        const [failures, retryMs] = pair!
        expect(retryMs, `wait after ${failures} failure(s)`).to.equal(POLL_INTERVAL_MS * 2 ** failures)
      }
      expect(Math.max(...backoff.map((pair) => pair![0])), 'consecutive failures seen').to.be.at.most(FAULTS_IN_A_ROW)

      const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.id === call.call_id), `${call.call_id} after recovery`)
      expect(approval).to.include({source: 'cloud', status: 'pending', tool_name: 'deploy'})
    })
  }

  const respondPath = (callId: string): string => `/agent/function_calls/${callId}/respond`

  /** A cloud function call the daemon lists as pending. */
  async function listedCall(runId: string): Promise<string> {
    await cloudHealthy()
    const call = fake.addFunctionCall({run_id: runId, fn: 'rotate_keys', kwargs: {}})
    await waitForApproval(sandbox, (list) => list.find((a) => a.id === call.call_id), call.call_id)
    return call.call_id
  }

  for (const fault of FAULTS.filter((f) => f.name === '500' || f.name === '429')) {
    it(`decision, ${fault.name} on respond: exits 7 naming the API failure, stays pending, and a retry lands`, async () => {
      const id = await listedCall(`run-decide-${fault.name}`)
      fault.arm(fake, 1, respondPath(id))
      const refused = await sandbox.cli(['approvals', 'approve', id, '--comment', 'go'])
      expect(refused.exitCode, refused.stderr).to.equal(7)
      expect(refused.stderr).to.contain('HumanLayer API').and.contain(fault.says).and.contain('still pending')
      expect(await statusOf(id)).to.equal('pending')
      expect(fake.functionCalls.get(id)!.status.approved ?? null).to.equal(null)

      const retried = await sandbox.cli(['approvals', 'approve', id, '--comment', 'go'])
      expect(retried.exitCode, retried.stderr).to.equal(0)
      expect(await statusOf(id)).to.equal('approved')
      expect(fake.functionCalls.get(id)!.status).to.include({approved: true, comment: 'go'})
    })
  }

  it('decision, malformed JSON in a 2xx to respond: the API took it, so it is approved (exit 0)', async () => {
    const id = await listedCall('run-decide-malformed')
    fake.malformedNext(1, {path: respondPath(id)})
    const approved = await sandbox.cli(['approvals', 'approve', id])
    expect(approved.exitCode, approved.stderr).to.equal(0)
    expect(await statusOf(id)).to.equal('approved')
    expect(fake.functionCalls.get(id)!.status.approved).to.equal(true)
  })

  it('decision, a timeout on respond: exits 7 saying no answer came and that it may have been taken; the late answer then shows', async () => {
    const id = await listedCall('run-decide-timeout')
    fake.delayNext(1, API_TIMEOUT_MS * 4, {path: respondPath(id)})
    const timedOut = await sandbox.cli(['approvals', 'deny', id, '--comment', 'too late?'])
    expect(timedOut.exitCode, timedOut.stderr).to.equal(7)
    expect(timedOut.stderr)
      .to.contain('HumanLayer API')
      .and.contain(`no answer within ${API_TIMEOUT_MS} ms`)
      .and.contain('may have been taken')
    // The fake handles the delayed respond after all: the next polls find it answered.
    await waitFor(async () => (await statusOf(id)) === 'resolved_externally', 15_000, `${id} to be resolved_externally`)
    expect(fake.functionCalls.get(id)!.status).to.include({approved: false, comment: 'too late?'})
    const again = await sandbox.cli(['approvals', 'deny', id, '--comment', 'again'])
    expect(again.exitCode, again.stderr).to.equal(5)
  })

  it('decision, 409 on respond: exits 5 and the approval becomes resolved_externally', async () => {
    const id = await listedCall('run-decide-409')
    // Answered in Slack a moment ago, and the poller has not seen it yet: the API says 409.
    fake.failNext(1, {status: 409, path: respondPath(id)})
    const conflict = await sandbox.cli(['approvals', 'approve', id])
    expect(conflict.exitCode, conflict.stderr).to.equal(5)
    expect(conflict.stderr).to.contain('already answered elsewhere')
    expect(await statusOf(id)).to.equal('resolved_externally')
  })

  it('is still up and polling after all of it', async () => {
    await cloudHealthy()
    const status = await sandbox.cli(['daemon', 'status', '--json'])
    expect(status.exitCode, status.stderr).to.equal(0)
    expect(Sandbox.json<{pid: number}>(status).pid).to.equal(pid)
  })
})
