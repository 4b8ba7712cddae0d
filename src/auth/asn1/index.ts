/**
 * A small, strict ASN.1 DER codec (ITU-T X.690 §8/§10/§11) for the authentication protocols: SPNEGO
 * (RFC 4178), Kerberos (RFC 4120) and CredSSP (MS-CSSP), plus the GSS-API token framing of RFC 2743
 * §3.1. Sans-IO; every malformed input is a `ProtocolError`.
 *
 * ```ts
 * const seq = new DerReader(bytes).sequence()
 * const n = seq.field(0, (r) => r.integer())
 * const out = encodeDer(derSequence([derField(0, derInteger(n))]))
 * ```
 *
 * @module
 */
export {
  DerReader,
  MAX_CONTENT_LENGTH,
  MAX_TAG_NUMBER,
  TagClass,
  UniversalTag,
  decodeDer,
  describeTag,
  parseGeneralizedTime,
  readElement,
  type BitString,
  type DerElement,
} from './reader.ts'
export {
  derApplication,
  derBitString,
  derBoolean,
  derEnumerated,
  derField,
  derGeneralString,
  derGeneralizedTime,
  derIa5String,
  derInteger,
  derNull,
  derOctetString,
  derOid,
  derOptionalField,
  derRaw,
  derSequence,
  derTlv,
  derUtf8String,
  encodeDer,
  integerContent,
  type DerNode,
} from './writer.ts'
export { decodeOidContent, encodeOidContent } from './oid.ts'
export { decodeDerTree, derFromTree, encodeDerTree, type DerTree, type DerTreeLimits } from './tree.ts'
export {
  GSS_INITIAL_TOKEN_TAG,
  decodeGssInitialContextToken,
  encodeGssInitialContextToken,
  isGssInitialContextToken,
  type GssInitialContextToken,
} from './gss-token.ts'
