/**
 * AP-REP and EncAPRepPart (RFC 4120 §5.5.2):
 *
 * ```
 * AP-REP ::= [APPLICATION 15] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (15),
 *   enc-part [2] EncryptedData -- EncAPRepPart }
 * EncAPRepPart ::= [APPLICATION 27] SEQUENCE { ctime [0] KerberosTime, cusec [1] Microseconds,
 *   subkey [2] EncryptionKey OPTIONAL, seq-number [3] UInt32 OPTIONAL }
 * ```
 *
 * @module
 */
import {
  decodeDer,
  derApplication,
  derField,
  derInteger,
  derOptionalField,
  derSequence,
  encodeDer,
} from '../../asn1/index.ts'
import type { KerberosKey } from '../crypto/index.ts'
import { type EncryptedData, encodeEncryptedData, readEncryptedData } from './encrypted-data.ts'
import { encodeEncryptionKey, readEncryptionKey } from './encryption-key.ts'
import {
  encodeKerberosTime,
  encodeMicroseconds,
  readKerberosTime,
  readMicroseconds,
} from './kerberos-time.ts'
import { ApplicationTag, MessageType, readUInt32, readMessageHeader } from './message-type.ts'

/** The decrypted part of an AP-REP. */
export interface EncApRepPart {
  /** Must equal the authenticator's ctime. */
  readonly ctime: Date
  /** Must equal the authenticator's cusec. */
  readonly cusec: number
  /** The acceptor's subkey (RFC 4121: then protects the per-message tokens). */
  readonly subkey?: KerberosKey | undefined
  /** The acceptor's initial sequence number. */
  readonly seqNumber?: number | undefined
}

/** Encodes an AP-REP. */
export function encodeApRep(encPart: EncryptedData): Uint8Array {
  return encodeDer(
    derApplication(
      MessageType.AP_REP,
      derSequence([
        derField(0, derInteger(5)),
        derField(1, derInteger(MessageType.AP_REP)),
        derField(2, encodeEncryptedData(encPart)),
      ]),
    ),
  )
}

/** Decodes an AP-REP, returning its encrypted part. */
export function decodeApRep(bytes: Uint8Array): EncryptedData {
  return decodeDer(
    bytes,
    (r) => {
      const app = r.application(MessageType.AP_REP)
      const s = app.sequence()
      app.end()
      readMessageHeader(s, MessageType.AP_REP)
      const encPart = s.field(2, readEncryptedData)
      s.end()
      return encPart
    },
    'AP-REP',
  )
}

/** Encodes an EncAPRepPart. */
export function encodeEncApRepPart(p: EncApRepPart): Uint8Array {
  return encodeDer(
    derApplication(
      ApplicationTag.ENC_AP_REP_PART,
      derSequence([
        derField(0, encodeKerberosTime(p.ctime)),
        derField(1, encodeMicroseconds(p.cusec)),
        derOptionalField(2, p.subkey === undefined ? undefined : encodeEncryptionKey(p.subkey)),
        derOptionalField(3, p.seqNumber === undefined ? undefined : derInteger(p.seqNumber)),
      ]),
    ),
  )
}

/** Decodes an EncAPRepPart. */
export function decodeEncApRepPart(bytes: Uint8Array): EncApRepPart {
  return decodeDer(
    bytes,
    (r) => {
      const app = r.application(ApplicationTag.ENC_AP_REP_PART)
      const s = app.sequence()
      app.end()
      const ctime = s.field(0, readKerberosTime)
      const cusec = s.field(1, readMicroseconds)
      const subkey = s.optionalField(2, readEncryptionKey)
      const seqNumber = s.optionalField(3, readUInt32)
      s.end()
      return { ctime, cusec, subkey, seqNumber }
    },
    'EncAPRepPart',
  )
}
