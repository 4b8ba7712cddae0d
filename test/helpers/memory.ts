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
 * The peak of live memory (heap and Buffers, after full collections, sampled every 500 ms or more
 * and once at the end) above its level before `work`: garbage awaiting collection does not count,
 * what is still held does. A sample waits at least eight times as long as the last one took, so that
 * the collections (tens of milliseconds on a large heap, two per sample) cost the work they measure
 * little: a 200 MiB transfer over the WinRM test bridge took 55 s sampled every 200 ms, 47 s with
 * one collection per sample (which counted freed buffers not yet swept).
 */
export async function peakGrowth(work: () => Promise<unknown>): Promise<number> {
  const used = (): number => {
    collectGarbage()
    const m = process.memoryUsage()
    return m.heapUsed + m.external
  }
  const base = used()
  let peak = base
  let timer: NodeJS.Timeout | undefined
  const sample = (): void => {
    const t0 = performance.now()
    peak = Math.max(peak, used())
    timer = setTimeout(sample, Math.max(500, 8 * (performance.now() - t0)))
  }
  timer = setTimeout(sample, 500)
  try {
    await work()
  } finally {
    clearTimeout(timer)
  }
  return Math.max(peak, used()) - base
}
