/**
 * Complexity checks for parsers and other code that takes hostile input: run a function on inputs of
 * size n, 2n and 4n, and fail when the cost grows faster than linearly (4n costing more than
 * {@link ComplexityOptions.maxRatio} times n, 6 by default, where linear is 4 and quadratic 16), or when
 * any single input under 1 MB takes over a second.
 *
 * Cost is the process's CPU time (`process.cpuUsage`): unlike wall time it is not inflated by other
 * processes on a loaded machine. (Per-thread counters such as `/proc/thread-self/schedstat` only
 * advance at scheduler ticks, too coarse for short runs.) V8's helper threads (concurrent marking,
 * background compilation) count too; their bursts are noise that the minimum and the retries absorb.
 * Bytes allocated come from V8's heap statistics (what the heap grew by plus what each collection
 * during the run freed). Every sample starts with a full collection, so that garbage of an earlier
 * sample is not collected (and paid for) during a later one. Allocation is compared against at least
 * the input's size at n, so that a few KiB of noise under a parser that allocates almost nothing do not
 * make a ratio.
 *
 * Noise is handled three ways: a size too fast to time is run several times in a row (the same count at
 * every size, found at size n so that one sample takes {@link ComplexityOptions.minMs}), rather than made
 * larger (inputs of many megabytes leave the CPU caches and the ratio then measures the memory system);
 * each size is sampled {@link ComplexityOptions.repetitions} times, interleaved with the other sizes so
 * that a burst of load hits all of them, and the minimum counts; and a measurement that breaks a rule is
 * taken again before the assertion fails ({@link ComplexityOptions.attempts}). A quadratic cost (16x)
 * still fails every time.
 *
 * The process runs with the flags in `node-flags.json` (scripts/run-tests.mjs passes them), because
 * two V8 behaviours made a linear function's 4n/n ratio range from 0.8 to 14 in one process:
 * - every full collection (one per sample) throws away optimized code whose embedded objects died
 *   ("weak objects"), so each sample re-ran the code unoptimized and paid for its recompilation, a cost
 *   that does not grow with the input. `--no-opt --no-maglev` keep the code at the baseline tier, which
 *   is the same at every sample; the asymptotic cost is the same at every tier;
 * - after a full collection V8 shrinks the young generation and grows it again as the sample
 *   allocates, so whether and how often a sample scavenges varied from sample to sample. A fixed
 *   64 MiB semi-space (`--min-semi-space-size`, `--max-semi-space-size`) holds what nearly every sample
 *   allocates; allocation is measured and compared on its own.
 * Measured over all 118 checks here (two files at a time, as scripts/run-tests.mjs runs them): the
 * median 4n/n time ratio was 2.2 without the flags, with a check retried now and then and one failing
 * all three attempts beside busy processes; with them the median is 3.7 to 3.8 (linear is 4), nine in
 * ten are under 4.3, also beside three busy processes on two cores, and a rare single measurement over
 * 6 (a size crossing into V8's large-object space) passes when taken again.
 * A process started without them (say `node --test` on one file) gets the first two flags when this module
 * loads (`v8.setFlagsFromString` works for code compiled after it); the semi-space size cannot
 * change after start, so its ratios are noisier.
 *
 * Set `COMPLEXITY_LOG=1` to print every measurement.
 *
 * ```ts
 * test('deserialize: wide lists are linear', () => {
 *   assertLinear('wide LST', (n) => `<Obj RefId="0"><LST>${'<S>x</S>'.repeat(n)}</LST></Obj>`, deserialize, {
 *     n: 10_000,
 *   })
 * })
 * ```
 *
 * @module
 */
import assert from 'node:assert/strict'
import v8 from 'node:v8'
import vm from 'node:vm'

/** Cost of one run. */
export interface Cost {
  /** CPU milliseconds (user + system) of the process. */
  ms: number
  /** Wall-clock milliseconds. */
  wallMs: number
  /** Bytes allocated on the V8 heap (approximate). */
  bytes: number
}

/** Options of {@link assertLinear} and {@link measureScaling}. */
export interface ComplexityOptions {
  /** Base size n (sizes n, 2n, 4n are run). Pick one where a quadratic term would dominate. */
  n: number
  /** Samples per size; the minimum counts (default 3). */
  repetitions?: number
  /** Largest accepted cost(4n) / cost(n), for time and for allocation (default 6). */
  maxRatio?: number
  /** Longest accepted CPU time of one run on an input under 1 MB (default 1000 ms). */
  maxMs?: number
  /**
   * CPU time one sample at size n should take at least (default 5 ms): a faster function is run
   * several times in a row per sample (at most {@link maxRuns}), the same number of times at every size.
   */
  minMs?: number
  /** Most runs in a row per sample (default 64). */
  maxRuns?: number
  /** Allocation below this many bytes at size 4n is not compared (default 256 KiB): too small to matter. */
  minBytes?: number
  /** Input size in bytes, for the 1 MB rule (default: string length, else 0). */
  sizeOf?: (input: unknown) => number
  /** Measurements {@link assertLinear} takes before it fails (default 3). */
  attempts?: number
}

/** What {@link measureScaling} found. */
export interface Scaling {
  /** The base size. */
  n: number
  /** Runs in a row per sample. */
  runs: number
  /** Minimum cost of one run at n, 2n, 4n. */
  costs: [Cost, Cost, Cost]
  /** Input sizes in bytes at n, 2n, 4n. */
  inputBytes: [number, number, number]
  /** cost(4n).ms / cost(n).ms. */
  timeRatio: number
  /** cost(4n).bytes / max(cost(n).bytes, input size at n). */
  allocationRatio: number
}

/** Milliseconds of CPU time the process has used. */
function cpuMs(): number {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

// The compiler flags of `node-flags.json`, when the process was started without them (see above);
// applied as this module loads, before any check has run the code it measures.
for (const flag of ['--no-opt', '--no-maglev']) {
  if (!process.execArgv.includes(flag)) v8.setFlagsFromString(flag)
}

let gcFunction: (() => void) | undefined
/**
 * A full collection. Every sample starts with one: after only a young-generation collection, the
 * garbage earlier samples promoted makes a full collection fall due during a later (larger) sample.
 */
function gc(): void {
  if (gcFunction === undefined) {
    v8.setFlagsFromString('--expose-gc')
    gcFunction = vm.runInNewContext('gc') as () => void
  }
  gcFunction()
}

/**
 * Runs `fn(input)` `runs` times in a row (after a full collection) and returns the cost of one run;
 * what it throws is rethrown.
 */
export function measureOnce<T>(fn: (input: T) => unknown, input: T, runs = 1): Cost {
  gc()
  const profiler = new v8.GCProfiler()
  const heapBefore = v8.getHeapStatistics().used_heap_size
  profiler.start()
  const cpu0 = cpuMs()
  const wall0 = performance.now()
  let ok = false
  try {
    for (let r = 0; r < runs; r++) fn(input)
    ok = true
  } finally {
    if (!ok) profiler.stop()
  }
  const wallMs = performance.now() - wall0
  const ms = cpuMs() - cpu0
  const heapAfter = v8.getHeapStatistics().used_heap_size
  let freed = 0
  for (const s of profiler.stop()?.statistics ?? []) {
    freed += Math.max(0, s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize)
  }
  const bytes = Math.max(0, heapAfter - heapBefore + freed)
  return { ms: ms / runs, wallMs: wallMs / runs, bytes: bytes / runs }
}

function minCost(costs: Cost[]): Cost {
  return {
    ms: Math.min(...costs.map((c) => c.ms)),
    wallMs: Math.min(...costs.map((c) => c.wallMs)),
    bytes: Math.min(...costs.map((c) => c.bytes)),
  }
}

function defaultSize(input: unknown): number {
  return typeof input === 'string' ? input.length : 0
}

/** Measures `run(build(k))` for k = n, 2n, 4n (see the module comment); asserts nothing. */
export function measureScaling<T>(
  build: (n: number) => T,
  run: (input: T) => unknown,
  options: ComplexityOptions,
): Scaling {
  const reps = options.repetitions ?? 3
  const minMs = options.minMs ?? 5
  const maxRuns = options.maxRuns ?? 64
  const sizeOf = options.sizeOf ?? defaultSize
  const n = options.n
  const inputs = [n, 2 * n, 4 * n].map((k) => build(k))
  const first = inputs[0] as T
  // Warm up: every size once (so the code has seen each shape), then size n until the optimizing
  // compiler has had its turn (its background threads count in the process's CPU time, so a compile
  // during a sample would inflate it), before the run count is calibrated.
  for (const input of inputs) run(input)
  const warmUntil = cpuMs() + 4 * minMs
  for (let r = 0; r < 256 && cpuMs() < warmUntil; r++) run(first)
  let runs = 1
  for (;;) {
    const t0 = cpuMs()
    for (let r = 0; r < runs; r++) run(first)
    if (runs >= maxRuns || cpuMs() - t0 >= minMs) break
    runs *= 2
  }
  const samples: Cost[][] = [[], [], []]
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < 3; i++) (samples[i] as Cost[]).push(measureOnce(run, inputs[i] as T, runs))
  }
  const costs = samples.map(minCost) as [Cost, Cost, Cost]
  const [c1, , c4] = costs
  return {
    n,
    runs,
    costs,
    inputBytes: inputs.map(sizeOf) as [number, number, number],
    timeRatio: c4.ms / Math.max(c1.ms, 0.001),
    // Allocation up to the input's own size is the floor of the baseline: a parser that allocates far
    // less than its input at n (a pull tokenizer) would otherwise turn the noise of a few KiB (a
    // collection's accounting, a flattened string) into a large ratio.
    allocationRatio: c4.bytes / Math.max(c1.bytes, sizeOf(first), 1),
  }
}

/** A one-line account of a {@link Scaling}, for assertion messages and logs. */
export function describeScaling(name: string, s: Scaling): string {
  const ms = s.costs.map((c) => c.ms.toFixed(2)).join('/')
  const kb = s.costs.map((c) => Math.round(c.bytes / 1024)).join('/')
  return (
    `${name}: n=${s.n} (${s.runs} runs per sample), input ${s.inputBytes.join('/')} B, ` +
    `cpu ${ms} ms (x${s.timeRatio.toFixed(2)}), allocated ${kb} KiB (x${s.allocationRatio.toFixed(2)})`
  )
}

/** Why `s` breaks the rules of {@link assertLinear}, or undefined. */
function linearityProblem(name: string, s: Scaling, options: ComplexityOptions): string | undefined {
  const maxRatio = options.maxRatio ?? 6
  const maxMs = options.maxMs ?? 1000
  const text = describeScaling(name, s)
  for (let i = 0; i < 3; i++) {
    const ms = (s.costs[i] as Cost).ms
    if ((s.inputBytes[i] as number) < 1024 * 1024 && ms > maxMs) {
      return `${text}: ${s.inputBytes[i]} B took ${ms.toFixed(0)} ms CPU, over ${maxMs} ms`
    }
  }
  if (s.timeRatio > maxRatio) return `${text}: time grows faster than linear (4n/n over ${maxRatio})`
  if (s.costs[2].bytes >= (options.minBytes ?? 256 * 1024) && s.allocationRatio > maxRatio) {
    return `${text}: allocation grows faster than linear (4n/n over ${maxRatio})`
  }
  return undefined
}

/**
 * Asserts that `run` costs time and memory linear in the input: cost(4n) at most `maxRatio` (6) times
 * cost(n), and no run on an input under 1 MB over `maxMs` (1 s), in at least one of `attempts` (3)
 * measurements. Returns the measurement that passed.
 */
export function assertLinear<T>(
  name: string,
  build: (n: number) => T,
  run: (input: T) => unknown,
  options: ComplexityOptions,
): Scaling {
  const attempts = options.attempts ?? 3
  const start = cpuMs()
  for (let a = 1; ; a++) {
    const s = measureScaling(build, run, options)
    const problem = linearityProblem(name, s, options)
    if (process.env['COMPLEXITY_LOG'] !== undefined) {
      console.log(`${describeScaling(name, s)}; attempt ${a}, ${(cpuMs() - start).toFixed(0)} ms CPU so far`)
    }
    if (problem === undefined) return s
    if (a >= attempts) assert.fail(`${problem} (in each of ${attempts} measurements)`)
  }
}
