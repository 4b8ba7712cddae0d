/**
 * How authentication plugs into {@link WSManHttpClient}.
 *
 * WinRM authentication is *connection-oriented*: NTLM, Negotiate, Kerberos and CredSSP run several
 * `401` round trips on one TCP connection, after which the connection is authenticated and (over plain
 * HTTP) every body is sealed into `multipart/encrypted` with keys from that handshake (MS-WSMV 2.2.9.1,
 * `notes/auth.md` §1). So an {@link HttpAuthenticator} (the configured mechanism plus credentials)
 * creates one {@link AuthSession} per connection, and the client drives the session:
 *
 * ```text
 * new connection ──► auth.createSession(ctx)
 * per request:    needsHandshake()? ─yes─► empty-body POST legs until not 401 (pypsrp does this
 *                                          before encrypting, so no plaintext body is ever sent)
 *                 authorize() ─► header ─► wrap(body) ─► POST ─► 401? challenge(WWW-Authenticate) ─► …
 *                                                         └─► other status: accept(response) ─► unwrap(body)
 * connection lost: the session is dropped; the next connection gets a fresh one (re-authentication).
 * ```
 *
 * The token state machines themselves belong in `src/auth/` (sans-IO); the session adapts them.
 *
 * @module
 */
import { AuthenticationError, InvalidArgumentError } from '../../errors.ts'
import type { HttpHeaders } from './http1.ts'

/** A value or a promise of it (token generation may be asynchronous, e.g. a KDC exchange). */
export type MaybePromise<T> = T | Promise<T>

/** What an authenticator needs to know about the transport to decide whether it may be used. */
export interface AuthTransportInfo {
  /** True for HTTPS. */
  readonly tls: boolean
  /** The `allowUnencryptedBasic` client option. */
  readonly allowUnencryptedBasic: boolean
  /** True when the client has a TLS client certificate configured. */
  readonly hasClientCertificate: boolean
}

/** Facts about one freshly opened connection, given to {@link HttpAuthenticator.createSession}. */
export interface AuthConnectionContext {
  /** True for HTTPS. */
  readonly tls: boolean
  /** Target host as configured (used for SPNs such as `HTTP/host`). */
  readonly host: string
  /** Target port. */
  readonly port: number
  /**
   * DER bytes of the server's TLS certificate (HTTPS only), for channel bindings
   * (`tls-server-end-point`, RFC 5929).
   */
  readonly peerCertificate: Uint8Array | undefined
}

/** A response as seen by {@link AuthSession.accept} and {@link AuthSession.unwrap}. */
export interface AuthResponse {
  /** HTTP status. */
  readonly status: number
  /** Response headers, lower-case names. */
  readonly headers: HttpHeaders
}

/** A request body after {@link AuthSession.wrap}. */
export interface WrappedBody {
  /** Bytes to send. */
  readonly body: Uint8Array
  /** `Content-Type` to send, e.g. `multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"`. */
  readonly contentType: string
}

/**
 * The authentication state of one connection. Created by {@link HttpAuthenticator.createSession} when
 * the client opens a connection and discarded with it. Methods may throw
 * {@link AuthenticationError}; they must never put credentials or tokens in messages.
 */
export interface AuthSession {
  /**
   * The mechanism the handshake settled on when it differs by connection (`NTLM` or `Kerberos` under
   * `Negotiate`); undefined before the server chose, or for single-mechanism schemes. Recorded on the
   * `psrp.auth` trace span; never a credential.
   */
  readonly negotiatedMechanism?: string | undefined
  /**
   * True when the client must complete the handshake on an empty-body POST before sending the next
   * message (mechanisms that encrypt bodies need the keys first). Asked before every request.
   */
  needsHandshake?(): boolean
  /**
   * `Authorization` header value for the next request on this connection, or undefined to send none
   * (the connection is already authenticated, or the mechanism waits for a challenge).
   */
  authorize(): MaybePromise<string | undefined>
  /**
   * Continues the handshake after a `401`: `challenges` are the `WWW-Authenticate` header lines.
   * Returns the next `Authorization` value, or undefined when authentication has failed (the client
   * then throws {@link AuthenticationError}).
   */
  challenge(challenges: readonly string[]): MaybePromise<string | undefined>
  /**
   * Called with every final (non-`401`) response, e.g. to verify a mutual-authentication token in
   * `WWW-Authenticate` on the `200`. May throw {@link AuthenticationError}.
   */
  accept?(response: AuthResponse): MaybePromise<void>
  /** Seals a request body (or returns it unchanged with the SOAP content type). */
  wrap?(body: Uint8Array, contentType: string): MaybePromise<WrappedBody>
  /**
   * Unseals a response body when its content type is `multipart/encrypted` or
   * `multipart/x-multi-encrypted`; returns the plaintext and its content type.
   */
  unwrap?(body: Uint8Array, response: AuthResponse): MaybePromise<WrappedBody>
}

/** A TLS client certificate (PEM strings or buffers, as `tls.connect` takes them). */
export interface ClientCertificate {
  /** Certificate chain, PEM. */
  readonly cert: string | Buffer
  /** Private key, PEM. */
  readonly key: string | Buffer
  /** Passphrase of an encrypted private key. */
  readonly passphrase?: string | undefined
}

/**
 * An authentication mechanism plus its credentials, plugged into the WinRM HTTP client. It holds
 * secrets: implementations keep them in `#private` fields and never include them in errors.
 */
export interface HttpAuthenticator {
  /** Mechanism name for messages, e.g. `Basic`. */
  readonly name: string
  /** A TLS client certificate this mechanism presents (certificate authentication). */
  readonly clientCertificate?: ClientCertificate | undefined
  /**
   * Throws {@link InvalidArgumentError} when the mechanism must not be used over this transport
   * (Basic over plain HTTP, certificates without TLS). Called once by the client's constructor.
   */
  checkTransport?(info: AuthTransportInfo): void
  /** Starts the authentication state of a new connection. */
  createSession(context: AuthConnectionContext): AuthSession
}

/** WS-Management's `Authorization` value for TLS client-certificate authentication (DSP0226 §C.3.5). */
export const CERTIFICATE_AUTH_HEADER = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual'

/**
 * HTTP Basic authentication (RFC 7617): `Authorization: Basic base64(user:password)` on every request.
 *
 * The password travels in clear text unless TLS protects it and WinRM cannot encrypt Basic messages,
 * so the client refuses Basic over plain HTTP unless `allowUnencryptedBasic: true` (the server must
 * then also have `AllowUnencrypted`).
 */
export class BasicAuth implements HttpAuthenticator {
  /** `Basic`. */
  readonly name = 'Basic'
  readonly #header: string

  /**
   * @param username user name; `DOMAIN\user` and `user@domain` are passed through unchanged.
   * @param password the password (kept private, never printed).
   */
  constructor(username: string, password: string) {
    if (username.includes(':')) throw new InvalidArgumentError('a Basic user name must not contain ":"')
    this.#header = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
  }

  /** Refuses plain HTTP unless explicitly allowed. */
  checkTransport(info: AuthTransportInfo): void {
    if (!info.tls && !info.allowUnencryptedBasic) {
      throw new InvalidArgumentError(
        'Basic authentication over plain HTTP would send the password and all messages unencrypted; ' +
          'use HTTPS, or set allowUnencryptedBasic: true (the server also needs AllowUnencrypted)',
      )
    }
  }

  /** One stateless session: the header goes on every request; a 401 means the credentials were rejected. */
  createSession(): AuthSession {
    const header = this.#header
    return {
      authorize: () => header,
      challenge: () => undefined,
    }
  }

  /** Never reveals the credentials. */
  toJSON(): { name: string } {
    return { name: this.name }
  }
}

/**
 * WS-Management certificate authentication: a TLS client certificate plus the
 * WS-Management `…/secprofile/https/mutual` `Authorization` value (pypsrp/pywinrm send the same). HTTPS only.
 * The certificate may be given here or as the client's `certificate` option.
 */
export class CertificateAuth implements HttpAuthenticator {
  /** `Certificate`. */
  readonly name = 'Certificate'
  readonly #certificate: ClientCertificate | undefined

  /** @param certificate the client certificate and key; default: the client's `certificate` option. */
  constructor(certificate?: ClientCertificate) {
    this.#certificate = certificate
  }

  /** The client certificate given to the constructor, if any. */
  get clientCertificate(): ClientCertificate | undefined {
    return this.#certificate
  }

  /** Requires HTTPS and a client certificate. */
  checkTransport(info: AuthTransportInfo): void {
    if (!info.tls) throw new InvalidArgumentError('certificate authentication requires HTTPS')
    if (!info.hasClientCertificate) {
      throw new InvalidArgumentError('certificate authentication requires a client certificate and key')
    }
  }

  /** The header goes on every request; a 401 means the certificate was not mapped to a user. */
  createSession(): AuthSession {
    return {
      authorize: () => CERTIFICATE_AUTH_HEADER,
      challenge: () => undefined,
    }
  }

  /** Never reveals the key. */
  toJSON(): { name: string } {
    return { name: this.name }
  }
}

/** Builds the {@link AuthenticationError} for a rejected handshake (no secrets: mechanism and schemes only). */
export function authenticationFailed(
  mechanism: string,
  where: string,
  challenges: readonly string[],
): AuthenticationError {
  const offered = [
    ...new Set(challenges.flatMap((c) => c.split(',')).map((c) => c.trim().split(/\s+/, 1)[0] ?? '')),
  ].filter((s) => /^[A-Za-z][\w-]*$/.test(s))
  const tail = offered.length > 0 ? `; the server offers: ${offered.join(', ')}` : ''
  return new AuthenticationError(`${where} rejected ${mechanism} authentication (HTTP 401)${tail}`)
}
