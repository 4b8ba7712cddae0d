/**
 * Pre-authentication data (RFC 4120 §5.2.7 and §7.5.2):
 *
 * ```
 * PA-DATA      ::= SEQUENCE { padata-type [1] Int32, padata-value [2] OCTET STRING }
 * METHOD-DATA  ::= SEQUENCE OF PA-DATA
 * PA-ENC-TIMESTAMP ::= EncryptedData -- PA-ENC-TS-ENC
 * PA-ENC-TS-ENC    ::= SEQUENCE { patimestamp [0] KerberosTime, pausec [1] Microseconds OPTIONAL }
 * ETYPE-INFO2-ENTRY ::= SEQUENCE { etype [0] Int32, salt [1] KerberosString OPTIONAL,
 *                                  s2kparams [2] OCTET STRING OPTIONAL }
 * ETYPE-INFO2  ::= SEQUENCE SIZE (1..MAX) OF ETYPE-INFO2-ENTRY
 * KERB-PA-PAC-REQUEST ::= SEQUENCE { include-pac [0] BOOLEAN }   -- MS-KILE 2.2.3
 * ```
 *
 * @module
 */
import {
  type DerNode,
  type DerReader,
  decodeDer,
  derBoolean,
  derField,
  derGeneralString,
  derInteger,
  derOctetString,
  derOptionalField,
  derSequence,
  encodeDer,
} from '../../asn1/index.ts'
import {
  encodeKerberosTime,
  encodeMicroseconds,
  readKerberosTime,
  readMicroseconds,
} from './kerberos-time.ts'

/** padata-type numbers (RFC 4120 §7.5.2, RFC 6113, MS-KILE). */
export const PaDataType = {
  TGS_REQ: 1,
  ENC_TIMESTAMP: 2,
  PW_SALT: 3,
  ETYPE_INFO: 11,
  ETYPE_INFO2: 19,
  PAC_REQUEST: 128,
  FX_COOKIE: 133,
  FX_FAST: 136,
  ENCRYPTED_CHALLENGE: 138,
  REQ_ENC_PA_REP: 149,
} as const

/** One PA-DATA. */
export interface PaData {
  /** padata-type. */
  readonly type: number
  /** padata-value (its meaning depends on the type). */
  readonly value: Uint8Array
}

/** Encodes a PA-DATA. */
export function encodePaData(p: PaData): DerNode {
  return derSequence([derField(1, derInteger(p.type)), derField(2, derOctetString(p.value))])
}

/** Reads a PA-DATA. */
export function readPaData(r: DerReader): PaData {
  const s = r.sequence()
  const type = s.field(1, (x) => x.smallInteger())
  const value = s.field(2, (x) => x.octetString())
  s.end()
  return { type, value }
}

/** Encodes a SEQUENCE OF PA-DATA. */
export function encodeMethodData(list: readonly PaData[]): DerNode {
  return derSequence(list.map(encodePaData))
}

/** Reads a SEQUENCE OF PA-DATA. */
export function readMethodData(r: DerReader): PaData[] {
  return r.sequenceOf(readPaData)
}

/** Decodes METHOD-DATA (the e-data of KDC_ERR_PREAUTH_REQUIRED, RFC 4120 §5.9.1). */
export function decodeMethodData(bytes: Uint8Array): PaData[] {
  return decodeDer(bytes, readMethodData, 'METHOD-DATA')
}

/** The PA-ENC-TS-ENC plaintext for a time (to be encrypted with usage 1). */
export function encodePaEncTsEnc(time: Date, usec: number): Uint8Array {
  return encodeDer(
    derSequence([derField(0, encodeKerberosTime(time)), derField(1, encodeMicroseconds(usec))]),
  )
}

/** Decodes PA-ENC-TS-ENC. */
export function decodePaEncTsEnc(bytes: Uint8Array): { time: Date; usec: number | undefined } {
  return decodeDer(
    bytes,
    (r) => {
      const s = r.sequence()
      const time = s.field(0, readKerberosTime)
      const usec = s.optionalField(1, readMicroseconds)
      s.end()
      return { time, usec }
    },
    'PA-ENC-TS-ENC',
  )
}

/** One ETYPE-INFO2 entry: how the client derives its key for an enctype. */
export interface EtypeInfo2Entry {
  /** The enctype. */
  readonly etype: number
  /** The salt (absent: the default salt, RFC 4120 §4). */
  readonly salt?: string | undefined
  /** string-to-key parameters (AES: 4-byte iteration count). */
  readonly s2kparams?: Uint8Array | undefined
}

/** Encodes ETYPE-INFO2. */
export function encodeEtypeInfo2(entries: readonly EtypeInfo2Entry[]): Uint8Array {
  return encodeDer(
    derSequence(
      entries.map((e) =>
        derSequence([
          derField(0, derInteger(e.etype)),
          derOptionalField(1, e.salt === undefined ? undefined : derGeneralString(e.salt)),
          derOptionalField(2, e.s2kparams === undefined ? undefined : derOctetString(e.s2kparams)),
        ]),
      ),
    ),
  )
}

/** Decodes ETYPE-INFO2. */
export function decodeEtypeInfo2(bytes: Uint8Array): EtypeInfo2Entry[] {
  const list = decodeDer(
    bytes,
    (r) =>
      r.sequenceOf((x) => {
        const s = x.sequence()
        const etype = s.field(0, (y) => y.smallInteger())
        const salt = s.optionalField(1, (y) => y.generalString())
        const s2kparams = s.optionalField(2, (y) => y.octetString())
        s.end()
        return { etype, salt, s2kparams }
      }),
    'ETYPE-INFO2',
  )
  return list
}

/** KERB-PA-PAC-REQUEST (MS-KILE 2.2.3) as a PA-DATA. */
export function paPacRequest(includePac: boolean): PaData {
  return {
    type: PaDataType.PAC_REQUEST,
    value: encodeDer(derSequence([derField(0, derBoolean(includePac))])),
  }
}
