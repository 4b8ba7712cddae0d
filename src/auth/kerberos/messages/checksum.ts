/**
 * Checksum (RFC 4120 §5.2.9):
 *
 * ```
 * Checksum ::= SEQUENCE { cksumtype [0] Int32, checksum [1] OCTET STRING }
 * ```
 *
 * @module
 */
import {
  type DerNode,
  type DerReader,
  derField,
  derInteger,
  derOctetString,
  derSequence,
} from '../../asn1/index.ts'
import type { KerberosChecksum } from '../crypto/index.ts'

/** Encodes a Checksum. */
export function encodeChecksum(c: KerberosChecksum): DerNode {
  return derSequence([derField(0, derInteger(c.checksumType)), derField(1, derOctetString(c.checksum))])
}

/** Reads a Checksum. */
export function readChecksum(r: DerReader): KerberosChecksum {
  const s = r.sequence()
  const checksumType = s.field(0, (x) => x.smallInteger())
  const checksum = s.field(1, (x) => x.octetString())
  s.end()
  return { checksumType, checksum }
}
