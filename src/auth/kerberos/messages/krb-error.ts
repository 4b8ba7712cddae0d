/**
 * KRB-ERROR (RFC 4120 §5.9.1) and the error codes of §7.5.9:
 *
 * ```
 * KRB-ERROR ::= [APPLICATION 30] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (30),
 *   ctime [2] KerberosTime OPTIONAL, cusec [3] Microseconds OPTIONAL, stime [4] KerberosTime,
 *   susec [5] Microseconds, error-code [6] Int32, crealm [7] Realm OPTIONAL,
 *   cname [8] PrincipalName OPTIONAL, realm [9] Realm, sname [10] PrincipalName,
 *   e-text [11] KerberosString OPTIONAL, e-data [12] OCTET STRING OPTIONAL }
 * ```
 *
 * @module
 */
import {
  decodeDer,
  derApplication,
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
import { MessageType, readMessageHeader } from './message-type.ts'
import {
  type PrincipalName,
  encodePrincipalName,
  encodeRealm,
  readPrincipalName,
  readRealm,
} from './principal.ts'

/** Error codes (RFC 4120 §7.5.9) the client reacts to or reports by name. */
export const KrbErrorCode = {
  KDC_ERR_NONE: 0,
  KDC_ERR_NAME_EXP: 1,
  KDC_ERR_SERVICE_EXP: 2,
  KDC_ERR_BAD_PVNO: 3,
  KDC_ERR_C_PRINCIPAL_UNKNOWN: 6,
  KDC_ERR_S_PRINCIPAL_UNKNOWN: 7,
  KDC_ERR_PRINCIPAL_NOT_UNIQUE: 8,
  KDC_ERR_NULL_KEY: 9,
  KDC_ERR_CANNOT_POSTDATE: 10,
  KDC_ERR_NEVER_VALID: 11,
  KDC_ERR_POLICY: 12,
  KDC_ERR_BADOPTION: 13,
  KDC_ERR_ETYPE_NOSUPP: 14,
  KDC_ERR_SUMTYPE_NOSUPP: 15,
  KDC_ERR_CLIENT_REVOKED: 18,
  KDC_ERR_SERVICE_REVOKED: 19,
  KDC_ERR_TGT_REVOKED: 20,
  KDC_ERR_CLIENT_NOTYET: 21,
  KDC_ERR_SERVICE_NOTYET: 22,
  KDC_ERR_KEY_EXPIRED: 23,
  KDC_ERR_PREAUTH_FAILED: 24,
  KDC_ERR_PREAUTH_REQUIRED: 25,
  KDC_ERR_SERVER_NOMATCH: 26,
  KDC_ERR_MUST_USE_USER2USER: 27,
  KRB_AP_ERR_BAD_INTEGRITY: 31,
  KRB_AP_ERR_TKT_EXPIRED: 32,
  KRB_AP_ERR_TKT_NYV: 33,
  KRB_AP_ERR_REPEAT: 34,
  KRB_AP_ERR_NOT_US: 35,
  KRB_AP_ERR_BADMATCH: 36,
  KRB_AP_ERR_SKEW: 37,
  KRB_AP_ERR_BADADDR: 38,
  KRB_AP_ERR_BADVERSION: 39,
  KRB_AP_ERR_MSG_TYPE: 40,
  KRB_AP_ERR_MODIFIED: 41,
  KRB_AP_ERR_BADORDER: 42,
  KRB_AP_ERR_BADKEYVER: 44,
  KRB_AP_ERR_NOKEY: 45,
  KRB_AP_ERR_MUT_FAIL: 46,
  KRB_AP_ERR_BADDIRECTION: 47,
  KRB_AP_ERR_METHOD: 48,
  KRB_AP_ERR_BADSEQ: 49,
  KRB_AP_ERR_INAPP_CKSUM: 50,
  KRB_ERR_RESPONSE_TOO_BIG: 52,
  KRB_ERR_GENERIC: 60,
  KRB_ERR_FIELD_TOOLONG: 61,
  KDC_ERR_WRONG_REALM: 68,
} as const

const NAMES = new Map<number, string>(Object.entries(KrbErrorCode).map(([k, v]) => [v, k]))

/** The RFC 4120 name of an error code (`KDC_ERR_PREAUTH_FAILED`), or `error <n>`. */
export function krbErrorName(code: number): string {
  return NAMES.get(code) ?? `error ${code}`
}

/** A decoded KRB-ERROR. */
export interface KrbError {
  readonly ctime?: Date | undefined
  readonly cusec?: number | undefined
  /** The server's time (useful for clock-skew reports). */
  readonly stime: Date
  readonly susec: number
  /** error-code. */
  readonly errorCode: number
  readonly crealm?: string | undefined
  readonly cname?: PrincipalName | undefined
  /** Realm of the server that answered. */
  readonly realm: string
  /** The server principal. */
  readonly sname: PrincipalName
  /** Human-readable text from the server. */
  readonly eText?: string | undefined
  /** Error data (METHOD-DATA for KDC_ERR_PREAUTH_REQUIRED). */
  readonly eData?: Uint8Array | undefined
}

/** Encodes a KRB-ERROR (for tests and fake KDCs). */
export function encodeKrbError(e: KrbError): Uint8Array {
  return encodeDer(
    derApplication(
      MessageType.KRB_ERROR,
      derSequence([
        derField(0, derInteger(5)),
        derField(1, derInteger(MessageType.KRB_ERROR)),
        derOptionalField(2, e.ctime === undefined ? undefined : encodeKerberosTime(e.ctime)),
        derOptionalField(3, e.cusec === undefined ? undefined : encodeMicroseconds(e.cusec)),
        derField(4, encodeKerberosTime(e.stime)),
        derField(5, encodeMicroseconds(e.susec)),
        derField(6, derInteger(e.errorCode)),
        derOptionalField(7, e.crealm === undefined ? undefined : encodeRealm(e.crealm)),
        derOptionalField(8, e.cname === undefined ? undefined : encodePrincipalName(e.cname)),
        derField(9, encodeRealm(e.realm)),
        derField(10, encodePrincipalName(e.sname)),
        derOptionalField(11, e.eText === undefined ? undefined : derGeneralString(e.eText)),
        derOptionalField(12, e.eData === undefined ? undefined : derOctetString(e.eData)),
      ]),
    ),
  )
}

/** Decodes a KRB-ERROR. */
export function decodeKrbError(bytes: Uint8Array): KrbError {
  return decodeDer(
    bytes,
    (r) => {
      const app = r.application(MessageType.KRB_ERROR)
      const s = app.sequence()
      app.end()
      readMessageHeader(s, MessageType.KRB_ERROR)
      const ctime = s.optionalField(2, readKerberosTime)
      const cusec = s.optionalField(3, readMicroseconds)
      const stime = s.field(4, readKerberosTime)
      const susec = s.field(5, readMicroseconds)
      const errorCode = s.field(6, (x) => x.smallInteger())
      const crealm = s.optionalField(7, readRealm)
      const cname = s.optionalField(8, readPrincipalName)
      const realm = s.field(9, readRealm)
      const sname = s.field(10, readPrincipalName)
      const eText = s.optionalField(11, (x) => x.generalString())
      const eData = s.optionalField(12, (x) => x.octetString())
      s.end()
      return { ctime, cusec, stime, susec, errorCode, crealm, cname, realm, sname, eText, eData }
    },
    'KRB-ERROR',
  )
}

/** True when the bytes start like a KRB-ERROR ([APPLICATION 30], 0x7e). */
export function isKrbError(bytes: Uint8Array): boolean {
  return bytes[0] === 0x7e
}
