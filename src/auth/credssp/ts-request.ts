/**
 * The CredSSP message (MS-CSSP 2.2.1 TSRequest, 2.2.1.1 NegoData): every leg of the CredSSP
 * exchange after the TLS handshake is one DER-encoded TSRequest, carried inside the TLS tunnel.
 *
 * ```text
 * TSRequest ::= SEQUENCE {
 *   version     [0] INTEGER,
 *   negoTokens  [1] NegoData     OPTIONAL,
 *   authInfo    [2] OCTET STRING OPTIONAL,   -- GSS-wrapped TSCredentials
 *   pubKeyAuth  [3] OCTET STRING OPTIONAL,   -- GSS-wrapped public key (or its hash, v5+)
 *   errorCode   [4] INTEGER      OPTIONAL,   -- NTSTATUS, v3+
 *   clientNonce [5] OCTET STRING OPTIONAL }  -- 32 bytes, v5+
 * NegoData ::= SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }
 * ```
 *
 * Decoding is strict DER (`src/auth/asn1`); anything malformed is a `ProtocolError`.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import {
  DerReader,
  derField,
  derInteger,
  derOctetString,
  derOptionalField,
  derSequence,
  encodeDer,
} from '../asn1/index.ts'

/** The highest CredSSP version this implementation speaks (MS-CSSP 2.2.1: 6 since the CVE-2018-0886 fix). */
export const CREDSSP_VERSION = 6

/** Length of `clientNonce` (MS-CSSP 2.2.1: "a 32-byte array of cryptographically random bytes"). */
export const CLIENT_NONCE_LENGTH = 32

/** One TSRequest (MS-CSSP 2.2.1). Byte fields are views into the decoded input. */
export interface TsRequest {
  /** The sender's CredSSP version (1–6 in practice). */
  readonly version: number
  /** NegoData: the inner SPNEGO/NTLM/Kerberos tokens (MS-CSSP 2.2.1.1), in order. */
  readonly negoTokens?: readonly Uint8Array[] | undefined
  /** The GSS-wrapped TSCredentials (MS-CSSP 2.2.1.2). */
  readonly authInfo?: Uint8Array | undefined
  /** The GSS-wrapped public key value (MS-CSSP 3.1.5). */
  readonly pubKeyAuth?: Uint8Array | undefined
  /** NTSTATUS the server reports on failure (v3+), as an unsigned 32-bit number. */
  readonly errorCode?: number | undefined
  /** The client's nonce (v5+, 32 bytes). */
  readonly clientNonce?: Uint8Array | undefined
}

const WHAT = 'CredSSP TSRequest'

/**
 * Encodes a TSRequest. `errorCode` is written as a signed 32-bit INTEGER, as Windows does
 * (0xC000006D becomes `02 04 c0 00 00 6d`).
 */
export function encodeTsRequest(request: TsRequest): Uint8Array {
  const { version, negoTokens, errorCode, clientNonce } = request
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new ProtocolError(`${WHAT}: invalid version ${String(version)}`, { side: 'local' })
  }
  if (errorCode !== undefined && (!Number.isInteger(errorCode) || errorCode < 0 || errorCode > 0xffffffff)) {
    throw new ProtocolError(`${WHAT}: errorCode must be an unsigned 32-bit NTSTATUS`, { side: 'local' })
  }
  if (negoTokens !== undefined && negoTokens.length === 0) {
    throw new ProtocolError(`${WHAT}: negoTokens must not be empty when present`, { side: 'local' })
  }
  const nego =
    negoTokens === undefined
      ? undefined
      : derSequence(negoTokens.map((t) => derSequence([derField(0, derOctetString(t))])))
  return encodeDer(
    derSequence([
      derField(0, derInteger(version)),
      derOptionalField(1, nego),
      derOptionalField(2, request.authInfo === undefined ? undefined : derOctetString(request.authInfo)),
      derOptionalField(3, request.pubKeyAuth === undefined ? undefined : derOctetString(request.pubKeyAuth)),
      derOptionalField(4, errorCode === undefined ? undefined : derInteger(errorCode | 0)),
      derOptionalField(5, clientNonce === undefined ? undefined : derOctetString(clientNonce)),
    ]),
  )
}

/** Decodes a TSRequest; `ProtocolError` for anything that is not exactly one valid DER TSRequest. */
export function decodeTsRequest(bytes: Uint8Array): TsRequest {
  const top = new DerReader(bytes, WHAT)
  const seq = top.sequence()
  top.end()
  const version = seq.field(0, (r) => r.smallInteger())
  if (version < 0 || version > 0x7fffffff) seq.fail(`invalid version ${version}`)
  const negoTokens = seq.optionalField(1, (r) =>
    r.sequenceOf((item) => {
      const entry = item.sequence()
      const token = entry.field(0, (t) => t.octetString())
      entry.end()
      return token
    }),
  )
  if (negoTokens !== undefined && negoTokens.length === 0) seq.fail('empty NegoData')
  const authInfo = seq.optionalField(2, (r) => r.octetString())
  const pubKeyAuth = seq.optionalField(3, (r) => r.octetString())
  const rawError = seq.optionalField(4, (r) => r.integer(5)) // 5 bytes hold 0xFFFFFFFF
  let errorCode: number | undefined
  if (rawError !== undefined) {
    if (rawError < -0x80000000n || rawError > 0xffffffffn) seq.fail('errorCode is not a 32-bit NTSTATUS')
    errorCode = Number(BigInt.asUintN(32, rawError))
  }
  const clientNonce = seq.optionalField(5, (r) => r.octetString())
  seq.end()
  return {
    version,
    ...(negoTokens === undefined ? {} : { negoTokens }),
    ...(authInfo === undefined ? {} : { authInfo }),
    ...(pubKeyAuth === undefined ? {} : { pubKeyAuth }),
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(clientNonce === undefined ? {} : { clientNonce }),
  }
}
