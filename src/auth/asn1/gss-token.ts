/**
 * The GSS-API mechanism-independent token framing of RFC 2743 §3.1 (InitialContextToken), shared by
 * SPNEGO (RFC 4178 §4.2: thisMech = 1.3.6.1.5.5.2) and Kerberos (RFC 4121 §4.1: thisMech =
 * 1.2.840.113554.1.2.2, inner token = 2-byte TOK_ID ‖ AP-REQ/AP-REP/KRB-ERROR):
 *
 * ```
 * 0x60 <DER length> 0x06 <oid length> <oid> <innerContextToken (mechanism-defined bytes)>
 * ```
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { DerReader, TagClass, UniversalTag, readElement } from './reader.ts'
import { derOid, derTlv, encodeDer } from './writer.ts'

/** A decoded InitialContextToken. `innerToken` is a view into the input. */
export interface GssInitialContextToken {
  /** thisMech: the mechanism OID in dotted-decimal form. */
  readonly mech: string
  /** innerContextToken: the mechanism-specific rest (not necessarily a DER value). */
  readonly innerToken: Uint8Array
}

/** Identifier octet of an InitialContextToken: [APPLICATION 0] constructed. */
export const GSS_INITIAL_TOKEN_TAG = 0x60

/** True when `bytes` starts like an InitialContextToken (0x60); a cheap check, no validation. */
export function isGssInitialContextToken(bytes: Uint8Array): boolean {
  return bytes[0] === GSS_INITIAL_TOKEN_TAG
}

/**
 * Decodes an InitialContextToken (whole buffer; strict DER header and OID). Anything else is a
 * `ProtocolError`.
 */
export function decodeGssInitialContextToken(bytes: Uint8Array): GssInitialContextToken {
  const what = 'GSS InitialContextToken'
  const outer = readElement(bytes, 0, bytes.length, what)
  if (outer.tagClass !== TagClass.application || outer.tag !== 0 || !outer.constructed) {
    throw new ProtocolError(`${what}: expected [APPLICATION 0] (0x60)`)
  }
  if (outer.encoded.length !== bytes.length) {
    throw new ProtocolError(`${what}: ${bytes.length - outer.encoded.length} trailing bytes`)
  }
  const r = new DerReader(outer.content, what)
  if (!r.nextIs(TagClass.universal, UniversalTag.OBJECT_IDENTIFIER, false)) {
    throw new ProtocolError(`${what}: thisMech OBJECT IDENTIFIER missing`)
  }
  const mech = r.oid()
  return { mech, innerToken: outer.content.subarray(r.offset) }
}

/** Encodes an InitialContextToken for `mech` around the mechanism's inner token bytes. */
export function encodeGssInitialContextToken(mech: string, innerToken: Uint8Array): Uint8Array {
  const oid = encodeDer(derOid(mech))
  const content = new Uint8Array(oid.length + innerToken.length)
  content.set(oid)
  content.set(innerToken, oid.length)
  return encodeDer(derTlv(TagClass.application, 0, [rawContent(content)]))
}

/** A node writing bytes verbatim (the inner token need not be DER). */
function rawContent(bytes: Uint8Array): { size: number; writeTo(out: Uint8Array, offset: number): number } {
  return {
    size: bytes.length,
    writeTo(out, offset) {
      out.set(bytes, offset)
      return offset + bytes.length
    },
  }
}
