/**
 * The approvers behind `hld mcp claude-approvals`, with their long intervals made short: the
 * local one asks the daemon again after each long-poll chunk and gives up when the daemon stays
 * away; the cloud one reads the function call every poll interval and gives up when the API
 * keeps failing. In production these are 60 s and 10 minutes; a regression in either loop would
 * otherwise only show after that long.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import {expect} from 'chai'

import {createLogger} from '../../../src/shared/logger.js'
import {CloudApprover} from '../../../src/mcp/cloud-approver.js'
import {LocalApprover} from '../../../src/mcp/local-approver.js'
import {FetchApprovals, SendDecision} from '../../../src/protocol/approvals.js'
import {type FakeHumanLayerApi, startFakeHumanLayerApi} from '../../fixtures/fake-humanlayer-api.js'
import {InProcessDaemon, waitForApproval} from '../../helpers/approvals.js'
import {FakeSessions} from '../../helpers/fake-sessions.js'
import {Sandbox, waitFor} from '../../helpers/sandbox.js'

const log = createLogger('error', {kind: 'none'})
const REQUEST = {tool_name: 'Bash', input: {command: 'touch x'}, tool_use_id: 'toolu_1'}

describe('MCP approvers', () => {
  describe('local', () => {
    let sandbox: Sandbox
    let daemon: InProcessDaemon
    let abort: AbortController

    beforeEach(async () => {
      abort = new AbortController()
      sandbox = new Sandbox()
      const sessions = new FakeSessions()
      sessions.add({id: 's1', run_id: 'run-1'})
      daemon = new InProcessDaemon(sandbox, sessions)
      await daemon.start()
    })

    afterEach(async () => {
      abort.abort()
      await daemon.stop()
      await sandbox.cleanup()
    })

    it('asks again after each long-poll chunk until a human decides', async () => {
      const approver = new LocalApprover({socketPath: sandbox.socketPath, runId: 'run-1', log, waitChunkMs: 20})
      const asked = approver.request(REQUEST, abort.signal)
      const pending = await waitForApproval(sandbox, (list) => list[0])
      await sleep(200) // several chunks answer "not yet" in the meantime
      const client = await sandbox.client()
      try {
        await client.call(SendDecision, {approval_id: pending.id, decision: 'approve', comment: 'fine'})
      } finally {
        client.close()
      }
      const decided = await asked
      expect(decided).to.include({id: pending.id, status: 'approved', comment: 'fine'})
    })

    it('gives up, with what happened, when the daemon stays away past giveUpAfterMs', async () => {
      const approver = new LocalApprover({socketPath: sandbox.socketPath, runId: 'run-1', log, waitChunkMs: 20, giveUpAfterMs: 300})
      const asked = approver.request(REQUEST, abort.signal).then(
        () => undefined,
        (error: Error) => error,
      )
      await waitForApproval(sandbox, (list) => list[0])
      await daemon.stop()
      const error = await asked
      expect(error?.message).to.match(/^Lost the hld daemon at .+ while waiting for approval /)
    })

    it('goes on waiting when the daemon comes back within giveUpAfterMs', async () => {
      const approver = new LocalApprover({socketPath: sandbox.socketPath, runId: 'run-1', log, waitChunkMs: 20, giveUpAfterMs: 60_000})
      const asked = approver.request(REQUEST, abort.signal)
      const pending = await waitForApproval(sandbox, (list) => list[0])
      await daemon.stop()
      await daemon.start()
      const client = await sandbox.client()
      try {
        await waitFor(async () => (await client.call(FetchApprovals, {})).approvals.length === 1, 5000, 'the approval after restart')
        await client.call(SendDecision, {approval_id: pending.id, decision: 'deny', comment: 'no'})
      } finally {
        client.close()
      }
      expect(await asked).to.include({id: pending.id, status: 'denied', comment: 'no'})
    })
  })

  describe('cloud', () => {
    let api: FakeHumanLayerApi
    let abort: AbortController

    beforeEach(async () => {
      abort = new AbortController()
      api = await startFakeHumanLayerApi()
    })
    afterEach(async () => {
      abort.abort()
      await api.close()
    })

    const approver = (giveUpAfterMs: number) =>
      new CloudApprover({
        apiKey: api.apiKey,
        apiBaseUrl: api.baseUrl,
        runId: 'run-1',
        pollIntervalMs: 20,
        requestTimeoutMs: 2000,
        log,
        giveUpAfterMs,
      })

    it('reads the function call every poll interval until it is answered', async () => {
      const asked = approver(60_000).request(REQUEST, abort.signal)
      await waitFor(() => api.functionCalls.size === 1, 5000, 'the function call')
      const [callId] = api.functionCalls.keys()
      await waitFor(() => api.requests.filter((r) => r.method === 'GET' && r.path.endsWith(callId)).length >= 3, 5000, 'three polls')
      api.respondOutOfBand(callId, {approved: true, comment: 'ok'})
      expect(await asked).to.deep.equal({call_id: callId, approved: true, comment: 'ok'})
    })

    it('gives up when the API keeps failing past giveUpAfterMs', async () => {
      const asked = approver(300)
        .request(REQUEST, abort.signal)
        .then(
          () => undefined,
          (error: Error) => error,
        )
      await waitFor(() => api.functionCalls.size === 1, 5000, 'the function call')
      api.failNext(1_000, {path: /^\/function_calls\//})
      const error = await asked
      expect(error?.message).to.match(/^The HumanLayer API failed for \d+ s while waiting for /)
    })
  })
})
