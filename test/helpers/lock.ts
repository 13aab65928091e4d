import path from 'node:path'

import {execa} from 'execa'

import {REPO_ROOT, waitFor} from './sandbox.js'

const HOLD_WRITE_LOCK = path.join(REPO_ROOT, 'test', 'fixtures', 'hold-write-lock.mjs')

/** Another process holding the database's write lock (see the fixture); resolves once it holds it. */
export async function holdWriteLock(databasePath: string, minMs: number): Promise<{release(): Promise<void>}> {
  const child = execa(process.execPath, [HOLD_WRITE_LOCK, databasePath, String(minMs)], {stdin: 'pipe', reject: false})
  let output = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (text: string) => (output += text))
  await waitFor(() => output.includes('locked') || child.exitCode !== null, 10_000, 'the other process to take the write lock')
  if (!output.includes('locked')) throw new Error(`the locker failed: ${(await child).stderr}`)
  return {
    async release() {
      child.stdin.end('release\n')
      const result = await child
      if (!output.includes('released')) throw new Error(`the locker did not release cleanly: ${result.stderr}`)
    },
  }
}
