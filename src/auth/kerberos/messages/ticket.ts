/**
 * Ticket (RFC 4120 §5.3):
 *
 * ```
 * Ticket ::= [APPLICATION 1] SEQUENCE {
 *   tkt-vno [0] INTEGER (5), realm [1] Realm, sname [2] PrincipalName, enc-part [3] EncryptedData }
 * ```
 *
 * The client never decrypts a ticket; it keeps the exact DER ({@link Ticket.encoded}) to send it back.
 *
 * @module
 */
import { type DerNode, type DerReader, decodeDer, derRaw } from '../../asn1/index.ts'
import { type EncryptedData, readEncryptedData } from './encrypted-data.ts'
import { type PrincipalName, readPrincipalName, readRealm } from './principal.ts'

/** A decoded ticket plus its DER. */
export interface Ticket {
  /** The realm of the service. */
  readonly realm: string
  /** The service principal. */
  readonly sname: PrincipalName
  /** The encrypted part (service key). */
  readonly encPart: EncryptedData
  /** The complete DER of the Ticket, as received. */
  readonly encoded: Uint8Array
}

/** Reads a Ticket, keeping its encoding. */
export function readTicket(r: DerReader): Ticket {
  const el = r.peek()
  if (el === undefined) r.fail('expected a Ticket, found end of data')
  const app = r.application(1)
  const s = app.sequence()
  app.end()
  const vno = s.field(0, (x) => x.smallInteger())
  if (vno !== 5) s.fail(`tkt-vno ${vno} is not 5`)
  const realm = s.field(1, readRealm)
  const sname = s.field(2, readPrincipalName)
  const encPart = s.field(3, readEncryptedData)
  s.end()
  return { realm, sname, encPart, encoded: new Uint8Array(el.encoded) }
}

/** Decodes a Ticket from its DER (the whole buffer). */
export function decodeTicket(bytes: Uint8Array): Ticket {
  return decodeDer(bytes, readTicket, 'Ticket')
}

/** The Ticket's DER as a node to embed (its original bytes). */
export function encodeTicket(ticket: Pick<Ticket, 'encoded'> | Uint8Array): DerNode {
  return derRaw(ticket instanceof Uint8Array ? ticket : ticket.encoded)
}
