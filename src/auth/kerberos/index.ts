/**
 * Pure-TypeScript Kerberos V5, sans-IO: the crypto layer (RFC 3961 framework, RFC 3962 and RFC 8009
 * AES enctypes, key usages), RFC 4121 GSS per-message tokens including the WinRM
 * message-encryption layout, the RFC 4120 message codecs (`messages/`), the AS and TGS exchanges
 * over an injected KDC sender (`kdc-exchange.ts`), krb5.conf, MIT ccache and keytab parsing, and
 * {@link KerberosContext}, the RFC 4121 initiator usable alone or under SPNEGO. The KDC transport
 * and the Node-wired context (`kdcSender`, `createKerberosContext`) live in `src/transport/kdc.ts`.
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
export * from './messages/index.ts'
export {
  buildKrbCred,
  isForwardable,
  krbErrorToError,
  krbtgtPrincipal,
  makeNonce,
  parseKdcReply,
  randomKeyLike,
  requestForwardedTgt,
  requestServiceTicket,
  requestTgt,
  type AsRequestOptions,
  type ClientSecret,
  type ErrorContext,
  type ExchangeEnvironment,
  type KdcReply,
  type KdcSender,
  type KerberosCredential,
  type TgsRequestOptions,
} from './kdc-exchange.ts'
export {
  kdcsOfRealm,
  mappedRealmOfHost,
  parseKdcAddress,
  parseKrb5Conf,
  realmOfHost,
  type IncludeResolver,
  type KdcAddress,
  type Krb5Config,
  type ParseKrb5ConfOptions,
  type ProfileSection,
  type ProfileValue,
} from './krb5-conf.ts'
export {
  encodeCCache,
  findCredential,
  parseCCache,
  type CCache,
  type FindCredentialOptions,
} from './ccache.ts'
export {
  expandCCacheName,
  loadCCache,
  parseCCacheName,
  resolveDirCCache,
  type CCacheIo,
  type CCacheName,
  type CCacheNameTokens,
} from './ccache-name.ts'
export {
  DEFAULT_KCM_SOCKET_PATH,
  encodeKcmRequest,
  frameKcmRequest,
  KcmOpcode,
  KcmReplyReader,
  KcmStatus,
  readKcmCCache,
  type KcmConnection,
  type ReadKcmCCacheOptions,
} from './ccache-kcm.ts'
export { findKeytabKey, parseKeytab, type KeytabEntry, type KeytabQuery } from './keytab.ts'
export { KerberosContext, type KerberosContextOptions, type KerberosState } from './context.ts'
export { KerberosTicketCache, TICKET_REUSE_MARGIN_MS } from './ticket-cache.ts'
