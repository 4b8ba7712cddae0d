/**
 * Kerberos message types (RFC 4120 §5.10, §7.5.7): the msg-type values, which are also the
 * APPLICATION tag numbers of the messages.
 *
 * @module
 */
import type { DerReader } from '../../asn1/index.ts'

/** msg-type numbers and APPLICATION tags (RFC 4120 §7.5.7, §5.10). */
export const MessageType = {
  AS_REQ: 10,
  AS_REP: 11,
  TGS_REQ: 12,
  TGS_REP: 13,
  AP_REQ: 14,
  AP_REP: 15,
  KRB_CRED: 22,
  KRB_ERROR: 30,
} as const

/** APPLICATION tags of the encrypted parts and other inner structures (RFC 4120 §5.10). */
export const ApplicationTag = {
  TICKET: 1,
  AUTHENTICATOR: 2,
  ENC_TICKET_PART: 3,
  ENC_AS_REP_PART: 25,
  ENC_TGS_REP_PART: 26,
  ENC_AP_REP_PART: 27,
  ENC_KRB_CRED_PART: 29,
} as const

/**
 * Reads a UInt32 (RFC 4120 §5.2.4). Old MIT and Windows versions encoded sequence numbers and nonces
 * as signed 32-bit values; negative values in -2^31..-1 are mapped to their unsigned equivalent.
 */
export function readUInt32(r: DerReader): number {
  const v = r.smallInteger()
  if (v < -0x80000000 || v > 0xffffffff) r.fail(`UInt32 ${v} out of range`)
  return v < 0 ? v + 0x100000000 : v
}

/**
 * Reads the protocol version (must be 5) and msg-type (must be `expected`) that open every
 * Kerberos message (RFC 4120 §5.4.1, §5.5, §5.8, §5.9.1), from context fields `at` and `at + 1`.
 * Returns the msg-type.
 */
export function readMessageHeader(s: DerReader, expected: number, at = 0): number {
  const pvno = s.field(at, (x) => x.smallInteger())
  if (pvno !== 5) s.fail(`pvno ${pvno} is not 5`)
  const msgType = s.field(at + 1, (x) => x.smallInteger())
  if (msgType !== expected) s.fail(`msg-type ${msgType} is not ${expected}`)
  return msgType
}
