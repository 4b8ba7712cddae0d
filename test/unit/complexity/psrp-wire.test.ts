/**
 * PSRP and WS-Man framing fed by a hostile or merely slow peer: a large object arriving a few bytes per
 * read costs time and memory linear in the bytes received (MS-PSRP 3.1.5.1.2; the defragmenter used to
 * re-join everything pending on every read), and so do namespace declarations on every element of a
 * response (their scopes used to be copied per declaring element).
 */
import { test } from 'node:test'
import { Defragmenter, encodeFragment } from '../../../src/psrp/index.ts'
import { parseXml } from '../../../src/internal/xml.ts'
import { resolveNamespaces } from '../../../src/wsman/xml-ns.ts'
import { assertLinear } from './measure.ts'

/** One object of `n` bytes as a single fragment, cut into reads of `step` bytes. */
function reads(n: number, step: number): Uint8Array[] {
  const whole = encodeFragment({
    objectId: 1n,
    fragmentId: 0n,
    start: true,
    end: true,
    data: new Uint8Array(n).fill(0x41),
  })
  const out: Uint8Array[] = []
  for (let i = 0; i < whole.length; i += step) out.push(whole.subarray(i, i + step))
  return out
}

function feed(chunks: Uint8Array[]): void {
  const d = new Defragmenter({ maxObjectSize: 64 * 1024 * 1024 })
  let messages = 0
  for (const c of chunks) messages += d.push(c).length
  if (messages !== 1) throw new Error(`expected one message, got ${messages}`)
}

test('defragmenter: an object arriving 16 bytes per read is linear', () => {
  assertLinear('16-byte reads', (n) => reads(n, 16), feed, {
    n: 64 * 1024,
    sizeOf: (c) => (c as Uint8Array[]).length * 16,
  })
})

test('defragmenter: an object arriving one byte per read is linear', () => {
  assertLinear('1-byte reads', (n) => reads(n, 1), feed, {
    n: 16 * 1024,
    sizeOf: (c) => (c as Uint8Array[]).length,
  })
})

/** A WS-Man response whose elements each declare prefixes: nested, and side by side. */
function manyDeclarations(n: number, nested: boolean): string {
  const decl = (i: number): string => ` xmlns:p${i}="urn:x${i}"`
  const inner = nested
    ? `${Array.from({ length: Math.min(n, 400) }, (_, i) => `<p${i}:e${decl(i)}>`).join('')}` +
      `${Array.from({ length: Math.min(n, 400) }, (_, i) => `</p${Math.min(n, 400) - 1 - i}:e>`).join('')}` +
      Array.from({ length: n }, (_, i) => `<q:e xmlns:q="urn:q"${decl(i)}/>`).join('')
    : Array.from({ length: n }, (_, i) => `<p${i}:e${decl(i)}/>`).join('')
  return (
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"${Array.from({ length: n }, (_, i) => decl(i)).join('')}>` +
    `<s:Header/><s:Body>${inner}</s:Body></s:Envelope>`
  )
}

test('namespace scopes: many declarations on the root and on every element are linear', () => {
  const read = (xml: string): unknown => resolveNamespaces(parseXml(xml, { error: (m) => new Error(m) }))
  assertLinear('declarations side by side', (n) => manyDeclarations(n, false), read, { n: 2000 })
  assertLinear('declarations nested and side by side', (n) => manyDeclarations(n, true), read, { n: 2000 })
})
