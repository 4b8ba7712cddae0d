/**
 * The CredSSP initiator (MS-CSSP 3.1.5) as a {@link SecurityContext}, for WinRM's HTTP
 * `Authorization: CredSSP` scheme and `application/HTTP-CredSSP-session-encrypted` messages.
 *
 * ```text
 * step()        → ClientHello                       TLS handshake legs (tls-tunnel.ts), raw
 * step(flight)  → client flight [, Finished]
 * step(…)       → TLS{ TSRequest{v6, negoTokens:[SPNEGO token]} }         inner authentication
 * step(…)       → TLS{ TSRequest{v6, negoTokens:[final token]?, pubKeyAuth, clientNonce (v5+)} }
 * step(…)       → TLS{ TSRequest{v6, authInfo: wrap(TSCredentials)} }    complete
 * wrap/unwrap   = one TLS application-data record, split at the trailer length
 * ```
 *
 * The server's pubKeyAuth must match the TLS certificate's key (a man-in-the-middle with another
 * certificate is refused before the password leaves the client). A server `errorCode` becomes an
 * {@link AuthenticationError} naming the NTSTATUS. The password travels only inside authInfo,
 * sealed by both the inner context and TLS; it never appears in errors, `util.inspect` or JSON.
 *
 * @module
 */
import {
  AuthenticationError,
  CryptoError,
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  PsrpError,
} from '../../errors.ts'
import { bytesEqual } from '../../internal/bytes.ts'
import { NtlmContext, splitUsername } from '../ntlm/context.ts'
import type { SealedMessage, SecurityContext } from '../security-context.ts'
import { NegotiateContext } from '../spnego/context.ts'
import { NTLM_OID } from '../spnego/oids.ts'
import { describeNtStatus, isCredentialsRefused } from './ntstatus.ts'
import {
  clientPubKeyAuthValue,
  NONCE_MIN_VERSION,
  serverPubKeyAuthValue,
  subjectPublicKey,
} from './public-key.ts'
import { encodePasswordCredentials } from './ts-credentials.ts'
import {
  CLIENT_NONCE_LENGTH,
  CREDSSP_VERSION,
  decodeTsRequest,
  encodeTsRequest,
  type TsRequest,
} from './ts-request.ts'
import type { TlsVersion } from './tls-keys.ts'
import { MAX_RECORD_PLAINTEXT, type TlsRecordLayer } from './tls-record.ts'
import { TlsTunnel } from './tls-tunnel.ts'

/**
 * The inner security context of CredSSP: a {@link SecurityContext} (SPNEGO, NTLM or Kerberos) plus
 * plain GSS per-message protection (RFC 2743 §2.3.3 GSS_Wrap/GSS_Unwrap, one token) for pubKeyAuth
 * and authInfo: `NtlmContext` (signature ‖ sealed data), `KerberosContext` (an RFC 4121 Wrap token
 * with RRC 0) and `NegotiateContext` (the chosen mechanism's) all have it.
 */
export interface CredSspInnerContext extends SecurityContext {
  /** GSS_Wrap with confidentiality: the whole token. */
  wrapGss(plaintext: Uint8Array): Uint8Array
  /** GSS_Unwrap of a whole token; throws (`CryptoError`) when it does not verify. */
  unwrapGss(token: Uint8Array): Uint8Array
}

/** Options of {@link CredSspContext}. */
export interface CredSspContextOptions {
  /** `user`, `DOMAIN\user` or `user@domain.tld` (a UPN goes whole into userName, empty domain). */
  readonly username: string
  /** The password delegated to the server. */
  readonly password: string
  /** The domain when `username` has no `DOMAIN\` prefix. */
  readonly domain?: string | undefined
  /**
   * Creates the inner context (called once per CredSSP context). Default: NTLM with the same
   * credentials ({@link ntlmInner}); {@link spnegoNtlmInner} wraps it in SPNEGO.
   */
  readonly inner?: (() => CredSspInnerContext) | undefined
  /** Lowest CredSSP version accepted from the server (2–6, default 2; 5+ requires the CVE-2018-0886 fix). */
  readonly minVersion?: number | undefined
  /** Lowest TLS version (default `TLSv1.2`). */
  readonly tlsMinVersion?: TlsVersion | undefined
  /** Highest TLS version (default `TLSv1.3`). */
  readonly tlsMaxVersion?: TlsVersion | undefined
  /** Random bytes (the client nonce); defaults to `crypto.getRandomValues`. */
  readonly random?: ((n: number) => Uint8Array) | undefined
}

/** Where a {@link CredSspContext} is. */
export type CredSspState =
  'initial' | 'tls' | 'tls-finished' | 'negotiating' | 'pub-key-auth' | 'complete' | 'failed'

const INSPECT = Symbol.for('nodejs.util.inspect.custom')
const NTLM_AUTHENTICATE = Uint8Array.of(
  0x4e,
  0x54,
  0x4c,
  0x4d,
  0x53,
  0x53,
  0x50,
  0x00,
  0x03,
  0x00,
  0x00,
  0x00,
)

function defaultRandom(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n))
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer
    return true
  }
  return false
}

/** Credentials for the inner-context factories. */
export interface CredSspInnerCredentials {
  /** `user`, `DOMAIN\user` or a UPN, as for {@link NtlmContext}. */
  readonly username: string
  /** The password. */
  readonly password: string
  /** The domain when `username` has no `DOMAIN\` prefix. */
  readonly domain?: string | undefined
}

/**
 * The default inner context: raw NTLM (`NtlmContext`, MS-NLMP) with the given credentials. Windows
 * and MIT/gss-ntlmssp acceptors take raw NTLMSSP tokens in negoTokens, and NTLM without SPNEGO
 * has no mechListMIC, so no RC4 reset happens between pubKeyAuth and authInfo.
 */
export function ntlmInner(options: CredSspInnerCredentials): () => CredSspInnerContext {
  const { username, password, domain } = options
  return () => new NtlmContext({ username, password, ...(domain === undefined ? {} : { domain }) })
}

/**
 * SPNEGO (`NegotiateContext`) offering NTLM, as pyspnego sends it. NTLM under SPNEGO exchanges
 * mechListMICs, after which each RC4 handle must be reset in its own direction only (after signing:
 * outgoing; after verifying: incoming), because CredSSP seals pubKeyAuth between the two; see the
 * CredSSP notes in the module documentation of `index.ts`.
 */
export function spnegoNtlmInner(options: CredSspInnerCredentials): () => CredSspInnerContext {
  const { username, password, domain } = options
  return () =>
    new NegotiateContext({
      mechanisms: [
        {
          oid: NTLM_OID,
          create: () => new NtlmContext({ username, password, ...(domain === undefined ? {} : { domain }) }),
        },
      ],
    })
}

/** A CredSSP client security context (one per HTTP connection). */
export class CredSspContext implements SecurityContext {
  /** Always `CredSSP`. */
  readonly mechanism = 'CredSSP' as const
  /** userName as delegated. */
  readonly user: string
  /** domainName as delegated (empty for a UPN). */
  readonly domain: string
  #password: string
  readonly #newInner: () => CredSspInnerContext
  readonly #minVersion: number
  readonly #random: (n: number) => Uint8Array
  readonly #tunnel: TlsTunnel
  #state: CredSspState = 'initial'
  #records: TlsRecordLayer | undefined
  #publicKey: Uint8Array | undefined
  #inner: CredSspInnerContext | undefined
  #serverVersion: number | undefined
  #nonce: Uint8Array | undefined

  constructor(options: CredSspContextOptions) {
    if (typeof options.username !== 'string' || options.username === '') {
      throw new InvalidArgumentError('CredSSP needs a username')
    }
    if (typeof options.password !== 'string') throw new InvalidArgumentError('CredSSP needs a password')
    const min = options.minVersion ?? 2
    if (!Number.isInteger(min) || min < 2 || min > CREDSSP_VERSION) {
      throw new InvalidArgumentError(`CredSSP minVersion must be 2–${CREDSSP_VERSION}`)
    }
    const { user, domain } = splitUsername(options.username, options.domain)
    this.user = user
    this.domain = domain
    this.#password = options.password
    this.#newInner =
      options.inner ??
      ntlmInner({ username: options.username, password: options.password, domain: options.domain })
    this.#minVersion = min
    this.#random = options.random ?? defaultRandom
    this.#tunnel = new TlsTunnel({ minVersion: options.tlsMinVersion, maxVersion: options.tlsMaxVersion })
  }

  /** True once authInfo (the delegated credentials) has been produced. */
  get complete(): boolean {
    return this.#state === 'complete'
  }

  /** Where the exchange is. */
  get state(): CredSspState {
    return this.#state
  }

  /** The negotiated CredSSP version (min of the server's and ours), once the server answered. */
  get version(): number | undefined {
    return this.#serverVersion === undefined ? undefined : Math.min(this.#serverVersion, CREDSSP_VERSION)
  }

  /** The TLS protocol version, once the handshake is done. */
  get tlsProtocol(): TlsVersion | undefined {
    return this.#records?.protocol
  }

  /** The TLS cipher suite, once the handshake is done. */
  get tlsCipher(): string | undefined {
    return this.#records?.cipher
  }

  /** The inner mechanism (`NTLM`, `Kerberos`, `Negotiate` until chosen), once started. */
  get innerMechanism(): SecurityContext['mechanism'] | undefined {
    return this.#inner?.mechanism
  }

  /** @inheritDoc */
  async step(input?: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.#state === 'failed')
      throw new InvalidStateError('step', 'failed', 'CredSSP: the context failed earlier')
    if (this.#state === 'complete') {
      if (input !== undefined && input.length > 0) {
        throw new ProtocolError('CredSSP: unexpected token after authentication completed')
      }
      return undefined
    }
    try {
      return await this.#step(input)
    } catch (err) {
      this.#fail()
      if (err instanceof PsrpError) throw err
      throw new AuthenticationError('CredSSP: authentication failed', { cause: err })
    }
  }

  async #step(input: Uint8Array | undefined): Promise<Uint8Array | undefined> {
    if (this.#state === 'initial') {
      if (input !== undefined && input.length > 0) {
        throw new ProtocolError('CredSSP: the server sent a token before the ClientHello')
      }
      this.#state = 'tls'
      return this.#tunnel.start()
    }
    if (input === undefined || input.length === 0) {
      throw new AuthenticationError(
        'CredSSP: the server refused the authentication without a CredSSP token (wrong credentials, or CredSSP not allowed)',
      )
    }
    switch (this.#state) {
      case 'tls': {
        const out = await this.#tunnel.feed(input)
        const est = this.#tunnel.established
        if (est === undefined) return out
        this.#records = est.records
        this.#publicKey = subjectPublicKey(est.peerCertificate)
        if (out.length > 0) {
          // TLS 1.3: send the client Finished alone first (as pyspnego does); the server answers
          // with its session tickets (or nothing of interest).
          this.#state = 'tls-finished'
          return out
        }
        return this.#startInner()
      }
      case 'tls-finished': {
        const data = this.#open(input)
        if (data.length > 0)
          throw new ProtocolError('CredSSP: the server sent data before the first TSRequest')
        return this.#startInner()
      }
      case 'negotiating':
        return this.#negotiate(this.#receive(input))
      case 'pub-key-auth':
        return this.#finish(this.#receive(input))
      default:
        throw new InvalidStateError('step', this.#state)
    }
  }

  #open(input: Uint8Array): Uint8Array {
    return (this.#records as TlsRecordLayer).open(input)
  }

  #send(request: TsRequest): Uint8Array {
    return (this.#records as TlsRecordLayer).sealAll(encodeTsRequest(request))
  }

  /** Decrypts and decodes one TSRequest; a server errorCode is an AuthenticationError. */
  #receive(input: Uint8Array): TsRequest {
    const plain = this.#open(input)
    if (plain.length === 0) throw new ProtocolError('CredSSP: the server sent no TSRequest')
    const req = decodeTsRequest(plain)
    if (req.errorCode !== undefined) {
      const status = describeNtStatus(req.errorCode)
      throw new AuthenticationError(
        isCredentialsRefused(req.errorCode)
          ? `CredSSP: the server refused the credentials (${status})`
          : `CredSSP: the server reported an error (${status})`,
      )
    }
    if (this.#serverVersion === undefined) {
      if (req.version < this.#minVersion) {
        throw new AuthenticationError(
          `CredSSP: the server speaks version ${req.version}, below the required minimum ${this.#minVersion}`,
        )
      }
      this.#serverVersion = req.version
    }
    return req
  }

  async #startInner(): Promise<Uint8Array> {
    const inner = this.#newInner()
    this.#inner = inner
    const token = await inner.step()
    if (token === undefined || token.length === 0) {
      throw new AuthenticationError('CredSSP: the inner mechanism produced no initial token')
    }
    return this.#afterInnerToken(token)
  }

  /** Sends an inner token, with pubKeyAuth when it is the last one. */
  #afterInnerToken(token: Uint8Array | undefined): Uint8Array {
    const inner = this.#inner as CredSspInnerContext
    const last = inner.complete || (token !== undefined && contains(token, NTLM_AUTHENTICATE))
    if (!last) {
      if (token === undefined || token.length === 0) {
        throw new ProtocolError('CredSSP: the inner mechanism expects more but has nothing to send')
      }
      this.#state = 'negotiating'
      return this.#send({ version: CREDSSP_VERSION, negoTokens: [token] })
    }
    return this.#sendPubKeyAuth(token !== undefined && token.length > 0 ? token : undefined)
  }

  async #negotiate(req: TsRequest): Promise<Uint8Array> {
    if (req.pubKeyAuth !== undefined || req.authInfo !== undefined) {
      throw new ProtocolError(
        'CredSSP: pubKeyAuth or authInfo from the server before the client sent its own',
      )
    }
    const token = req.negoTokens?.[0]
    if (token === undefined) throw new ProtocolError('CredSSP: the server sent no negoTokens')
    const out = await this.#innerStep(token)
    return this.#afterInnerToken(out)
  }

  async #innerStep(token: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      return await (this.#inner as CredSspInnerContext).step(token)
    } catch (err) {
      if (err instanceof AuthenticationError) {
        throw new AuthenticationError(`CredSSP: inner authentication failed: ${err.message}`, { cause: err })
      }
      throw err
    }
  }

  #sendPubKeyAuth(finalToken: Uint8Array | undefined): Uint8Array {
    const version = this.version ?? CREDSSP_VERSION
    const nonce = version >= NONCE_MIN_VERSION ? this.#randomNonce() : undefined
    this.#nonce = nonce
    const value = clientPubKeyAuthValue(version, this.#publicKey as Uint8Array, nonce)
    const pubKeyAuth = (this.#inner as CredSspInnerContext).wrapGss(value)
    this.#state = 'pub-key-auth'
    return this.#send({
      version: CREDSSP_VERSION,
      ...(finalToken === undefined ? {} : { negoTokens: [finalToken] }),
      pubKeyAuth,
      ...(nonce === undefined ? {} : { clientNonce: nonce }),
    })
  }

  #randomNonce(): Uint8Array {
    const n = this.#random(CLIENT_NONCE_LENGTH)
    if (n.length !== CLIENT_NONCE_LENGTH) {
      throw new InvalidArgumentError(`CredSSP random(${CLIENT_NONCE_LENGTH}) returned ${n.length} bytes`)
    }
    return n.slice()
  }

  async #finish(req: TsRequest): Promise<Uint8Array> {
    const inner = this.#inner as CredSspInnerContext
    const token = req.negoTokens?.[0]
    if (token !== undefined) {
      const extra = await this.#innerStep(token)
      if (extra !== undefined && extra.length > 0) {
        throw new AuthenticationError('CredSSP: the inner mechanism wants another round after pubKeyAuth')
      }
    }
    if (!inner.complete) throw new AuthenticationError('CredSSP: the inner authentication did not complete')
    if (req.pubKeyAuth === undefined) throw new ProtocolError('CredSSP: the server sent no pubKeyAuth')
    const version = this.version ?? CREDSSP_VERSION
    let got: Uint8Array
    try {
      got = (this.#inner as CredSspInnerContext).unwrapGss(req.pubKeyAuth)
    } catch (err) {
      if (err instanceof CryptoError) {
        throw new AuthenticationError('CredSSP: the server pubKeyAuth does not verify', { cause: err })
      }
      throw err
    }
    const expected = serverPubKeyAuthValue(version, this.#publicKey as Uint8Array, this.#nonce)
    if (!bytesEqual(got, expected)) {
      throw new AuthenticationError(
        "CredSSP: the server's pubKeyAuth does not match its TLS certificate (a man-in-the-middle?); credentials not sent",
      )
    }
    const creds = encodePasswordCredentials({
      domain: this.domain,
      user: this.user,
      password: this.#password,
    })
    let authInfo: Uint8Array
    try {
      authInfo = (this.#inner as CredSspInnerContext).wrapGss(creds)
    } finally {
      creds.fill(0)
    }
    this.#password = ''
    this.#state = 'complete'
    return this.#send({ version: CREDSSP_VERSION, authInfo })
  }

  #fail(): void {
    this.#state = 'failed'
    this.#password = ''
    this.#tunnel.close()
  }

  #session(action: string): TlsRecordLayer {
    if (this.#state !== 'complete' || this.#records === undefined) {
      throw new InvalidStateError(
        action,
        this.#state,
        `CredSSP: cannot ${action} before authentication completed`,
      )
    }
    return this.#records
  }

  /**
   * Seals a WinRM message part (at most 16 KiB, the CredSSP chunk size) as one TLS record:
   * header = its first trailer-length bytes, data = the rest (MS-WSMV 2.2.9.1; notes/auth.md §1.5).
   */
  wrap(plaintext: Uint8Array): SealedMessage {
    const records = this.#session('wrap')
    if (plaintext.length > MAX_RECORD_PLAINTEXT) {
      throw new InvalidArgumentError(
        `CredSSP seals at most ${MAX_RECORD_PLAINTEXT} bytes per part (got ${plaintext.length}); split the message`,
      )
    }
    const record = records.seal(plaintext)
    const n = records.trailerLength(plaintext.length)
    return { header: record.subarray(0, n), data: record.subarray(n) }
  }

  /** Opens a WinRM message part: header ‖ data are TLS records (`CryptoError` when they do not verify). */
  unwrap(message: SealedMessage): Uint8Array {
    const records = this.#session('unwrap')
    const joined = new Uint8Array(message.header.length + message.data.length)
    joined.set(message.header)
    joined.set(message.data, message.header.length)
    return records.open(joined)
  }

  /** Never shows the password or keys. */
  [INSPECT](): string {
    const who = this.domain === '' ? this.user : `${this.domain}\\${this.user}`
    return `CredSspContext { user: ${JSON.stringify(who)}, state: '${this.#state}' }`
  }

  /** Never serialises secrets. */
  toJSON(): { mechanism: 'CredSSP'; user: string; domain: string; state: CredSspState; version?: number } {
    const v = this.version
    return {
      mechanism: 'CredSSP',
      user: this.user,
      domain: this.domain,
      state: this.#state,
      ...(v === undefined ? {} : { version: v }),
    }
  }
}
