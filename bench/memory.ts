/**
 * Memory part of `npm run bench`: the peak growth of live memory (V8 heap plus Buffers, after a full
 * collection) while psrp streams `1..n` from a local `pwsh -s` and the loop drops every object, as a
 * consumer that processes output as it arrives does. A client that buffers its output grows with n;
 * psrp's `stream()` holds at most its high-water mark, so the figure should be flat in n. The peer
 * column is the goal (50 MB), not a measurement. Prints; never fails on numbers.
 *
 * Size (full / `--quick`): `PSRP_BENCH_MEMORY_OBJECTS` (1,000,000 / 100,000). Row tags: `memory`,
 * `stream`, `pwsh`.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { PowerShell, ProcessConnection, RunspacePool } from '../src/index.ts'
import { report, say, size, wants } from './report.ts'

const MB = 1_000_000
/** The goal for streaming 1e6 objects. */
const GOAL_MB = 50
/** How often live memory is sampled while the stream runs. */
const SAMPLE_MS = 250

/** V8's full collection, exposed for this process only. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** Streams `1..n` from a local pwsh -s and prints the peak live-memory growth. */
export async function benchMemory(pwsh: string | undefined): Promise<void> {
  if (!wants('memory', 'stream', 'pwsh')) return
  if (pwsh === undefined) {
    say('pwsh not found: memory benchmark skipped')
    return
  }
  const n = size('PSRP_BENCH_MEMORY_OBJECTS', 1_000_000, 100_000)
  const gc = exposeGc()
  const live = (): number => {
    gc()
    const m = process.memoryUsage()
    return m.heapUsed + m.external
  }
  await using pool = await RunspacePool.open(new ProcessConnection({ executable: pwsh }), { timeout: 60_000 })
  await new PowerShell(pool).addScript('$null').invoke() // warm-up: the pool's own memory is the base
  const base = live()
  let peak = base
  const timer = setInterval(() => {
    peak = Math.max(peak, live())
  }, SAMPLE_MS)
  let count = 0
  const t0 = process.hrtime.bigint()
  try {
    for await (const _ of new PowerShell(pool).addScript(`1..${n}`).stream()) count++
  } finally {
    clearInterval(timer)
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  peak = Math.max(peak, live())
  if (count !== n) throw new Error(`memory bench: got ${count} objects, expected ${n}`)
  report({
    name: 'memory: stream 1..n, peak heap growth',
    unit: 'MB',
    psrp: (peak - base) / MB,
    peer: GOAL_MB,
    peerName: `goal (< ${GOAL_MB} MB at 1e6 objects)`,
    better: 'lower',
    params: { objects: n, sampleMs: SAMPLE_MS, objectsPerSecond: Math.round(n / seconds) },
  })
}
