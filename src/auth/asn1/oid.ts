/**
 * OBJECT IDENTIFIER contents (X.690 §8.19, DER): dotted-decimal text ⇄ base-128 sub-identifiers.
 * Arcs of any size are supported (bigint beyond 2^53); the first two arcs are packed as `40·a + b`.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'

/** Most sub-identifier bytes accepted in one arc (126 bits; real OIDs use at most 5). */
const MAX_ARC_BYTES = 18
/** Most arcs accepted in one OID. */
const MAX_ARCS = 64

const cache = new Map<string, Uint8Array>()

/**
 * Encodes dotted-decimal OID text (`1.2.840.113554.1.2.2`) as DER OBJECT IDENTIFIER contents
 * (without tag and length). Invalid text is a `ProtocolError` with `side: 'local'`.
 */
export function encodeOidContent(oid: string): Uint8Array {
  const hit = cache.get(oid)
  if (hit !== undefined) return hit
  const parts = oid.split('.')
  if (parts.length < 2 || parts.length > MAX_ARCS || !parts.every((p) => /^(0|[1-9][0-9]*)$/.test(p))) {
    throw new ProtocolError(`invalid OBJECT IDENTIFIER text ${JSON.stringify(oid)}`, { side: 'local' })
  }
  const arcs = parts.map((p) => BigInt(p))
  const a0 = arcs[0] as bigint
  const a1 = arcs[1] as bigint
  if (a0 > 2n || (a0 < 2n && a1 > 39n)) {
    throw new ProtocolError(`invalid OBJECT IDENTIFIER ${oid}: first arcs out of range`, { side: 'local' })
  }
  const out: number[] = []
  const subs = [a0 * 40n + a1, ...arcs.slice(2)]
  for (const sub of subs) {
    const bytes: number[] = [Number(sub & 0x7fn)]
    let v = sub >> 7n
    while (v > 0n) {
      bytes.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    if (bytes.length > MAX_ARC_BYTES) {
      throw new ProtocolError(`OBJECT IDENTIFIER ${oid}: arc too large`, { side: 'local' })
    }
    for (let i = bytes.length - 1; i >= 0; i--) out.push(bytes[i] as number)
  }
  const encoded = Uint8Array.from(out)
  if (cache.size < 256) cache.set(oid, encoded)
  return encoded
}

/**
 * Decodes DER OBJECT IDENTIFIER contents to dotted-decimal text. Empty contents, a sub-identifier with
 * a leading 0x80 byte (non-minimal), a truncated last sub-identifier or absurd sizes are a
 * `ProtocolError`.
 */
export function decodeOidContent(content: Uint8Array): string {
  if (content.length === 0) throw new ProtocolError('DER OBJECT IDENTIFIER: empty contents')
  const arcs: string[] = []
  let i = 0
  while (i < content.length) {
    if (content[i] === 0x80) throw new ProtocolError('DER OBJECT IDENTIFIER: non-minimal sub-identifier')
    let small = 0
    let big: bigint | undefined
    let n = 0
    for (;;) {
      if (i >= content.length) throw new ProtocolError('DER OBJECT IDENTIFIER: truncated sub-identifier')
      const b = content[i++] as number
      if (++n > MAX_ARC_BYTES) throw new ProtocolError('DER OBJECT IDENTIFIER: sub-identifier too large')
      if (big === undefined && small < 0x200000000000) small = small * 128 + (b & 0x7f)
      else {
        big = ((big ?? BigInt(small)) << 7n) | BigInt(b & 0x7f)
      }
      if ((b & 0x80) === 0) break
    }
    if (arcs.length === 0) {
      // First sub-identifier packs two arcs (X.690 §8.19.4).
      if (big === undefined) {
        if (small < 40) arcs.push('0', String(small))
        else if (small < 80) arcs.push('1', String(small - 40))
        else arcs.push('2', String(small - 80))
      } else arcs.push('2', String(big - 80n))
    } else arcs.push(big === undefined ? String(small) : String(big))
    if (arcs.length > MAX_ARCS + 1) throw new ProtocolError('DER OBJECT IDENTIFIER: too many arcs')
  }
  return arcs.join('.')
}
