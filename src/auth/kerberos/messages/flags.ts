/**
 * KerberosFlags (RFC 4120 §5.2.8) and the bits of KDCOptions (§5.4.1), TicketFlags (§5.3) and
 * APOptions (§5.5.1): a BIT STRING of at least 32 bits, bit 0 first (the high bit of the first byte).
 *
 * @module
 */
import { type DerNode, type DerReader, derBitString } from '../../asn1/index.ts'

/** KDCOptions bit numbers (RFC 4120 §5.4.1). */
export const KdcOption = {
  FORWARDABLE: 1,
  FORWARDED: 2,
  PROXIABLE: 3,
  PROXY: 4,
  ALLOW_POSTDATE: 5,
  POSTDATED: 6,
  RENEWABLE: 8,
  /** RFC 6806 §11. */
  CANONICALIZE: 15,
  RENEWABLE_OK: 27,
  ENC_TKT_IN_SKEY: 28,
  RENEW: 30,
  VALIDATE: 31,
} as const

/** TicketFlags bit numbers (RFC 4120 §5.3). */
export const TicketFlag = {
  FORWARDABLE: 1,
  FORWARDED: 2,
  PROXIABLE: 3,
  PROXY: 4,
  MAY_POSTDATE: 5,
  POSTDATED: 6,
  INVALID: 7,
  RENEWABLE: 8,
  INITIAL: 9,
  PRE_AUTHENT: 10,
  HW_AUTHENT: 11,
  TRANSITED_POLICY_CHECKED: 12,
  OK_AS_DELEGATE: 13,
} as const

/** APOptions bit numbers (RFC 4120 §5.5.1). */
export const ApOption = {
  USE_SESSION_KEY: 1,
  MUTUAL_REQUIRED: 2,
} as const

/** A 32-bit flags word with bit 0 in the most significant position (as on the wire). */
export function flagsOf(bits: readonly number[]): number {
  let v = 0
  for (const b of bits) v |= 1 << (31 - b)
  return v >>> 0
}

/** True when bit `bit` (RFC numbering) is set in a flags word. */
export function hasFlag(flags: number, bit: number): boolean {
  return ((flags >>> (31 - bit)) & 1) === 1
}

/** Encodes a 32-bit KerberosFlags value. */
export function encodeKerberosFlags(flags: number): DerNode {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, flags >>> 0, false)
  return derBitString(b)
}

/** Reads KerberosFlags; bits beyond 32 are ignored, shorter strings are zero-extended (as MIT does). */
export function readKerberosFlags(r: DerReader): number {
  const { bytes } = r.bitString()
  let v = 0
  for (let i = 0; i < 4; i++) v = (v << 8) | (bytes[i] ?? 0)
  return v >>> 0
}
