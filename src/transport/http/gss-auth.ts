/**
 * HTTP glue for connection-oriented mechanisms (Negotiate/SPNEGO, NTLM, Kerberos, CredSSP): runs a
 * sans-IO {@link SecurityContext} through the `401` handshake of {@link WSManHttpClient} and, when
 * message encryption is on, seals request bodies and unseals responses with the WinRM
 * `multipart/encrypted` framing (MS-WSMV 2.2.9.1; `src/auth/winrm-encryption.ts`).
 *
 * ```text
 * empty POST   Authorization: Negotiate <step()>            ─► 401 WWW-Authenticate: Negotiate <t1>
 * empty POST   Authorization: Negotiate <step(t1)>          ─► 200 [WWW-Authenticate: Negotiate <t2>] → step(t2)
 * SOAP POST    multipart/encrypted (context.wrap)           ─► 200 multipart/encrypted (context.unwrap)
 * ```
 *
 * The empty-body handshake happens only when bodies are encrypted (as pypsrp does), so no plaintext
 * body is ever sent; otherwise the body rides along on every leg.
 *
 * @module
 */
import type { SecurityContext } from '../../auth/security-context.ts'
import {
  CREDSSP_CHUNK_SIZE,
  CREDSSP_ENCRYPTED,
  decryptWinRMBody,
  encryptWinRMBody,
  KERBEROS_ENCRYPTED,
  SPNEGO_ENCRYPTED,
  type WinRMEncryptionProtocol,
} from '../../auth/winrm-encryption.ts'
import { AuthenticationError, InvalidArgumentError, InvalidStateError, ProtocolError } from '../../errors.ts'
import type {
  AuthConnectionContext,
  AuthResponse,
  AuthSession,
  AuthTransportInfo,
  HttpAuthenticator,
  WrappedBody,
} from './auth.ts'
import { headerValue, headerValues } from './http1.ts'

/** The HTTP authentication scheme names WinRM uses in `Authorization` / `WWW-Authenticate`. */
export type GssHttpScheme = 'Negotiate' | 'Kerberos' | 'CredSSP' | 'NTLM'

/**
 * When to encrypt message bodies: `auto` over plain HTTP only (TLS already protects HTTPS),
 * `always` over both, `never` (plain HTTP then needs the connection's `allowUnencrypted`).
 */
export type MessageEncryption = 'auto' | 'always' | 'never'

/** Options of {@link SecurityContextAuth}. */
export interface SecurityContextAuthOptions {
  /** The HTTP auth scheme sent in `Authorization` and looked for in `WWW-Authenticate`. */
  readonly scheme: GssHttpScheme
  /**
   * Creates the security context of one connection (called again when a connection is replaced, or
   * when a handshake interrupted by a non-401 error response is restarted). It holds the credentials;
   * nothing here ever prints them.
   */
  readonly createContext: (context: AuthConnectionContext) => SecurityContext
  /** Message encryption; default `auto`. */
  readonly encryption?: MessageEncryption | undefined
  /**
   * Allow `encryption: 'never'` over plain HTTP, i.e. SOAP messages in clear text (the server must
   * also have `AllowUnencrypted`); default `false`.
   */
  readonly allowUnencrypted?: boolean | undefined
}

const SCHEMES: readonly GssHttpScheme[] = ['Negotiate', 'Kerberos', 'CredSSP', 'NTLM']
const ENCRYPTIONS: readonly MessageEncryption[] = ['auto', 'always', 'never']

/** The session-encryption protocol a scheme uses (pypsrp `wsman.py`, notes/auth.md §1.1). */
export function encryptionProtocolFor(scheme: GssHttpScheme): WinRMEncryptionProtocol {
  switch (scheme) {
    case 'CredSSP':
      return CREDSSP_ENCRYPTED
    case 'Kerberos':
      return KERBEROS_ENCRYPTED
    case 'Negotiate':
    case 'NTLM':
      return SPNEGO_ENCRYPTED
  }
}

/**
 * Finds the token the server sent for `scheme` in `WWW-Authenticate` header lines: `undefined` when
 * the scheme is absent, `null` when it is present without a token (a bare `Negotiate` challenge),
 * the decoded bytes otherwise. Lines may hold several comma-separated challenges; scheme names match
 * case-insensitively; auth-params (`realm="…"`) count as no token. A malformed token is a
 * {@link ProtocolError}.
 */
export function findSchemeToken(lines: readonly string[], scheme: string): Uint8Array | null | undefined {
  let bare = false
  const wanted = scheme.toLowerCase()
  for (const line of lines) {
    for (const challenge of line.split(',')) {
      const m = /^\s*([A-Za-z][\w-]*)(?:\s+(\S+))?\s*$/.exec(challenge)
      if (m === null || (m[1] ?? '').toLowerCase() !== wanted) continue
      const token = m[2]
      if (token === undefined) {
        bare = true
        continue
      }
      if (/^[A-Za-z][\w-]*=(?!=*$)/.test(token)) {
        bare = true // an auth-param such as realm="…", not a token
        continue
      }
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token) || token.replace(/=+$/, '').length % 4 === 1) {
        throw new ProtocolError(`the server sent a malformed ${scheme} token (not base64)`)
      }
      return new Uint8Array(Buffer.from(token, 'base64'))
    }
  }
  return bare ? null : undefined
}

/**
 * An {@link HttpAuthenticator} for NTLM, Negotiate, Kerberos and CredSSP built on a sans-IO
 * {@link SecurityContext} (one per connection), with WinRM message encryption.
 *
 * ```ts
 * const auth = new SecurityContextAuth({
 *   scheme: 'Negotiate',
 *   createContext: (ctx) => createNtlmContext({ username, password, channelBindings: ctx.peerCertificate }),
 * })
 * const http = new WSManHttpClient({ server: 'win1', ssl: false, auth })   // bodies encrypted
 * ```
 *
 * Encryption protocol by scheme: `Negotiate`/`NTLM` → `application/HTTP-SPNEGO-session-encrypted`,
 * `Kerberos` → `application/HTTP-Kerberos-session-encrypted`, `CredSSP` →
 * `application/HTTP-CredSSP-session-encrypted` in 16 KiB parts (`multipart/x-multi-encrypted`).
 */
export class SecurityContextAuth implements HttpAuthenticator {
  /** The scheme name, for messages. */
  readonly name: GssHttpScheme
  /** The scheme used in headers. */
  readonly scheme: GssHttpScheme
  /** The configured encryption policy. */
  readonly encryption: MessageEncryption
  /** The session-encryption protocol of the scheme. */
  readonly protocol: WinRMEncryptionProtocol
  readonly #createContext: (context: AuthConnectionContext) => SecurityContext
  readonly #allowUnencrypted: boolean

  /** Validates the options; throws {@link InvalidArgumentError} for unknown values. */
  constructor(options: SecurityContextAuthOptions) {
    if (!SCHEMES.includes(options.scheme)) {
      throw new InvalidArgumentError(`scheme must be one of ${SCHEMES.join(', ')}`)
    }
    const encryption = options.encryption ?? 'auto'
    if (!ENCRYPTIONS.includes(encryption)) {
      throw new InvalidArgumentError(`encryption must be one of ${ENCRYPTIONS.join(', ')}`)
    }
    if (typeof options.createContext !== 'function') {
      throw new InvalidArgumentError('createContext must be a function')
    }
    this.name = options.scheme
    this.scheme = options.scheme
    this.encryption = encryption
    this.protocol = encryptionProtocolFor(options.scheme)
    this.#createContext = options.createContext
    this.#allowUnencrypted = options.allowUnencrypted ?? false
  }

  /** Refuses `encryption: 'never'` over plain HTTP unless `allowUnencrypted` is set. */
  checkTransport(info: AuthTransportInfo): void {
    if (!info.tls && this.encryption === 'never' && !this.#allowUnencrypted) {
      throw new InvalidArgumentError(
        `${this.scheme} authentication over plain HTTP with encryption 'never' would send every message ` +
          `unencrypted; use encryption 'auto' (the default) or HTTPS, or set allowUnencrypted: true ` +
          `(the server also needs AllowUnencrypted)`,
      )
    }
  }

  /** A fresh handshake state for a new connection. */
  createSession(context: AuthConnectionContext): AuthSession {
    const encrypt = this.encryption === 'always' || (this.encryption === 'auto' && !context.tls)
    return new SecurityContextSession(this, context, () => this.#createContext(context), encrypt)
  }

  /** Never reveals credentials. */
  toJSON(): { name: string; encryption: MessageEncryption } {
    return { name: this.name, encryption: this.encryption }
  }
}

type State = 'start' | 'negotiating' | 'done'

/** The per-connection session of {@link SecurityContextAuth}. */
class SecurityContextSession implements AuthSession {
  readonly #auth: SecurityContextAuth
  readonly #where: string
  readonly #newContext: () => SecurityContext
  readonly #encrypt: boolean
  readonly #tls: boolean
  #ctx: SecurityContext | undefined
  #state: State = 'start'
  /** Tokens sent in the current handshake. */
  #legs = 0

  constructor(
    auth: SecurityContextAuth,
    connection: AuthConnectionContext,
    newContext: () => SecurityContext,
    encrypt: boolean,
  ) {
    this.#auth = auth
    const host = connection.host.includes(':') ? `[${connection.host}]` : connection.host
    this.#where = `${connection.tls ? 'https' : 'http'}://${host}:${connection.port}`
    this.#tls = connection.tls
    this.#newContext = newContext
    this.#encrypt = encrypt
  }

  /** The context's mechanism (`NTLM`, `Kerberos`) once it is no longer the scheme itself. */
  get negotiatedMechanism(): string | undefined {
    const mech = this.#ctx?.mechanism
    return mech === undefined || mech === this.#auth.scheme ? undefined : mech
  }

  /** `Negotiate` or `Negotiate (NTLM)` when the context negotiated a specific mechanism. */
  #mechanism(): string {
    const scheme = this.#auth.scheme
    const mech = this.#ctx?.mechanism
    return mech === undefined || mech === scheme ? scheme : `${scheme} (${mech})`
  }

  /** Why SPNEGO left out a preferred mechanism (why Kerberos was not used), if it did. */
  #skippedNote(): string {
    const skipped = this.#ctx?.skippedMechanisms ?? []
    return skipped.length === 0 ? '' : ` (not tried: ${skipped.join('; ')})`
  }

  #header(token: Uint8Array): string {
    return `${this.#auth.scheme} ${Buffer.from(token).toString('base64')}`
  }

  /** True until the context is established, when bodies are encrypted (the handshake then runs on empty POSTs). */
  needsHandshake(): boolean {
    return this.#encrypt && this.#state !== 'done'
  }

  /** The first leg's `Authorization` (a fresh context's first token); undefined once authenticated. */
  async authorize(): Promise<string | undefined> {
    if (this.#state === 'done') return undefined
    // 'negotiating' here means the last handshake ended in a non-401 error response: start over
    this.#ctx = this.#newContext()
    this.#state = 'start'
    const token = await this.#ctx.step()
    if (token === undefined || token.length === 0) {
      throw new AuthenticationError(`${this.#mechanism()} produced no initial token`)
    }
    this.#state = 'negotiating'
    this.#legs = 1
    return this.#header(token)
  }

  /**
   * Feeds the server's `401` token to the context and returns the next `Authorization`; throws
   * {@link AuthenticationError} when the server rejects the handshake (no secrets in the message).
   */
  async challenge(challenges: readonly string[]): Promise<string | undefined> {
    const scheme = this.#auth.scheme
    if (this.#state === 'done') {
      throw new AuthenticationError(
        `${this.#where} answered 401 on a connection already authenticated with ${this.#mechanism()} ` +
          '(the server rejected the session or its message encryption)',
      )
    }
    const ctx = this.#ctx
    if (this.#state !== 'negotiating' || ctx === undefined) return undefined
    const token = findSchemeToken(challenges, scheme)
    if (token === undefined) {
      const offered = offeredSchemes(challenges)
      throw new AuthenticationError(
        `${this.#where} did not offer ${scheme} authentication (HTTP 401)` +
          (offered.length > 0 ? `; the server offers: ${offered.join(', ')}` : ''),
      )
    }
    if (token === null || ctx.complete) {
      // a bare challenge after our token(s), or a 401 once the context considers itself done
      throw new AuthenticationError(
        `${this.#where} rejected ${this.#mechanism()} authentication (HTTP 401 after handshake leg ` +
          `${this.#legs}): wrong credentials, or the account may not use this endpoint` +
          (this.#tls ? ', or the channel bindings (CBT) did not match' : '') +
          this.#skippedNote(),
      )
    }
    const next = await ctx.step(token)
    if (next === undefined || next.length === 0) {
      throw new AuthenticationError(
        `${this.#mechanism()} has nothing more to send but ${this.#where} still answers 401`,
      )
    }
    this.#legs++
    return this.#header(next)
  }

  /**
   * Completes the handshake with the final (mutual-authentication) token of a non-401 response, and
   * refuses clear-text replies on an encrypting connection.
   */
  async accept(response: AuthResponse): Promise<void> {
    const ctx = this.#ctx
    if (this.#state === 'done') {
      this.#refuseDowngrade(response)
      return
    }
    if (this.#state !== 'negotiating' || ctx === undefined) return
    const token = findSchemeToken(headerValues(response.headers, 'www-authenticate'), this.#auth.scheme)
    if (token instanceof Uint8Array && !ctx.complete) {
      const extra = await ctx.step(token)
      if (extra !== undefined && extra.length > 0) {
        throw new AuthenticationError(
          `${this.#mechanism()} wants another round trip after ${this.#where} accepted the handshake`,
        )
      }
    }
    if (ctx.complete) {
      this.#state = 'done'
      return
    }
    if (response.status >= 200 && response.status < 300) {
      throw new AuthenticationError(
        `${this.#where} accepted the ${this.#mechanism()} handshake but did not complete mutual ` +
          'authentication (no final token)',
      )
    }
    // another error (e.g. 5xx from a proxy): the next request restarts the handshake
  }

  /**
   * On an encrypting connection a successful SOAP reply must be encrypted too: a clear-text `200`
   * could have been injected by anyone on the path. (Error pages of HTTP.sys or a proxy with other
   * statuses pass; they carry no WS-Man data.)
   */
  #refuseDowngrade(response: AuthResponse): void {
    if (!this.#encrypt || response.status !== 200) return
    const type = headerValue(response.headers, 'content-type')
    if (type === undefined || headerValue(response.headers, 'content-length') === '0') return
    if (/^multipart\/(x-multi-)?encrypted\s*;/i.test(type)) return
    throw new ProtocolError(
      `${this.#where} sent an unencrypted reply on a connection with ${this.#mechanism()} message encryption`,
    )
  }

  /** Seals a request body when encrypting (never sends it in clear text before the handshake). */
  wrap(body: Uint8Array, contentType: string): WrappedBody {
    if (!this.#encrypt) return { body, contentType }
    const ctx = this.#ctx
    if (this.#state !== 'done' || ctx === undefined) {
      // never send a body in clear text when encryption is required
      throw new InvalidStateError('encrypt a message', 'unauthenticated')
    }
    const chunkSize = this.#auth.scheme === 'CredSSP' ? CREDSSP_CHUNK_SIZE : undefined
    const out = encryptWinRMBody(body, (chunk) => ctx.wrap(chunk), this.#auth.protocol, {
      chunkSize,
      originalContentType: contentType,
    })
    return { body: out.body, contentType: out.contentType }
  }

  /** Unseals an encrypted response body with the established context. */
  unwrap(body: Uint8Array, response: AuthResponse): WrappedBody {
    const ctx = this.#ctx
    if (this.#state !== 'done' || ctx === undefined) {
      throw new ProtocolError(`${this.#where} sent an encrypted body before authentication completed`)
    }
    const contentType = headerValue(response.headers, 'content-type') ?? ''
    const out = decryptWinRMBody(body, contentType, (m) => ctx.unwrap(m), this.#auth.protocol)
    return { body: out.plaintext, contentType: out.contentType }
  }
}

/** Scheme names in `WWW-Authenticate` lines (no parameters or tokens). */
function offeredSchemes(challenges: readonly string[]): string[] {
  const names = challenges
    .flatMap((c) => c.split(','))
    .map((c) => /^\s*([A-Za-z][\w-]*)(?:\s|$)/.exec(c)?.[1])
    .filter((s): s is string => s !== undefined)
  return [...new Set(names)]
}
