/**
 * GUID helpers. A GUID is handled as its canonical lower-case string; on the wire MS-PSRP writes it
 * in .NET `Guid.ToByteArray()` order (first three groups little-endian). Old pypsrp recordings used
 * RFC 4122 big-endian order; {@link guidFromBytes} reads either.
 *
 * Errors are typed: a string that is not a GUID is an `InvalidArgumentError`, too few bytes to read one
 * is a `ProtocolError` (the bytes come from the peer).
 *
 * @module
 */
import { InvalidArgumentError, ProtocolError } from '../errors.ts'

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/** The all-zero GUID. */
export const NIL_GUID = '00000000-0000-0000-0000-000000000000'

/** A source of new GUIDs (injectable so sans-IO code stays deterministic in tests). */
export type GuidSource = () => string

/** Default GUID source: `crypto.randomUUID()`. */
export const randomGuid: GuidSource = () => globalThis.crypto.randomUUID()

/** Canonical form (lower case, hyphens); throws `InvalidArgumentError` on anything that is not a GUID. */
export function normalizeGuid(guid: string): string {
  if (typeof guid !== 'string') throw new InvalidArgumentError(`not a GUID: ${String(guid)}`)
  const g = guid
    .trim()
    .replace(/^\{|\}$/g, '')
    .toLowerCase()
  if (!GUID.test(g)) throw new InvalidArgumentError(`not a GUID: ${JSON.stringify(guid)}`)
  return g
}

function hexBytes(guid: string): number[] {
  const hex = normalizeGuid(guid).replace(/-/g, '')
  const out: number[] = []
  for (let i = 0; i < 32; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16))
  return out
}

const LE_ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15]

/** 16 bytes of a GUID; `order` 'le' is .NET `ToByteArray()` (MS-PSRP), 'be' is RFC 4122. */
export function guidToBytes(guid: string, order: 'le' | 'be' = 'le'): Uint8Array {
  const b = hexBytes(guid)
  return Uint8Array.from(order === 'le' ? LE_ORDER.map((i) => b[i] as number) : b)
}

/** Reads a GUID from 16 bytes at `offset`; throws `ProtocolError` when there are fewer. */
export function guidFromBytes(bytes: Uint8Array, offset = 0, order: 'le' | 'be' = 'le'): string {
  let hex = ''
  for (let i = 0; i < 16; i++) {
    const b = bytes[offset + (order === 'le' ? (LE_ORDER[i] as number) : i)]
    if (b === undefined) {
      throw new ProtocolError(
        `a GUID needs 16 bytes at offset ${offset}, only ${Math.max(0, bytes.length - offset)} left`,
      )
    }
    hex += b.toString(16).padStart(2, '0')
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The GUID whose little-endian bytes equal this GUID's big-endian bytes (fixes byte-order swaps). */
export function swapGuidByteOrder(guid: string): string {
  return guidFromBytes(guidToBytes(guid, 'be'), 0, 'le')
}
