/**
 * AP-REQ and Authenticator (RFC 4120 §5.5.1):
 *
 * ```
 * AP-REQ ::= [APPLICATION 14] SEQUENCE { pvno [0] INTEGER (5), msg-type [1] INTEGER (14),
 *   ap-options [2] APOptions, ticket [3] Ticket, authenticator [4] EncryptedData }
 * Authenticator ::= [APPLICATION 2] SEQUENCE { authenticator-vno [0] INTEGER (5), crealm [1] Realm,
 *   cname [2] PrincipalName, cksum [3] Checksum OPTIONAL, cusec [4] Microseconds,
 *   ctime [5] KerberosTime, subkey [6] EncryptionKey OPTIONAL, seq-number [7] UInt32 OPTIONAL,
 *   authorization-data [8] AuthorizationData OPTIONAL }
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
import type { KerberosChecksum, KerberosKey } from '../crypto/index.ts'
import { encodeChecksum, readChecksum } from './checksum.ts'
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

/** A decoded AP-REQ. */
export interface ApReq {
  /** APOptions word (see `ApOption`). */
  readonly apOptions: number
  /** The service ticket. */
  readonly ticket: Ticket
  /** The encrypted Authenticator. */
  readonly authenticator: EncryptedData
}

/** The plaintext Authenticator. */
export interface Authenticator {
  readonly crealm: string
  readonly cname: PrincipalName
  /** Checksum (GSS: type 0x8003, RFC 4121 §4.1.1; TGS: over the request body). */
  readonly cksum?: KerberosChecksum | undefined
  readonly cusec: number
  readonly ctime: Date
  /** Initiator subkey. */
  readonly subkey?: KerberosKey | undefined
  /** Initiator's initial sequence number. */
  readonly seqNumber?: number | undefined
}

/** Encodes an AP-REQ. */
export function encodeApReq(req: {
  apOptions: number
  ticket: Pick<Ticket, 'encoded'> | Uint8Array
  authenticator: EncryptedData
}): Uint8Array {
  return encodeDer(
    derApplication(
      MessageType.AP_REQ,
      derSequence([
        derField(0, derInteger(5)),
        derField(1, derInteger(MessageType.AP_REQ)),
        derField(2, encodeKerberosFlags(req.apOptions)),
        derField(3, encodeTicket(req.ticket)),
        derField(4, encodeEncryptedData(req.authenticator)),
      ]),
    ),
  )
}

/** Decodes an AP-REQ. */
export function decodeApReq(bytes: Uint8Array): ApReq {
  return decodeDer(
    bytes,
    (r) => {
      const app = r.application(MessageType.AP_REQ)
      const s = app.sequence()
      app.end()
      readMessageHeader(s, MessageType.AP_REQ)
      const apOptions = s.field(2, readKerberosFlags)
      const ticket = s.field(3, readTicket)
      const authenticator = s.field(4, readEncryptedData)
      s.end()
      return { apOptions, ticket, authenticator }
    },
    'AP-REQ',
  )
}

/** Encodes an Authenticator (the plaintext to encrypt with usage 7 or 11). */
export function encodeAuthenticator(a: Authenticator): Uint8Array {
  return encodeDer(
    derApplication(
      ApplicationTag.AUTHENTICATOR,
      derSequence([
        derField(0, derInteger(5)),
        derField(1, encodeRealm(a.crealm)),
        derField(2, encodePrincipalName(a.cname)),
        derOptionalField(3, a.cksum === undefined ? undefined : encodeChecksum(a.cksum)),
        derField(4, encodeMicroseconds(a.cusec)),
        derField(5, encodeKerberosTime(a.ctime)),
        derOptionalField(6, a.subkey === undefined ? undefined : encodeEncryptionKey(a.subkey)),
        derOptionalField(7, a.seqNumber === undefined ? undefined : derInteger(a.seqNumber)),
      ]),
    ),
  )
}

/** Decodes an Authenticator. */
export function decodeAuthenticator(bytes: Uint8Array): Authenticator {
  return decodeDer(
    bytes,
    (r) => {
      const app = r.application(ApplicationTag.AUTHENTICATOR)
      const s = app.sequence()
      app.end()
      const vno = s.field(0, (x) => x.smallInteger())
      if (vno !== 5) s.fail(`authenticator-vno ${vno} is not 5`)
      const crealm = s.field(1, readRealm)
      const cname = s.field(2, readPrincipalName)
      const cksum = s.optionalField(3, readChecksum)
      const cusec = s.field(4, readMicroseconds)
      const ctime = s.field(5, readKerberosTime)
      const subkey = s.optionalField(6, readEncryptionKey)
      const seqNumber = s.optionalField(7, readUInt32)
      s.optionalField(8, (x) => x.any())
      s.end()
      return { crealm, cname, cksum, cusec, ctime, subkey, seqNumber }
    },
    'Authenticator',
  )
}
