/**
 * Every page of `fetchApprovals`. A daemon answers a list larger than one reply in pages (each far
 * below what a client reads, however large the approvals), each naming where the next starts.
 */
import {type Approval, FetchApprovals, type FetchApprovalsResult} from '../protocol/approvals.js'
import type {ParamsOf} from '../protocol/method.js'
import type {DaemonClient} from './index.js'

export async function fetchAllApprovals(
  client: DaemonClient,
  params: Omit<ParamsOf<typeof FetchApprovals>, 'cursor'>,
): Promise<FetchApprovalsResult> {
  const approvals: Approval[] = []
  // An approval decided between two pages can make the next start a little early: each once.
  const seen = new Set<string>()
  let cursor: string | undefined
  for (;;) {
    const page = await client.call(FetchApprovals, cursor === undefined ? params : {...params, cursor})
    for (const approval of page.approvals) {
      if (seen.has(approval.id)) continue
      seen.add(approval.id)
      approvals.push(approval)
    }
    if (page.next_cursor === undefined) return {approvals}
    if (page.next_cursor === cursor)
      throw new Error(`fetchApprovals returned the same page cursor twice (${cursor}); the daemon is not moving on`)
    cursor = page.next_cursor
  }
}
