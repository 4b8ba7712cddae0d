/**
 * KDC-REP and its encrypted part (RFC 4120 §5.4.2):
 *
 * ```
 * AS-REP  ::= [APPLICATION 11] KDC-REP
 * TGS-REP ::= [APPLICATION 13] KDC-REP
 * KDC-REP ::= SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (11 | 13),
 *   padata [2] SEQUENCE OF PA-DATA OPTIONAL, crealm [3] Realm, cname [4] PrincipalName,
 *   ticket [5] Ticket, enc-part [6] EncryptedData }
 * EncASRepPart  ::= [APPLICATION 25] EncKDCRepPart
 * EncTGSRepPart ::= [APPLICATION 26] EncKDCRepPart
 * EncKDCRepPart ::= SEQUENCE { key [0] EncryptionKey, last-req [1] LastReq, nonce [2] UInt32,
 *   key-expiration [3] KerberosTime OPTIONAL, flags [4] TicketFlags, authtime [5] KerberosTime,
 *   starttime [6] KerberosTime OPTIONAL, endtime [7] KerberosTime, renew-till [8] KerberosTime OPTIONAL,
 *   srealm [9] Realm, sname [10] PrincipalName, caddr [11] HostAddresses OPTIONAL,
 *   encrypted-pa-data [12] SEQUENCE OF PA-DATA OPTIONAL   -- RFC 6806 §11 }
 * ```
 *
 * As RFC 4120 §5.4.2 notes, some implementations (Windows, and MIT for TGS) send tag 25 where 26 is
 * due; both are accepted for either reply.
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
  derSequence,
  encodeDer,
} from '../../asn1/index.ts'
import type { KerberosKey } from '../crypto/index.ts'
import { type EncryptedData, encodeEncryptedData, readEncryptedData } from './encrypted-data.ts'
import { encodeEncryptionKey, readEncryptionKey } from './encryption-key.ts'
import { encodeKerberosFlags, readKerberosFlags } from './flags.ts'
import { encodeKerberosTime, readKerberosTime } from './kerberos-time.ts'
import { ApplicationTag, MessageType, readUInt32, readMessageHeader } from './message-type.ts'
import { type PaData, encodeMethodData, readMethodData } from './pa-data.ts'
import {
  type PrincipalName,
  encodePrincipalName,
  encodeRealm,
  readPrincipalName,
  readRealm,
} from './principal.ts'
import { type Ticket, encodeTicket, readTicket } from './ticket.ts'

/** A decoded AS-REP or TGS-REP. */
export interface KdcRep {
  /** 11 (AS-REP) or 13 (TGS-REP). */
  readonly msgType: number
  /** Pre-authentication data (AS-REP: ETYPE-INFO2 with the salt used). */
  readonly padata: readonly PaData[]
  /** The client's realm. */
  readonly crealm: string
  /** The client's name. */
  readonly cname: PrincipalName
  /** The ticket issued. */
  readonly ticket: Ticket
  /** The encrypted EncKDCRepPart. */
  readonly encPart: EncryptedData
}

/** The decrypted part of a KDC reply. */
export interface EncKdcRepPart {
  /** The session key of the ticket. */
  readonly key: KerberosKey
  /** Nonce: must equal the request's. */
  readonly nonce: number
  /** When the client's long-term key expires. */
  readonly keyExpiration?: Date | undefined
  /** TicketFlags. */
  readonly flags: number
  readonly authtime: Date
  readonly starttime?: Date | undefined
  readonly endtime: Date
  readonly renewTill?: Date | undefined
  /** The service's realm. */
  readonly srealm: string
  /** The service's name. */
  readonly sname: PrincipalName
  /** RFC 6806 encrypted-pa-data. */
  readonly encryptedPaData?: readonly PaData[] | undefined
}

/** Decodes an AS-REP (11) or TGS-REP (13); `ProtocolError` for anything else. */
export function decodeKdcRep(bytes: Uint8Array): KdcRep {
  return decodeDer(
    bytes,
    (r) => {
      const tag = r.peek()?.tag ?? -1
      if (tag !== MessageType.AS_REP && tag !== MessageType.TGS_REP) r.fail('not an AS-REP or TGS-REP')
      const app = r.application(tag)
      const s = app.sequence()
      app.end()
      const msgType = readMessageHeader(s, tag)
      const padata = s.optionalField(2, readMethodData) ?? []
      const crealm = s.field(3, readRealm)
      const cname = s.field(4, readPrincipalName)
      const ticket = s.field(5, readTicket)
      const encPart = s.field(6, readEncryptedData)
      s.end()
      return { msgType, padata, crealm, cname, ticket, encPart }
    },
    'KDC-REP',
  )
}

/** Encodes a KDC-REP (for tests and fake KDCs). */
export function encodeKdcRep(rep: Omit<KdcRep, 'ticket'> & { ticket: Pick<Ticket, 'encoded'> }): Uint8Array {
  return encodeDer(
    derApplication(
      rep.msgType,
      derSequence([
        derField(0, derInteger(5)),
        derField(1, derInteger(rep.msgType)),
        derOptionalField(2, rep.padata.length === 0 ? undefined : encodeMethodData(rep.padata)),
        derField(3, encodeRealm(rep.crealm)),
        derField(4, encodePrincipalName(rep.cname)),
        derField(5, encodeTicket(rep.ticket)),
        derField(6, encodeEncryptedData(rep.encPart)),
      ]),
    ),
  )
}

function readLastReq(r: DerReader): void {
  r.sequenceOf((x) => {
    const s = x.sequence()
    s.field(0, (y) => y.smallInteger())
    s.field(1, readKerberosTime)
    s.end()
  })
}

/** Decodes a decrypted EncASRepPart or EncTGSRepPart (either tag, 25 or 26). */
export function decodeEncKdcRepPart(bytes: Uint8Array): EncKdcRepPart {
  return decodeDer(
    bytes,
    (r) => {
      const tag = r.peek()?.tag ?? -1
      if (tag !== ApplicationTag.ENC_AS_REP_PART && tag !== ApplicationTag.ENC_TGS_REP_PART) {
        r.fail('not an EncASRepPart or EncTGSRepPart')
      }
      const app = r.application(tag)
      const s = app.sequence()
      app.end()
      const key = s.field(0, readEncryptionKey)
      s.field(1, readLastReq)
      const nonce = s.field(2, readUInt32)
      const keyExpiration = s.optionalField(3, readKerberosTime)
      const flags = s.field(4, readKerberosFlags)
      const authtime = s.field(5, readKerberosTime)
      const starttime = s.optionalField(6, readKerberosTime)
      const endtime = s.field(7, readKerberosTime)
      const renewTill = s.optionalField(8, readKerberosTime)
      const srealm = s.field(9, readRealm)
      const sname = s.field(10, readPrincipalName)
      s.optionalField(11, (x) => x.any())
      const encryptedPaData = s.optionalField(12, readMethodData)
      s.end()
      return {
        key,
        nonce,
        keyExpiration,
        flags,
        authtime,
        starttime,
        endtime,
        renewTill,
        srealm,
        sname,
        encryptedPaData,
      }
    },
    'EncKDCRepPart',
  )
}

/** Encodes an EncKDCRepPart with tag 25 or 26 (for tests and fake KDCs). */
export function encodeEncKdcRepPart(p: EncKdcRepPart, tag: 25 | 26): Uint8Array {
  return encodeDer(
    derApplication(
      tag,
      derSequence([
        derField(0, encodeEncryptionKey(p.key)),
        derField(1, derSequence([])),
        derField(2, derInteger(p.nonce)),
        derOptionalField(3, p.keyExpiration === undefined ? undefined : encodeKerberosTime(p.keyExpiration)),
        derField(4, encodeKerberosFlags(p.flags)),
        derField(5, encodeKerberosTime(p.authtime)),
        derOptionalField(6, p.starttime === undefined ? undefined : encodeKerberosTime(p.starttime)),
        derField(7, encodeKerberosTime(p.endtime)),
        derOptionalField(8, p.renewTill === undefined ? undefined : encodeKerberosTime(p.renewTill)),
        derField(9, encodeRealm(p.srealm)),
        derField(10, encodePrincipalName(p.sname)),
      ]),
    ),
  )
}
