/** Who waits for which approval's decision (waitForDecision long-polls), woken by id. */
export class DecisionWaiters {
  private readonly byId = new Map<string, Set<() => void>>()

  /** Resolves on wake(id), after `timeoutMs`, or when `signal` aborts, whichever comes first. */
  wait(id: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve()
      const done = (): void => {
        clearTimeout(timer)
        signal.removeEventListener('abort', done)
        const set = this.byId.get(id)
        set?.delete(done)
        if (set?.size === 0) this.byId.delete(id)
        resolve()
      }
      const timer = setTimeout(done, timeoutMs)
      signal.addEventListener('abort', done, {once: true})
      let set = this.byId.get(id)
      if (!set) this.byId.set(id, (set = new Set()))
      set.add(done)
    })
  }

  wake(id: string): void {
    for (const done of [...(this.byId.get(id) ?? [])]) done()
  }

  wakeAll(): void {
    for (const id of [...this.byId.keys()]) this.wake(id)
  }

  /** How many calls are waiting, across approvals. */
  get size(): number {
    let n = 0
    for (const set of this.byId.values()) n += set.size
    return n
  }
}
