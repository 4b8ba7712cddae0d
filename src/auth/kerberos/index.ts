/**
 * Pure-TypeScript Kerberos, sans-IO. For now: the crypto layer (RFC 3961 framework, RFC 3962 and
 * RFC 8009 AES enctypes, key usages) and RFC 4121 GSS per-message tokens including the WinRM
 * message-encryption layout. The AS/TGS/AP exchanges and the security context come later.
 *
 * @module
 */
export * from './crypto/index.ts'
export {
  encodeWrapHeader,
  getMic,
  parseMicHeader,
  parseWrapHeader,
  rotateLeft,
  rotateRight,
  TOKEN_HEADER_SIZE,
  TOK_ID_MIC,
  TOK_ID_WRAP,
  TokenFlags,
  unwrap,
  unwrapWinRM,
  verifyMic,
  wrap,
  wrapWinRM,
  type MicOptions,
  type MicTokenHeader,
  type UnwrapOptions,
  type UnwrapResult,
  type VerifyMicOptions,
  type WinRMUnwrapOptions,
  type WinRMWrapOptions,
  type WrapOptions,
  type WrapTokenHeader,
} from './wrap-token.ts'
