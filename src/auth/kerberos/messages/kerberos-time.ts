/**
 * KerberosTime and Microseconds (RFC 4120 §5.2.3, §5.2.4):
 *
 * ```
 * KerberosTime ::= GeneralizedTime -- with no fractional seconds
 * Microseconds ::= INTEGER (0..999999)
 * ```
 *
 * @module
 */
import { type DerNode, type DerReader, derGeneralizedTime, derInteger } from '../../asn1/index.ts'

/** A time with its microsecond part, as authenticators and KRB-ERROR carry it. */
export interface KerberosTimestamp {
  /** The time, whole seconds. */
  readonly time: Date
  /** Microseconds 0..999999. */
  readonly usec: number
}

/** Encodes a KerberosTime (fractions dropped: RFC 4120 §5.2.3 forbids them). */
export function encodeKerberosTime(time: Date): DerNode {
  return derGeneralizedTime(new Date(Math.floor(time.getTime() / 1000) * 1000))
}

/** Reads a KerberosTime (a fractional part, which some implementations send, is tolerated). */
export function readKerberosTime(r: DerReader): Date {
  return r.generalizedTime()
}

/** Encodes Microseconds. */
export function encodeMicroseconds(usec: number): DerNode {
  return derInteger(usec)
}

/** Reads Microseconds (`ProtocolError` outside 0..999999). */
export function readMicroseconds(r: DerReader): number {
  const v = r.smallInteger()
  if (v < 0 || v > 999999) r.fail(`Microseconds ${v} out of range`)
  return v
}

/** Splits a Date into a whole-second time and microseconds (from its milliseconds). */
export function timestampOf(date: Date): KerberosTimestamp {
  const ms = date.getTime()
  const s = Math.floor(ms / 1000) * 1000
  return { time: new Date(s), usec: (ms - s) * 1000 }
}
