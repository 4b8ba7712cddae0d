/**
 * KRB-CRED (RFC 4120 §5.8): how a forwarded TGT travels to the service for delegation.
 *
 * ```
 * KRB-CRED ::= [APPLICATION 22] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (22),
 *   tickets [2] SEQUENCE OF Ticket, enc-part [3] EncryptedData -- EncKrbCredPart }
 * EncKrbCredPart ::= [APPLICATION 29] SEQUENCE { ticket-info [0] SEQUENCE OF KrbCredInfo,
 *   nonce [1] UInt32 OPTIONAL, timestamp [2] KerberosTime OPTIONAL, usec [3] Microseconds OPTIONAL,
 *   s-address [4] HostAddress OPTIONAL, r-address [5] HostAddresses OPTIONAL }
 * KrbCredInfo ::= SEQUENCE { key [0] EncryptionKey, prealm [1] Realm OPTIONAL,
 *   pname [2] PrincipalName OPTIONAL, flags [3] TicketFlags OPTIONAL, authtime [4] KerberosTime OPTIONAL,
 *   starttime [5] KerberosTime OPTIONAL, endtime [6] KerberosTime OPTIONAL,
 *   renew-till [7] KerberosTime OPTIONAL, srealm [8] Realm OPTIONAL, sname [9] PrincipalName OPTIONAL,
 *   caddr [10] HostAddresses OPTIONAL }
 * ```
 *
 * @module
 */
import {
  type DerNode,
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
import {
  encodeKerberosTime,
  encodeMicroseconds,
  readKerberosTime,
  readMicroseconds,
} from './kerberos-time.ts'
import { ApplicationTag, MessageType, readUInt32, readMessageHeader } from './message-type.ts'
import {
  type PrincipalName,
  encodePrincipalName,
  encodeRealm,
  readPrincipalName,
  readRealm,
} from './principal.ts'
import { type Ticket, encodeTicket, readTicket } from './ticket.ts'

/** One KrbCredInfo: the session key and facts of one forwarded ticket. */
export interface KrbCredInfo {
  readonly key: KerberosKey
  readonly prealm?: string | undefined
  readonly pname?: PrincipalName | undefined
  readonly flags?: number | undefined
  readonly authtime?: Date | undefined
  readonly starttime?: Date | undefined
  readonly endtime?: Date | undefined
  readonly renewTill?: Date | undefined
  readonly srealm?: string | undefined
  readonly sname?: PrincipalName | undefined
}

/** The plaintext EncKrbCredPart (fields used here). */
export interface EncKrbCredPart {
  readonly ticketInfo: readonly KrbCredInfo[]
  readonly nonce?: number | undefined
  readonly timestamp?: Date | undefined
  readonly usec?: number | undefined
}

/** A decoded KRB-CRED. */
export interface KrbCred {
  readonly tickets: readonly Ticket[]
  readonly encPart: EncryptedData
}

const opt = <T>(n: number, v: T | undefined, enc: (v: T) => DerNode): DerNode | undefined =>
  derOptionalField(n, v === undefined ? undefined : enc(v))

/** Encodes an EncKrbCredPart (to be encrypted with usage 14). */
export function encodeEncKrbCredPart(p: EncKrbCredPart): Uint8Array {
  return encodeDer(
    derApplication(
      ApplicationTag.ENC_KRB_CRED_PART,
      derSequence([
        derField(
          0,
          derSequence(
            p.ticketInfo.map((i) =>
              derSequence([
                derField(0, encodeEncryptionKey(i.key)),
                opt(1, i.prealm, encodeRealm),
                opt(2, i.pname, encodePrincipalName),
                opt(3, i.flags, encodeKerberosFlags),
                opt(4, i.authtime, encodeKerberosTime),
                opt(5, i.starttime, encodeKerberosTime),
                opt(6, i.endtime, encodeKerberosTime),
                opt(7, i.renewTill, encodeKerberosTime),
                opt(8, i.srealm, encodeRealm),
                opt(9, i.sname, encodePrincipalName),
              ]),
            ),
          ),
        ),
        opt(1, p.nonce, (n) => derInteger(n)),
        opt(2, p.timestamp, encodeKerberosTime),
        opt(3, p.usec, encodeMicroseconds),
      ]),
    ),
  )
}

function readInfo(r: DerReader): KrbCredInfo {
  const s = r.sequence()
  const info: KrbCredInfo = {
    key: s.field(0, readEncryptionKey),
    prealm: s.optionalField(1, readRealm),
    pname: s.optionalField(2, readPrincipalName),
    flags: s.optionalField(3, readKerberosFlags),
    authtime: s.optionalField(4, readKerberosTime),
    starttime: s.optionalField(5, readKerberosTime),
    endtime: s.optionalField(6, readKerberosTime),
    renewTill: s.optionalField(7, readKerberosTime),
    srealm: s.optionalField(8, readRealm),
    sname: s.optionalField(9, readPrincipalName),
  }
  s.optionalField(10, (x) => x.any())
  s.end()
  return info
}

/** Decodes an EncKrbCredPart. */
export function decodeEncKrbCredPart(bytes: Uint8Array): EncKrbCredPart {
  return decodeDer(
    bytes,
    (r) => {
      const app = r.application(ApplicationTag.ENC_KRB_CRED_PART)
      const s = app.sequence()
      app.end()
      const ticketInfo = s.field(0, (x) => x.sequenceOf(readInfo))
      const nonce = s.optionalField(1, readUInt32)
      const timestamp = s.optionalField(2, readKerberosTime)
      const usec = s.optionalField(3, readMicroseconds)
      s.optionalField(4, (x) => x.any())
      s.optionalField(5, (x) => x.any())
      s.end()
      return { ticketInfo, nonce, timestamp, usec }
    },
    'EncKrbCredPart',
  )
}

/** Encodes a KRB-CRED. */
export function encodeKrbCred(
  tickets: readonly (Pick<Ticket, 'encoded'> | Uint8Array)[],
  encPart: EncryptedData,
): Uint8Array {
  return encodeDer(
    derApplication(
      MessageType.KRB_CRED,
      derSequence([
        derField(0, derInteger(5)),
        derField(1, derInteger(MessageType.KRB_CRED)),
        derField(2, derSequence(tickets.map(encodeTicket))),
        derField(3, encodeEncryptedData(encPart)),
      ]),
    ),
  )
}

/** Decodes a KRB-CRED. */
export function decodeKrbCred(bytes: Uint8Array): KrbCred {
  return decodeDer(
    bytes,
    (r) => {
      const app = r.application(MessageType.KRB_CRED)
      const s = app.sequence()
      app.end()
      readMessageHeader(s, MessageType.KRB_CRED)
      const tickets = s.field(2, (x) => x.sequenceOf(readTicket))
      const encPart = s.field(3, readEncryptedData)
      s.end()
      return { tickets, encPart }
    },
    'KRB-CRED',
  )
}
