/**
 * Builds the approvals part of the daemon: the service, its handlers, and the cloud poller when
 * an api_key is configured. The key goes to the API client only; nothing here logs or returns it.
 */
import type {Config} from '../../config/index.js'
import {hasProcFs} from '../../shared/procfs.js'
import type {ComponentHealth} from '../../protocol/daemon.js'
import type {EventBus} from '../bus/index.js'
import type {Logger} from '../../shared/logger.js'
import {peerIdentityProblem} from '../../shared/peer.js'
import type {Router} from '../rpc/router.js'
import type {Db} from '../store/index.js'
import {HttpHumanLayerApi, type HumanLayerApi} from './cloud-api.js'
import {DeciderCheck, type SessionProcess} from './deciders.js'
import {registerApprovalHandlers} from './handlers.js'
import {CloudPoller} from './poller.js'
import {ApprovalService, type ApprovalServiceDeps, runNow} from './service.js'
import type {SessionLink} from './session-link.js'

export interface ApprovalsDeps {
  config: Pick<Config, 'api_key' | 'api_base_url' | 'poll_interval_ms' | 'api_timeout_ms'>
  db: Db
  /** Store.write: cloud snapshots and other writes no request started wait for the database's lock with it. */
  write?: <T>(work: () => T, options?: {durable?: boolean}) => Promise<T>
  bus: EventBus
  sessions: SessionLink
  /** The claude processes of running sessions, whose trees may not decide approvals. */
  sessionProcesses: () => SessionProcess[]
  router: Router
  log: Logger
  /** See ApprovalServiceDeps.settingApproval. */
  settingApproval?: ApprovalServiceDeps['settingApproval']
  /** Replaces the HTTP client (tests); only used when an api_key is configured. */
  api?: HumanLayerApi
}

export interface Approvals {
  service: ApprovalService
  /** For `health.components.cloud`. */
  health(): ComponentHealth
  /** First step of shutdown: answer the long-polls so the socket server can drain. */
  releaseWaiters(): void
  stop(): Promise<void>
}

export function startApprovals(deps: ApprovalsDeps): Approvals {
  const {config, log} = deps
  const api = config.api_key
    ? (deps.api ?? new HttpHumanLayerApi({baseUrl: config.api_base_url, apiKey: config.api_key, timeoutMs: config.api_timeout_ms}))
    : undefined
  const approvalsLog = log.child({component: 'approvals'})
  const deciders = new DeciderCheck({sessionProcesses: deps.sessionProcesses, log: approvalsLog, procfs: hasProcFs()})
  if (!hasProcFs())
    approvalsLog.warn('no /proc: decisions from inside a session cannot be told apart and are not refused (see the README, Security model)')
  else if (peerIdentityProblem())
    approvalsLog.error('decisions will be refused: the daemon cannot tell who sends them', {reason: peerIdentityProblem()})
  const service = new ApprovalService({
    db: deps.db,
    bus: deps.bus,
    sessions: deps.sessions,
    log: approvalsLog,
    deciders,
    cloud: api,
    write: deps.write,
    settingApproval: deps.settingApproval,
  })
  const write = deps.write ?? runNow
  registerApprovalHandlers(deps.router, service)
  service.start()

  const poller = api
    ? new CloudPoller({
        api,
        intervalMs: config.poll_interval_ms,
        onSnapshot: async (snapshot, signal) => {
          await write(() => service.applyCloudSnapshot(snapshot, signal))
        },
        log: log.child({component: 'cloud-poller'}),
      })
    : undefined
  poller?.start()
  if (poller) log.info('polling the HumanLayer API for approvals', {base_url: config.api_base_url, interval_ms: config.poll_interval_ms})

  return {
    service,
    health(): ComponentHealth {
      if (!poller) return {available: false, detail: 'no api_key: local approvals only'}
      const {failures, lastError} = poller.status()
      return failures === 0
        ? {available: true, detail: `polling ${config.api_base_url} every ${config.poll_interval_ms} ms`}
        : {available: false, detail: `${failures} failed poll(s), retrying in ${poller.nextDelay()} ms: ${lastError}`}
    },
    releaseWaiters: () => service.releaseWaiters(),
    async stop() {
      await poller?.stop()
      service.stop()
    },
  }
}
