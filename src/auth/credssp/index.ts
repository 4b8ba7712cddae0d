/**
 * CredSSP (MS-CSSP) for WinRM, client side: a TLS tunnel (TLS 1.2/1.3 handshake by `node:tls`
 * over an in-memory stream — no socket, so not network I/O; records after the handshake protected
 * by our own sans-IO record layer), the TSRequest / TSCredentials codecs, the public-key binding
 * (versions 2–6, CVE-2018-0886 nonce from v5), and {@link CredSspContext}, the
 * `SecurityContext` that `SecurityContextAuth({ scheme: 'CredSSP' })` drives over HTTP.
 *
 * ```ts
 * const auth = new SecurityContextAuth({
 *   scheme: 'CredSSP',
 *   createContext: () => new CredSspContext({ username: 'DOMAIN\\user', password }),
 * })
 * ```
 *
 * The inner authentication defaults to raw NTLM ({@link ntlmInner}); pass `inner` for SPNEGO
 * ({@link spnegoNtlmInner}) or another mechanism (a {@link CredSspInnerContext}, with `wrapGss`/
 * `unwrapGss`; `KerberosContext` has them, as plain RFC 4121 Wrap tokens).
 *
 * SPNEGO over NTLM needs per-direction RC4 resets after the mechListMIC exchange (pyspnego
 * `_reset_ntlm_crypto_state(outgoing)`): CredSSP seals pubKeyAuth after sending its own mechListMIC
 * but before verifying the server's, so resetting both handles on verification desynchronises the
 * outgoing stream and the server cannot open authInfo.
 *
 * @module
 */
export {
  CredSspContext,
  ntlmInner,
  spnegoNtlmInner,
  type CredSspInnerCredentials,
  type CredSspContextOptions,
  type CredSspInnerContext,
  type CredSspState,
} from './context.ts'
export {
  CLIENT_NONCE_LENGTH,
  CREDSSP_VERSION,
  decodeTsRequest,
  encodeTsRequest,
  type TsRequest,
} from './ts-request.ts'
export {
  CredType,
  decodeTsCredentials,
  decodeTsPasswordCreds,
  encodePasswordCredentials,
  encodeTsCredentials,
  encodeTsPasswordCreds,
  type TsCredentials,
  type TsPasswordCreds,
} from './ts-credentials.ts'
export {
  NONCE_MIN_VERSION,
  clientPubKeyAuthValue,
  serverPubKeyAuthValue,
  subjectPublicKey,
} from './public-key.ts'
export { NtStatus, describeNtStatus, isCredentialsRefused } from './ntstatus.ts'
export {
  TlsTunnel,
  TUNNEL_CIPHERS,
  type TlsEstablished,
  type TlsTunnelOptions,
  type TlsTunnelState,
} from './tls-tunnel.ts'
export {
  ContentType,
  MAX_RECORD_PLAINTEXT,
  TlsRecordLayer,
  serverRandomFromFlight,
  splitTlsRecords,
  tlsTrailerLength,
  type TlsRecord,
} from './tls-record.ts'
export {
  aeadSuite,
  hkdfExpand,
  hkdfExpandLabel,
  tls12Prf,
  tls12TrafficKeys,
  tls13TrafficKeys,
  type TlsAeadSuite,
  type TlsDirectionKeys,
  type TlsVersion,
} from './tls-keys.ts'
