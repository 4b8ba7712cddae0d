/**
 * A WS-Management endpoint (WinRM over HTTP or HTTPS): the HTTP client, the common envelope settings
 * and one request/response step that turns faults into {@link WSManFaultError}. PowerShell runspace
 * pools ({@link WSManConnection.createPsrpTransport}) and WinRS shells run on top of it; one connection
 * can carry many of both.
 *
 * @module
 */
import { InvalidArgumentError, NotSupportedError, ProtocolError } from '../errors.ts'
import { randomGuid } from '../internal/guid.ts'
import {
  buildEnvelope,
  DEFAULT_MAX_ENVELOPE_SIZE,
  DEFAULT_OPERATION_TIMEOUT,
  faultToError,
  parseResponse,
  parseShell,
  psrpEnumerateShells,
  psrpEnumerateCommands,
  ResourceUri,
  type ShellInfo,
  uuidUri,
  type EnvelopeOptions,
  type WSManRequest,
  type WSManResponse,
} from '../wsman/index.ts'
import {
  BasicAuth,
  CertificateAuth,
  WSManHttpClient,
  type ClientCertificate,
  type HttpAuthenticator,
  type HttpLane,
  type RetryOptions,
} from './http/index.ts'
import { WSManPsrpTransport, type WSManPsrpTransportOptions } from './wsman-psrp.ts'
import { SecurityContextAuth, type MessageEncryption } from './http/gss-auth.ts'
import { tlsServerEndPointHash } from './http/channel-binding.ts'
import { filetimeFromUnixMs, NtlmContext } from '../auth/ntlm/index.ts'

/** Authentication of a {@link WSManConnection}. */
export type WSManAuth =
  'basic' | 'certificate' | 'negotiate' | 'ntlm' | 'kerberos' | 'credssp' | HttpAuthenticator

/** Options of {@link WSManConnection}. */
export interface WSManConnectionOptions {
  /** Host name or address of the WinRM server. */
  server: string
  /** Port; default 5986 with `ssl`, 5985 without. */
  port?: number | undefined
  /** HTTPS (default true). Over plain HTTP, Basic needs `allowUnencryptedBasic`. */
  ssl?: boolean | undefined
  /** URL path (default `/wsman`). */
  path?: string | undefined
  /** Authentication; default `basic` when a password is given, `certificate` when a certificate is. */
  auth?: WSManAuth | undefined
  /** User name for password-based authentication. */
  username?: string | undefined
  /** Password for password-based authentication (never logged or put in error messages). */
  password?: string | undefined
  /** NTLM only: the NT hash (16 bytes or 32 hex digits) instead of a password. */
  ntHash?: Uint8Array | string | undefined
  /**
   * WinRM message encryption with NTLM and the other token mechanisms: `auto` (default) encrypts over
   * plain HTTP only, `always` also over HTTPS, `never` needs `allowUnencrypted` over HTTP.
   */
  encryption?: MessageEncryption | undefined
  /** Allow SOAP in clear text over plain HTTP with `encryption: 'never'` (the server must allow it too). */
  allowUnencrypted?: boolean | undefined
  /** Service principal name for NTLM's target name (default `HTTP/<server>`). */
  spn?: string | undefined
  /** Client certificate and key (PEM) for `certificate` authentication over HTTPS. */
  certificate?: ClientCertificate | undefined
  /** Trusted CA certificates (PEM) for the server certificate; default Node's bundled list. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  /** Validate the server certificate (default true). */
  rejectUnauthorized?: boolean | undefined
  /** Allow Basic authentication over plain HTTP (credentials then travel in clear text). */
  allowUnencryptedBasic?: boolean | undefined
  /** HTTP proxy URL, or false for none; default from HTTPS_PROXY/HTTP_PROXY/NO_PROXY. */
  proxy?: string | false | undefined
  /** Retries of connection failures and HTTP 503 (default 3, exponential backoff). */
  retries?: RetryOptions | undefined
  /** Milliseconds to connect (default 30 000). */
  connectTimeout?: number | undefined
  /** Milliseconds to wait for a response beyond the operation timeout (default 30 000). */
  readTimeout?: number | undefined
  /** WS-Man OperationTimeout in seconds: how long a Receive long-poll waits (default 20). */
  operationTimeout?: number | undefined
  /** Largest envelope the server accepts, in bytes (default 153 600, WinRM's default). */
  maxEnvelopeSize?: number | undefined
  /** `wsman:Locale` (e.g. `en-US`). */
  locale?: string | undefined
  /** `wsman:DataLocale`. */
  dataLocale?: string | undefined
  /** PowerShell endpoint (session configuration) for runspace pools; default `Microsoft.PowerShell`. */
  configurationName?: string | undefined
  /**
   * Receives a line per HTTP connection, exchange and retry (no credentials, tokens or bodies); default
   * `util.debuglog('psrp')`, printed to stderr when `NODE_DEBUG=psrp`.
   */
  trace?: ((line: string) => void) | undefined
}

/** Options of one {@link WSManConnection.request}. */
export interface WSManRequestOptions {
  /** The HTTP connection to use (default `main`). */
  lane?: HttpLane | undefined
  /** Cancels the request. */
  signal?: AbortSignal | undefined
  /** Milliseconds for the whole request; default the operation timeout plus `readTimeout`. */
  timeout?: number | undefined
}

const PASSWORD_MECHANISMS = new Set(['negotiate', 'kerberos', 'credssp'])

function authenticator(o: WSManConnectionOptions): HttpAuthenticator {
  const auth = o.auth ?? (o.certificate !== undefined && o.password === undefined ? 'certificate' : 'basic')
  if (typeof auth !== 'string') return auth
  if (auth === 'basic') {
    if (o.username === undefined || o.password === undefined)
      throw new InvalidArgumentError('Basic authentication needs username and password')
    return new BasicAuth(o.username, o.password)
  }
  if (auth === 'certificate') return new CertificateAuth(o.certificate)
  if (auth === 'ntlm') return ntlmAuth(o)
  if (PASSWORD_MECHANISMS.has(auth))
    throw new NotSupportedError(`${auth} authentication is not implemented yet; use basic or certificate`)
  throw new InvalidArgumentError(`unknown authentication ${JSON.stringify(auth)}`)
}

/**
 * NTLM (NTLMv2 with extended session security, MIC, channel bindings over HTTPS) under the
 * `Negotiate` HTTP scheme, which Windows accepts for raw NTLM tokens, with message encryption.
 */
function ntlmAuth(o: WSManConnectionOptions): HttpAuthenticator {
  const { username, password, ntHash } = o
  if (username === undefined || (password === undefined) === (ntHash === undefined)) {
    throw new InvalidArgumentError('NTLM authentication needs a username and either a password or an ntHash')
  }
  const spn = o.spn ?? `HTTP/${o.server}`
  return new SecurityContextAuth({
    scheme: 'Negotiate',
    encryption: o.encryption ?? 'auto',
    ...(o.allowUnencrypted === undefined ? {} : { allowUnencrypted: o.allowUnencrypted }),
    createContext: (ctx) =>
      new NtlmContext({
        username,
        ...(password === undefined ? {} : { password }),
        ...(ntHash === undefined ? {} : { ntHash }),
        spn,
        now: () => filetimeFromUnixMs(Date.now()),
        ...(ctx.tls && ctx.peerCertificate !== undefined
          ? { channelBindings: { tlsServerEndPoint: tlsServerEndPointHash(ctx.peerCertificate) } }
          : {}),
      }),
  })
}

/**
 * A WinRM endpoint. Cheap to create: nothing connects until the first request.
 *
 * ```ts
 * const conn = new WSManConnection({ server: 'win1', username, password, ca })
 * await using pool = await RunspacePool.open(conn)
 * ```
 */
export class WSManConnection {
  /** The HTTP client (one keep-alive socket per lane). */
  readonly http: WSManHttpClient
  /** WS-Man OperationTimeout in seconds. */
  readonly operationTimeout: number
  /** Largest envelope in bytes (see {@link updateMaxEnvelopeSize}). */
  maxEnvelopeSize: number
  /** Default PowerShell configuration name. */
  readonly configurationName: string | undefined
  #envelope: EnvelopeOptions
  readonly #readTimeout: number

  constructor(options: WSManConnectionOptions) {
    this.operationTimeout = options.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT
    if (!(this.operationTimeout > 0)) throw new InvalidArgumentError('operationTimeout must be positive')
    this.maxEnvelopeSize = options.maxEnvelopeSize ?? DEFAULT_MAX_ENVELOPE_SIZE
    if (!(this.maxEnvelopeSize >= 8192))
      throw new InvalidArgumentError('maxEnvelopeSize must be at least 8192 bytes')
    this.#readTimeout = options.readTimeout ?? 30_000
    this.configurationName = options.configurationName
    this.http = new WSManHttpClient({
      server: options.server,
      port: options.port,
      ssl: options.ssl,
      path: options.path,
      ca: options.ca,
      rejectUnauthorized: options.rejectUnauthorized,
      certificate: options.certificate,
      proxy: options.proxy,
      connectTimeout: options.connectTimeout,
      retries: options.retries,
      readTimeout: this.#readTimeout,
      auth: authenticator(options),
      allowUnencryptedBasic: options.allowUnencryptedBasic,
      trace: options.trace,
    })
    this.#envelope = {
      to: this.http.url,
      sessionId: uuidUri(randomGuid()),
      operationTimeout: this.operationTimeout,
      maxEnvelopeSize: this.maxEnvelopeSize,
      ...(options.locale === undefined ? {} : { locale: options.locale }),
      ...(options.dataLocale === undefined ? {} : { dataLocale: options.dataLocale }),
    }
  }

  /**
   * Sends one request and parses the reply. A fault rejects with {@link WSManFaultError}, except a
   * `w:TimedOut` fault, which resolves as `{ kind: 'timedOut' }` (the normal end of a long poll).
   */
  async request(request: WSManRequest, options: WSManRequestOptions = {}): Promise<WSManResponse> {
    const messageId = uuidUri(randomGuid())
    const xml = buildEnvelope(request, { ...this.#envelope, messageId })
    const operation = (request.operationTimeout ?? this.operationTimeout) * 1000
    const res = await this.http.post(xml, {
      lane: options.lane,
      signal: options.signal,
      timeout: options.timeout ?? operation + this.#readTimeout,
    })
    if (res.body.trim() === '') {
      throw new ProtocolError(
        `the WinRM server answered ${request.action} with HTTP ${res.status} and no body`,
      )
    }
    const parsed = parseResponse(res.body, { relatesTo: messageId })
    if (parsed.kind === 'fault') throw faultToError(parsed.fault)
    if (res.status !== 200 && parsed.kind !== 'timedOut') {
      throw new ProtocolError(`the WinRM server answered ${request.action} with HTTP ${res.status}`)
    }
    return parsed
  }

  /**
   * The PSRP transport of one runspace pool on this endpoint (a WinRS shell of the PowerShell
   * resource URI). Used by {@link RunspacePool.open}.
   */
  createPsrpTransport(options: Omit<WSManPsrpTransportOptions, 'connection'>): WSManPsrpTransport {
    return new WSManPsrpTransport({
      connection: this,
      ...(this.configurationName === undefined ? {} : { configurationName: this.configurationName }),
      ...options,
    })
  }

  /**
   * Reads `MaxEnvelopeSizekb` from the server's WinRM configuration (a WS-Man Get of
   * `winrm/config`; Windows allows it to administrators) and uses it from then on, so pools opened
   * afterwards send as few, as large requests as the server accepts. Resolves to the size in bytes.
   */
  async updateMaxEnvelopeSize(options: WSManRequestOptions = {}): Promise<number> {
    const res = await this.request({ action: 'get', resourceUri: ResourceUri.Config }, options)
    const body = res.kind === 'get' ? res.body : undefined
    const kb = body?.children.find((c) => c.local === 'MaxEnvelopeSizekb')?.text.trim()
    const size = kb === undefined ? Number.NaN : Number(kb) * 1024
    if (!Number.isSafeInteger(size) || size < 8192) {
      throw new ProtocolError(`the WinRM configuration has no usable MaxEnvelopeSizekb (${kb ?? 'missing'})`)
    }
    this.maxEnvelopeSize = size
    this.#envelope = { ...this.#envelope, maxEnvelopeSize: size }
    return size
  }

  /**
   * The shells of the authenticated user on the server (WS-Man Enumerate/Pull), e.g. runspace pools
   * left disconnected; filter by `resourceUri` for PowerShell ones.
   */
  async enumerateShells(options: WSManRequestOptions = {}): Promise<ShellInfo[]> {
    const out: ShellInfo[] = []
    let res = await this.request(psrpEnumerateShells(), options)
    for (let guard = 0; guard < 10_000; guard++) {
      if (res.kind !== 'enumerated' && res.kind !== 'pulled') {
        throw new ProtocolError(`the server answered Enumerate with ${res.kind}`)
      }
      for (const item of res.items) out.push(parseShell(item))
      const context = res.enumerationContext
      if (res.endOfSequence || context === undefined || context === '') return out
      res = await this.request(
        { action: 'pull', resourceUri: psrpEnumerateShells().resourceUri, enumerationContext: context },
        options,
      )
    }
    throw new ProtocolError('the server never ended the shell enumeration')
  }

  /** The ids of the pipelines (commands) running in a shell (WS-Man Enumerate of its commands). */
  async enumerateCommands(shellId: string, options: WSManRequestOptions = {}): Promise<string[]> {
    const res = await this.request(psrpEnumerateCommands({ shellId }), options)
    if (res.kind !== 'enumerated' && res.kind !== 'pulled') {
      throw new ProtocolError(`the server answered Enumerate with ${res.kind}`)
    }
    const ids: string[] = []
    for (const item of res.items) {
      const id = item.children.find((c) => c.local === 'CommandId')?.text.trim() ?? item.attrs['CommandId']
      if (id !== undefined && id !== '') ids.push(id.toLowerCase())
    }
    return ids
  }

  /** Closes the HTTP connections. Open shells stay on the server until deleted or idle. */
  async close(): Promise<void> {
    await this.http.close()
  }

  /** Same as {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
