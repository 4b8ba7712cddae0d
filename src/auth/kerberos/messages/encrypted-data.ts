/**
 * EncryptedData (RFC 4120 §5.2.9):
 *
 * ```
 * EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING }
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
  derOptionalField,
  derSequence,
} from '../../asn1/index.ts'

/** An encrypted value and the enctype (and key version) it was encrypted with. */
export interface EncryptedData {
  /** Encryption type number. */
  readonly etype: number
  /** Key version number, when the key is a long-term key. */
  readonly kvno?: number | undefined
  /** The ciphertext. */
  readonly cipher: Uint8Array
}

/** Encodes EncryptedData. */
export function encodeEncryptedData(e: EncryptedData): DerNode {
  return derSequence([
    derField(0, derInteger(e.etype)),
    derOptionalField(1, e.kvno === undefined ? undefined : derInteger(e.kvno)),
    derField(2, derOctetString(e.cipher)),
  ])
}

/** Reads EncryptedData. */
export function readEncryptedData(r: DerReader): EncryptedData {
  const s = r.sequence()
  const etype = s.field(0, (x) => x.smallInteger())
  const kvno = s.optionalField(1, (x) => x.smallInteger())
  const cipher = s.field(2, (x) => x.octetString())
  s.end()
  return { etype, kvno, cipher }
}
