/**
 * Cloud approvals through real parts: the real @humanlayer/sdk talks to the fake HumanLayer API,
 * a real daemon process polls it, and the built CLI decides.
 */
import {readdirSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'

import {humanlayer} from '@humanlayer/sdk'
import {expect} from 'chai'

import {type Approval, SendDecision} from '../../src/protocol/approvals.js'
import {type FakeHumanLayerApi, startFakeHumanLayerApi} from '../fixtures/fake-humanlayer-api.js'
import {InProcessDaemon, requestPermission, waitForApproval} from '../helpers/approvals.js'
import {FakeSessions} from '../helpers/fake-sessions.js'
import {Sandbox, waitFor} from '../helpers/sandbox.js'

const fastSleep = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10))

describe('cloud approvals', function () {
  this.timeout(60_000)
  let fake: FakeHumanLayerApi
  let sandbox: Sandbox

  before(async () => {
    fake = await startFakeHumanLayerApi()
    sandbox = new Sandbox({HUMANLAYER_API_KEY: fake.apiKey, HUMANLAYER_API_BASE_URL: fake.baseUrl, HUMANLAYER_POLL_INTERVAL_MS: '50'})
    await sandbox.startDaemon()
  })

  after(async () => {
    await sandbox.cleanup()
    await fake.close()
  })

  const sdk = (runId: string) => humanlayer({apiKey: fake.apiKey, apiBaseUrl: fake.baseUrl, runId, sleep: fastSleep})
  const listed = (result: {stdout: string; stderr: string}) => Sandbox.json<{approvals: Approval[]}>(result as never).approvals

  it('shows a function call the SDK created, unassociated; approve reaches the SDK', async () => {
    const waiting = sdk('run-elsewhere').fetchHumanApproval({spec: {fn: 'deploy', kwargs: {env: 'prod'}}})
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.tool_name === 'deploy'))
    expect(approval).to.include({source: 'cloud', type: 'function_call', run_id: 'run-elsewhere', session_id: null, unassociated: true})
    expect(approval.tool_input).to.deep.equal({env: 'prod'})

    const list = await sandbox.cli(['approvals', 'list'])
    expect(list.stdout).to.contain('unassociated').and.contain(approval.id)
    const approve = await sandbox.cli(['approvals', 'approve', approval.id, '--comment', 'ship it'])
    expect(approve.exitCode, approve.stderr).to.equal(0)
    const status = await waiting
    expect(status).to.include({approved: true, comment: 'ship it'})
  })

  it('denies with the comment the SDK reports', async () => {
    const waiting = sdk('run-x').fetchHumanApproval({spec: {fn: 'drop_table', kwargs: {}}})
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.tool_name === 'drop_table'))
    expect((await sandbox.cli(['approvals', 'deny', approval.id, '--comment', 'not on a Friday'])).exitCode).to.equal(0)
    expect(await waiting).to.include({approved: false, comment: 'not on a Friday'})
  })

  it('answers a human contact with respond', async () => {
    const contact = fake.addHumanContact({run_id: 'run-y', msg: 'Which region?'})
    const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.id === contact.call_id))
    expect(approval).to.include({type: 'human_contact', message: 'Which region?'})
    expect((await sandbox.cli(['approvals', 'approve', approval.id])).exitCode).to.equal(2)
    expect((await sandbox.cli(['approvals', 'respond', approval.id, 'eu-west-1'])).exitCode).to.equal(0)
    expect(fake.humanContacts.get(contact.call_id)!.status.response).to.equal('eu-west-1')
  })

  it('marks an item answered in Slack as resolved_externally; deciding it then is a conflict', async () => {
    const call = fake.addFunctionCall({run_id: 'run-z', fn: 'rotate_keys', kwargs: {}})
    await waitForApproval(sandbox, (list) => list.find((a) => a.id === call.call_id))
    fake.respondOutOfBand(call.call_id, {approved: true, comment: 'done in slack'})
    const approve = await sandbox.cli(['approvals', 'approve', call.call_id])
    // Either the poller saw it first (already decided) or the API answered 409: both are conflicts.
    expect(approve.exitCode).to.equal(5)
    await waitFor(
      async () => {
        const all = listed(await sandbox.cli(['approvals', 'list', '--all', '--json']))
        return all.find((a) => a.id === call.call_id)?.status === 'resolved_externally'
      },
      15_000,
      'resolved_externally',
    )
  })

  it('in cloud mode, the MCP server creates the function call with the run_id and answers what the reviewer decided', async () => {
    const allowed = await requestPermission(sandbox, {HUMANLAYER_RUN_ID: 'run-mcp'}, async () => {
      const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.run_id === 'run-mcp'))
      expect(approval).to.include({source: 'cloud', tool_name: 'Bash'})
      expect((await sandbox.cli(['approvals', 'approve', approval.id])).exitCode).to.equal(0)
    })
    expect(JSON.parse(allowed.text)).to.deep.equal({behavior: 'allow', updatedInput: {command: 'touch x'}})

    const denied = await requestPermission(sandbox, {HUMANLAYER_RUN_ID: 'run-mcp-2'}, async () => {
      const approval = await waitForApproval(sandbox, (list) => list.find((a) => a.run_id === 'run-mcp-2'))
      expect((await sandbox.cli(['approvals', 'deny', approval.id, '--comment', 'Not in prod'])).exitCode).to.equal(0)
    })
    expect(JSON.parse(denied.text)).to.deep.equal({behavior: 'deny', message: 'Not in prod'})
  })

  it('in cloud mode, an unreachable API is an MCP error, not an allow', async () => {
    const result = await requestPermission(sandbox, {
      HUMANLAYER_RUN_ID: 'run-mcp-3',
      HUMANLAYER_API_BASE_URL: 'http://127.0.0.1:9/humanlayer/v1',
    })
    expect(result.isError).to.equal(true)
    expect(result.text).to.contain('Cannot ask for approval').and.contain('127.0.0.1:9')
  })

  it('never prints, logs or returns the api key', async () => {
    const status = await sandbox.cli(['daemon', 'status', '--json'])
    expect(status.stdout).to.not.contain(fake.apiKey)
    expect(readFileSync(sandbox.logFile, 'utf8')).to.not.contain(fake.apiKey)
    for (const file of readdirSync(sandbox.root).filter((f) => f.startsWith('mcp-claude-approvals-'))) {
      expect(readFileSync(path.join(sandbox.root, file), 'utf8')).to.not.contain(fake.apiKey)
    }
  })
})

describe('cloud approvals at volume', function () {
  this.timeout(60_000)
  let fake: FakeHumanLayerApi
  let sandbox: Sandbox
  let daemon: InProcessDaemon

  before(async () => {
    fake = await startFakeHumanLayerApi()
    sandbox = new Sandbox()
    // In this process, so the heap can be measured after a forced collection.
    daemon = new InProcessDaemon(sandbox, new FakeSessions(), {
      HUMANLAYER_API_KEY: fake.apiKey,
      HUMANLAYER_API_BASE_URL: fake.baseUrl,
      HUMANLAYER_POLL_INTERVAL_MS: '20',
    })
    await daemon.start()
  })

  after(async () => {
    await daemon.stop()
    await sandbox.cleanup()
    await fake.close()
  })

  it('processes 100 approvals at a time with memory flat', async () => {
    const round = async (): Promise<void> => {
      const calls = Array.from({length: 100}, (_, i) => fake.addFunctionCall({run_id: `run-bulk-${i}`, fn: 'bulk', kwargs: {i}}))
      const ids = new Set(calls.map((c) => c.call_id))
      await waitForApproval(sandbox, (list) => (list.filter((a) => ids.has(a.id)).length === 100 ? list[0] : undefined), '100 approvals')
      const client = await sandbox.client()
      try {
        for (const call of calls) await client.call(SendDecision, {approval_id: call.call_id, decision: 'approve'})
      } finally {
        client.close()
      }
      // Answered items stay in the fake API's memory; drop them so only the daemon's count.
      for (const id of ids) fake.functionCalls.delete(id)
    }
    await round() // warm-up: caches, JIT, SQLite pages
    const before = heapAfterGc()
    for (let i = 0; i < 5; i++) await round()
    const growthMb = (heapAfterGc() - before) / 2 ** 20
    expect(growthMb, `heap grew by ${growthMb.toFixed(2)} MB over 500 approvals`).to.be.lessThan(3)
  })
})

function heapAfterGc(): number {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
  return process.memoryUsage().heapUsed
}
