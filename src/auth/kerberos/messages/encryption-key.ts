/**
 * EncryptionKey (RFC 4120 §5.2.9):
 *
 * ```
 * EncryptionKey ::= SEQUENCE { keytype [0] Int32, keyvalue [1] OCTET STRING }
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
import type { KerberosKey } from '../crypto/index.ts'

/** Encodes an EncryptionKey. */
export function encodeEncryptionKey(key: KerberosKey): DerNode {
  return derSequence([derField(0, derInteger(key.enctype)), derField(1, derOctetString(key.value))])
}

/** Reads an EncryptionKey (the key bytes are copied). */
export function readEncryptionKey(r: DerReader): KerberosKey {
  const s = r.sequence()
  const enctype = s.field(0, (x) => x.smallInteger())
  const value = new Uint8Array(s.field(1, (x) => x.octetString()))
  s.end()
  return { enctype, value }
}
