/**
 * The one way to race a promise against a timer: whichever wins, the timer is cleared, so
 * nothing outlives the answer (mocha and the daemon's shutdown would wait on it).
 */

/** Settles as `promise` does, or as `onTimeout()` does (its value, or what it throws) after `ms`. */
export async function raceTimer<T, U>(promise: Promise<T>, ms: number, onTimeout: () => U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(onTimeout())
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)))
      }
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Whether `promise` settles (either way) within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return raceTimer(
    promise.then(
      () => true,
      () => true,
    ),
    ms,
    () => false,
  )
}
