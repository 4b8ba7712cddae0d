/**
 * KDC-REQ (RFC 4120 §5.4.1): AS-REQ and TGS-REQ.
 *
 * ```
 * AS-REQ  ::= [APPLICATION 10] KDC-REQ
 * TGS-REQ ::= [APPLICATION 12] KDC-REQ
 * KDC-REQ ::= SEQUENCE { pvno [1] INTEGER (5), msg-type [2] INTEGER (10 | 12),
 *                        padata [3] SEQUENCE OF PA-DATA OPTIONAL, req-body [4] KDC-REQ-BODY }
 * KDC-REQ-BODY ::= SEQUENCE {
 *   kdc-options [0] KDCOptions, cname [1] PrincipalName OPTIONAL, realm [2] Realm,
 *   sname [3] PrincipalName OPTIONAL, from [4] KerberosTime OPTIONAL, till [5] KerberosTime,
 *   rtime [6] KerberosTime OPTIONAL, nonce [7] UInt32, etype [8] SEQUENCE OF Int32,
 *   addresses [9] HostAddresses OPTIONAL, enc-authorization-data [10] EncryptedData OPTIONAL,
 *   additional-tickets [11] SEQUENCE OF Ticket OPTIONAL }
 * ```
 *
 * @module
 */
import {
  type DerReader,
  decodeDer,
  derApplication,
  derField,
  derInteger,
  derOptionalField,
  derRaw,
  derSequence,
  encodeDer,
} from '../../asn1/index.ts'
import { encodeKerberosFlags, readKerberosFlags } from './flags.ts'
import { encodeKerberosTime, readKerberosTime } from './kerberos-time.ts'
import { MessageType, readUInt32, readMessageHeader } from './message-type.ts'
import { type PaData, encodeMethodData, readMethodData } from './pa-data.ts'
import {
  type PrincipalName,
  encodePrincipalName,
  encodeRealm,
  readPrincipalName,
  readRealm,
} from './principal.ts'
import { type Ticket, encodeTicket, readTicket } from './ticket.ts'

/** KDC-REQ-BODY (the fields a client sets; addresses and authorization data are not used here). */
export interface KdcReqBody {
  /** KDCOptions as a 32-bit word (see `KdcOption`, `flagsOf`). */
  readonly kdcOptions: number
  /** The client (AS-REQ only). */
  readonly cname?: PrincipalName | undefined
  /** Realm of the server (and of the client in an AS-REQ). */
  readonly realm: string
  /** The service asked for. */
  readonly sname?: PrincipalName | undefined
  /** Requested start time. */
  readonly from?: Date | undefined
  /** Requested end time. */
  readonly till: Date
  /** Requested renew-till time. */
  readonly rtime?: Date | undefined
  /** Random number echoed in the reply. */
  readonly nonce: number
  /** Acceptable enctypes, preferred first. */
  readonly etypes: readonly number[]
  /** Tickets for enc-tkt-in-skey / S4U (DER kept). */
  readonly additionalTickets?: readonly Ticket[] | undefined
}

/** A decoded KDC-REQ. */
export interface KdcReq {
  /** 10 (AS-REQ) or 12 (TGS-REQ). */
  readonly msgType: number
  /** Pre-authentication data. */
  readonly padata: readonly PaData[]
  /** The request body. */
  readonly body: KdcReqBody
  /** The DER of req-body, as checksummed by PA-TGS-REQ. */
  readonly bodyEncoded: Uint8Array
}

/** Encodes a KDC-REQ-BODY (its DER is what the TGS authenticator checksum covers). */
export function encodeKdcReqBody(b: KdcReqBody): Uint8Array {
  return encodeDer(
    derSequence([
      derField(0, encodeKerberosFlags(b.kdcOptions)),
      derOptionalField(1, b.cname === undefined ? undefined : encodePrincipalName(b.cname)),
      derField(2, encodeRealm(b.realm)),
      derOptionalField(3, b.sname === undefined ? undefined : encodePrincipalName(b.sname)),
      derOptionalField(4, b.from === undefined ? undefined : encodeKerberosTime(b.from)),
      derField(5, encodeKerberosTime(b.till)),
      derOptionalField(6, b.rtime === undefined ? undefined : encodeKerberosTime(b.rtime)),
      derField(7, derInteger(b.nonce)),
      derField(8, derSequence(b.etypes.map((e) => derInteger(e)))),
      derOptionalField(
        11,
        b.additionalTickets === undefined || b.additionalTickets.length === 0
          ? undefined
          : derSequence(b.additionalTickets.map(encodeTicket)),
      ),
    ]),
  )
}

function readBody(r: DerReader): KdcReqBody {
  const s = r.sequence()
  const kdcOptions = s.field(0, readKerberosFlags)
  const cname = s.optionalField(1, readPrincipalName)
  const realm = s.field(2, readRealm)
  const sname = s.optionalField(3, readPrincipalName)
  const from = s.optionalField(4, readKerberosTime)
  const till = s.field(5, readKerberosTime)
  const rtime = s.optionalField(6, readKerberosTime)
  const nonce = s.field(7, readUInt32)
  const etypes = s.field(8, (x) => x.sequenceOf((y) => y.smallInteger()))
  s.optionalField(9, (x) => x.any())
  s.optionalField(10, (x) => x.any())
  const additionalTickets = s.optionalField(11, (x) => x.sequenceOf(readTicket))
  s.end()
  return { kdcOptions, cname, realm, sname, from, till, rtime, nonce, etypes, additionalTickets }
}

/** Encodes an AS-REQ (`msgType` 10) or TGS-REQ (12) around an already encoded body. */
export function encodeKdcReq(
  msgType: 10 | 12,
  padata: readonly PaData[],
  bodyEncoded: Uint8Array,
): Uint8Array {
  return encodeDer(
    derApplication(
      msgType,
      derSequence([
        derField(1, derInteger(5)),
        derField(2, derInteger(msgType)),
        derOptionalField(3, padata.length === 0 ? undefined : encodeMethodData(padata)),
        derField(4, derRaw(bodyEncoded)),
      ]),
    ),
  )
}

/** Decodes an AS-REQ or TGS-REQ (used by tests and fake KDCs). */
export function decodeKdcReq(bytes: Uint8Array): KdcReq {
  return decodeDer(
    bytes,
    (r) => {
      const first = r.peek()
      const tag = first?.tag ?? -1
      if (tag !== MessageType.AS_REQ && tag !== MessageType.TGS_REQ) r.fail('not an AS-REQ or TGS-REQ')
      const s = r.application(tag).sequence()
      const msgType = readMessageHeader(s, tag, 1)
      const padata = s.optionalField(3, readMethodData) ?? []
      const inner = s.explicit(4)
      const bodyEncoded = new Uint8Array(inner.peek()?.encoded ?? new Uint8Array(0))
      const body = readBody(inner)
      inner.end()
      s.end()
      return { msgType, padata, body, bodyEncoded }
    },
    'KDC-REQ',
  )
}
