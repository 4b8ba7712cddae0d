/**
 * WS-Management over HTTP(S): {@link WSManHttpClient} and the authentication plug-in interface.
 *
 * @module
 */
export { WSManHttpClient, SOAP_CONTENT_TYPE, WSMAN_HTTP_PORT, WSMAN_HTTPS_PORT } from './soap-client.ts'
export type { WSManHttpClientOptions, HttpPostOptions, HttpPostResponse, HttpLane } from './soap-client.ts'
export { BasicAuth, CertificateAuth, CERTIFICATE_AUTH_HEADER } from './auth.ts'
export type {
  HttpAuthenticator,
  AuthSession,
  AuthConnectionContext,
  AuthTransportInfo,
  AuthResponse,
  WrappedBody,
  ClientCertificate,
  MaybePromise,
} from './auth.ts'
export type { HttpHeaders } from './http1.ts'
export type { RetryOptions } from './retry.ts'
export { matchesNoProxy } from './proxy.ts'
