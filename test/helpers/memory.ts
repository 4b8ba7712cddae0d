/** Live-memory measurement for the transfer tests' bounded-memory checks. */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

const gc = ((): (() => void) => {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
})()

/**
 * Two full garbage collections (V8's gc, exposed for this process). V8 frees the memory of dead
 * ArrayBuffers on a background thread after a collection, so right after one `process.memoryUsage()`
 * may still count them (a 64 MiB buffer dropped just before a baseline made every later sample read
 * lower than it); the second collection first waits for that sweep to end.
 */
export function collectGarbage(): void {
  gc()
  gc()
}

/**
 * The peak of live memory (heap and Buffers, after a full collection, sampled every 200 ms and once
 * at the end) above its level before `work`: garbage awaiting collection does not count, what is
 * still held does.
 */
export async function peakGrowth(work: () => Promise<unknown>): Promise<number> {
  const used = (): number => {
    collectGarbage()
    const m = process.memoryUsage()
    return m.heapUsed + m.external
  }
  const base = used()
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, used())
  }, 200)
  try {
    await work()
  } finally {
    clearInterval(timer)
  }
  return Math.max(peak, used()) - base
}
