/**
 * Shared machinery of the fuzz tests (test/fuzz/README.md): how many inputs to run, the property every
 * parser surface must keep (any input gives a result or a `PsrpError` subclass, within a time budget),
 * mutators over a seed corpus, and the seeds that live outside this checkout.
 *
 * - `PSRP_FUZZ_LONG=1` (what `npm run fuzz -- --long` sets): 1,000,000 inputs per surface.
 * - `PSRP_FUZZ_RUNS=<n>`: exactly n inputs per surface (overrides both).
 * - `PSRP_FUZZ_BUDGET_MS=<ms>`: the longest one input may take (default 1000).
 * - `PSRP_FUZZ_SEED=<n>`: fast-check's seed, to replay a failure (fast-check prints it).
 * - `PSRP_FUZZ_HANG_MS=<ms>`: an input still running after this long (default 10 times the budget) is a
 *   hang: a watchdog thread prints the surface and the input and kills the process (a synchronous
 *   parser cannot be interrupted from its own thread, and node:test's timeout never fires then).
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { PsrpError } from '../../src/errors.ts'

/** True for the long run (`npm run fuzz -- --long`). */
export const LONG = process.env['PSRP_FUZZ_LONG'] === '1'

/** Inputs per surface: `short` in `npm test`, 1e6 in the long run, or `PSRP_FUZZ_RUNS`. */
export function runs(short: number): number {
  const env = Number(process.env['PSRP_FUZZ_RUNS'])
  if (Number.isSafeInteger(env) && env > 0) return env
  return LONG ? 1_000_000 : short
}

/** fast-check parameters for a surface of `short` inputs (seeded when `PSRP_FUZZ_SEED` is set). */
export function params(short: number): fc.Parameters<unknown> {
  const seed = Number(process.env['PSRP_FUZZ_SEED'])
  return {
    numRuns: runs(short),
    ...(Number.isSafeInteger(seed) ? { seed } : {}),
    // the long run should report every failure it finds quickly, not spend hours shrinking
    ...(LONG ? { endOnFailure: true } : {}),
  }
}

/** `p` with `examples` run first: every seed as it is (with one-byte reads where reads are split). */
export function seedsFirst<T>(p: fc.Parameters<unknown>, examples: T[]): fc.Parameters<T> {
  return { ...(p as fc.Parameters<T>), examples }
}

/** The node:test timeout of one fuzz test: generous in the short run, none in the long one. */
export const TIMEOUT = LONG ? Infinity : 120_000

/** Longest wall time one input may take. */
export const BUDGET_MS = Number(process.env['PSRP_FUZZ_BUDGET_MS'] ?? 1000)

/** A short printable view of an input for failure messages. */
export function preview(input: unknown): string {
  const text =
    input instanceof Uint8Array
      ? `0x${Buffer.from(input.subarray(0, 200)).toString('hex')}${input.length > 200 ? '…' : ''} (${input.length} bytes)`
      : typeof input === 'string'
        ? `${JSON.stringify(input.slice(0, 300))}${input.length > 300 ? '…' : ''} (${input.length} chars)`
        : // never String(value): the text of a shared-reference graph is exponential
          `a ${input === null ? 'null' : typeof input === 'object' ? (input.constructor?.name ?? 'object') : typeof input}`
  return text
}

/** Fails unless `e`, what `run` threw for `input`, is a `PsrpError` subclass. */
function assertTyped(surface: string, input: unknown, e: unknown): void {
  if (e instanceof PsrpError) return
  const what = e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)
  assert.fail(`${surface}: escaped a non-PsrpError (${what}) for ${preview(input)}`)
}

/** Fails when the input that started at `t0` took longer than {@link BUDGET_MS}. */
function assertWithinBudget(surface: string, input: unknown, t0: number): void {
  const ms = performance.now() - t0
  if (ms > BUDGET_MS) {
    assert.fail(`${surface}: one input took ${ms.toFixed(0)} ms (budget ${BUDGET_MS}) for ${preview(input)}`)
  }
}

/**
 * The property: `run(input)` returns, or throws a `PsrpError` subclass (anything else fails), and
 * takes at most {@link BUDGET_MS}. Returns what `run` returned, or the error.
 */
export function typedWithinBudget<T>(surface: string, input: T, run: (input: T) => unknown): unknown {
  watch(surface, input)
  const t0 = performance.now()
  let result: unknown
  try {
    result = run(input)
  } catch (e) {
    assertTyped(surface, input, e)
    result = e
  } finally {
    unwatch()
  }
  assertWithinBudget(surface, input, t0)
  return result
}

/**
 * {@link typedWithinBudget} for a parser behind a promise (e.g. one driving an in-memory connection):
 * `run(input)` resolves, or rejects with a `PsrpError` subclass, within {@link BUDGET_MS}. A promise
 * that never settles is a hang: the watchdog ends the process and names the input.
 */
export async function typedWithinBudgetAsync<T>(
  surface: string,
  input: T,
  run: (input: T) => Promise<unknown>,
): Promise<unknown> {
  watch(surface, input)
  const t0 = performance.now()
  let result: unknown
  try {
    result = await run(input)
  } catch (e) {
    assertTyped(surface, input, e)
    result = e
  } finally {
    unwatch()
  }
  assertWithinBudget(surface, input, t0)
  return result
}

/** Longest an input may run before the watchdog kills the process. */
const HANG_MS = Number(process.env['PSRP_FUZZ_HANG_MS'] ?? 10 * BUDGET_MS)
const PREVIEW_BYTES = 1024
/** Shared with the watchdog: start time of the running input (0 when none), preview length, preview. */
let shared: { start: BigInt64Array; length: Int32Array; text: Uint8Array } | undefined

const WATCHDOG = `
const { workerData } = require('node:worker_threads')
const { writeSync } = require('node:fs')
const start = new BigInt64Array(workerData.sab, 0, 1)
const length = new Int32Array(workerData.sab, 8, 1)
const text = new Uint8Array(workerData.sab, 12)
setInterval(() => {
  const t = Atomics.load(start, 0)
  if (t === 0n || Date.now() - Number(t) < workerData.hangMs) return
  const what = Buffer.from(text.subarray(0, Atomics.load(length, 0))).toString('utf8')
  writeSync(2, '\\nfuzz watchdog: one input has run for over ' + workerData.hangMs + ' ms (a hang): ' + what + '\\n')
  process.kill(process.pid, 'SIGKILL')
}, 100)
`

function watch(surface: string, input: unknown): void {
  if (shared === undefined) {
    const sab = new SharedArrayBuffer(12 + PREVIEW_BYTES)
    shared = {
      start: new BigInt64Array(sab, 0, 1),
      length: new Int32Array(sab, 8, 1),
      text: new Uint8Array(sab, 12),
    }
    new Worker(WATCHDOG, { eval: true, workerData: { sab, hangMs: HANG_MS } }).unref()
  }
  const { written } = new TextEncoder().encodeInto(`${surface}: ${preview(input)}`, shared.text)
  Atomics.store(shared.length, 0, written)
  Atomics.store(shared.start, 0, BigInt(Date.now()))
}

function unwatch(): void {
  if (shared !== undefined) Atomics.store(shared.start, 0, 0n)
}

// ---------------------------------------------------------------------------------------------------
// mutators

/** One edit of a byte string. */
export type ByteEdit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'cut'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'repeat'; at: number; length: number; times: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'u32'; at: number; value: number }

/** Interesting byte values: DER tags and length forms, NTLM/ASN.1 boundaries. */
const INTERESTING = [0x00, 0x01, 0x02, 0x04, 0x30, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x88, 0xa0, 0xa1, 0xff]

/** Arbitrary byte edits (flip, set, cut, insert, repeat a stretch, truncate, forge a 32-bit field). */
export const byteEdit: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...INTERESTING), fc.integer({ min: 0, max: 255 })),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({
    kind: fc.constant('repeat' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 32 }),
    times: fc.integer({ min: 2, max: 200 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.nat() }),
)

/** Applies byte edits to a copy of `src`. */
export function mutateBytes(src: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let b = Buffer.from(src)
  for (const m of edits) {
    const at = b.length === 0 ? 0 : m.at % b.length
    switch (m.kind) {
      case 'flip':
        if (b.length > 0) b[at] = (b[at] as number) ^ (1 << m.bit)
        break
      case 'set':
        if (b.length > 0) b[at] = m.value
        break
      case 'cut':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)])
        break
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)])
        break
      case 'repeat': {
        const piece = b.subarray(at, at + m.length)
        b = Buffer.concat([b.subarray(0, at), ...new Array<Buffer>(m.times).fill(piece), b.subarray(at)])
        break
      }
      case 'truncate':
        b = b.subarray(0, at)
        break
      case 'u32':
        if (at + 4 <= b.length) b.writeUInt32BE(m.value % 0x100000000, at)
        break
    }
  }
  return Uint8Array.from(b)
}

/** One edit of a text. */
export type TextEdit =
  | { kind: 'cut'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'repeat'; at: number; length: number; times: number }
  | { kind: 'truncate'; at: number }

/** Pieces of markup and escapes that parsers treat specially. */
const TOKENS = [
  '<',
  '>',
  '/>',
  '</',
  '&',
  '&amp;',
  '&#x0;',
  '&#1114112;',
  '&lt',
  ';',
  '"',
  "'",
  '=',
  ' ',
  '\r\n',
  '\n',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '<?xml version="1.0"?>',
  '<!DOCTYPE x [<!ENTITY e "x">]>',
  ' xmlns:a="urn:a"',
  ' xmlns="urn:b"',
  'a:',
  '_x0000_',
  '_xD800_',
  '\ud800',
  '\uffff',
  '\u0000',
  '<Ref RefId="0" />',
  ' RefId="0"',
  '<TNRef RefId="0" />',
  '<Obj RefId="0">',
  '</Obj>',
  '<LST>',
  '</LST>',
  '<MS>',
  '<S N="x">',
  '</S>',
  '99999999999999999999999',
  '-',
  '.',
  'E',
  'NaN',
  'PT',
  '==',
  'A',
  '/',
  '+',
  '\u00e9',
  '😀',
  'PSGuid',
  "Stream='Default'",
]

/** Arbitrary text edits (cut, insert a token or random text, repeat a stretch, truncate). */
export const textEdit: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...TOKENS), fc.string({ unit: 'binary', maxLength: 8 })),
  }),
  fc.record({
    kind: fc.constant('repeat' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
    times: fc.integer({ min: 2, max: 300 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
)

/** Applies text edits to `src`. */
export function mutateText(src: string, edits: readonly TextEdit[]): string {
  let s = src
  for (const m of edits) {
    const at = s.length === 0 ? 0 : m.at % (s.length + 1)
    switch (m.kind) {
      case 'cut':
        s = s.slice(0, at) + s.slice(at + m.length)
        break
      case 'insert':
        s = s.slice(0, at) + m.text + s.slice(at)
        break
      case 'repeat':
        s = s.slice(0, at) + s.slice(at, at + m.length).repeat(m.times) + s.slice(at)
        break
      case 'truncate':
        s = s.slice(0, at)
        break
    }
  }
  return s
}

/** A seed from `seeds`, edited 0 to `max` times. */
export function mutatedText(seeds: readonly string[], max = 4): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(textEdit, { maxLength: max }))
    .map(([s, edits]) => mutateText(s, edits))
}

/** A seed from `seeds`, edited 0 to `max` times. */
export function mutatedBytes(seeds: readonly Uint8Array[], max = 4): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(byteEdit, { maxLength: max }))
    .map(([s, edits]) => mutateBytes(s, edits))
}

/** Split points for feeding bytes in reads of 1 byte up to everything at once ("tiny reads"). */
export const readSizes: fc.Arbitrary<number[]> = fc.array(
  fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 4096 })),
  {
    minLength: 1,
    maxLength: 8,
  },
)

/** Splits `bytes` into reads of the given sizes (cycled). */
export function* reads(bytes: Uint8Array, sizes: readonly number[]): Generator<Uint8Array> {
  let k = 0
  for (let i = 0; i < bytes.length;) {
    const n = sizes[k++ % sizes.length] as number
    yield bytes.subarray(i, i + n)
    i += n
  }
}

// ---------------------------------------------------------------------------------------------------
// seeds from outside the checkout

/** `../shared/corpus` (or `PSRP_CORPUS_DIR`), when present. */
export function corpusDir(): string | undefined {
  const dir = process.env['PSRP_CORPUS_DIR'] ?? resolve(import.meta.dirname, '../../../shared/corpus')
  return existsSync(dir) ? dir : undefined
}

/** Every file under `dir` whose name matches `re` (sorted). */
export function filesUnder(dir: string | undefined, re: RegExp): string[] {
  if (dir === undefined || !existsSync(dir)) return []
  const out: string[] = []
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (re.test(name)) out.push(p)
    }
  }
  walk(dir)
  return out
}

/** The recorded WinRM exchanges: test/recordings and the shared corpus (YAML with envelopes inside). */
export function recordingTexts(): string[] {
  const files = [
    ...filesUnder(resolve(import.meta.dirname, '../recordings'), /\.ya?ml$/),
    ...filesUnder(corpusDir(), /\.ya?ml$/),
  ]
  return files.map((f) => readFileSync(f, 'utf8'))
}

/** The SOAP envelopes inside recorded exchanges (found with indexOf, unescaped as YAML leaves them). */
export function recordedEnvelopes(limit = 400): string[] {
  const out = new Set<string>()
  for (const text of recordingTexts()) {
    for (
      let at = text.indexOf('<s:Envelope');
      at !== -1 && out.size < limit;
      at = text.indexOf('<s:Envelope', at + 1)
    ) {
      const end = text.indexOf('</s:Envelope>', at)
      if (end === -1) break
      out.add(text.slice(at, end + '</s:Envelope>'.length).replace(/''/g, "'"))
    }
  }
  return [...out]
}
