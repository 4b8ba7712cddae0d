/**
 * The HTTP(S) client that carries WS-Management SOAP envelopes to a WinRM endpoint
 * (`http://host:5985/wsman`, `https://host:5986/wsman`).
 *
 * - **Lanes**: two persistent keep-alive connections, `main` and `side`, each with its own
 *   authentication. Requests on one lane are serialised; the lanes run independently, so a Send or
 *   Signal on `side` goes out while a Receive long-poll is pending on `main` (WinRM auth and message
 *   encryption are bound to a connection, so every request of a lane reuses that lane's socket).
 * - **Faults are data**: any final HTTP status other than 401 is returned, including the HTTP 500 that
 *   carries a WS-Man SOAP fault; the caller parses it. 401 after authentication is an
 *   {@link AuthenticationError}.
 * - **Retries** with exponential backoff on connection failures before any request body byte was sent
 *   and on HTTP 425/429/503, honouring `Retry-After` (see `retry.ts`). A failure after the request was
 *   sent is surfaced, never replayed, unless the caller declares the request replayable.
 * - **Security**: TLS certificates are validated by default; Basic over plain HTTP is refused unless
 *   `allowUnencryptedBasic`; credentials never appear in errors.
 *
 * @module
 */
import { isUtf8 } from 'node:buffer'
import { isIP } from 'node:net'
import type { SecureContextOptions } from 'node:tls'
import { debuglog } from 'node:util'
import {
  AbortError,
  AuthenticationError,
  InvalidArgumentError,
  InvalidStateError,
  ProtocolError,
  PsrpError,
  TimeoutError,
  TransportError,
} from '../../errors.ts'
import {
  authenticationFailed,
  type AuthSession,
  type ClientCertificate,
  type HttpAuthenticator,
} from './auth.ts'
import { positiveIntegerOption } from '../../internal/options.ts'
import { HttpConnection, type ResponseLimits } from './connection.ts'
import { ConnectionFailure, hostPort, openSocket, type TlsSettings } from './connector.ts'
import {
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_MAX_HEADER_SIZE,
  headerValue,
  headerValues,
  serializeRequestHead,
  type HttpHeaders,
  type ParsedResponse,
} from './http1.ts'
import { parseProxyUrl, proxyFromEnv, type ProxyConfig } from './proxy.ts'
import { backoffDelay, retryPolicy, statusRetryDelay, type RetryOptions, type RetryPolicy } from './retry.ts'
import { scope, sleep } from './signals.ts'
import { Attr, hostAttributes, SpanKind, SpanName, withSpan, type Span } from '../../internal/telemetry.ts'

/** Errors of requests that never reached the server: every connection attempt failed. */
const UNREACHABLE = new WeakSet<Error>()

/**
 * True for the {@link TransportError} of a request that never reached the server because every
 * connection attempt (and its retries) failed: sending it again at once would only fail again.
 */
export function isServerUnreachable(err: unknown): boolean {
  return err instanceof Error && UNREACHABLE.has(err)
}

/** `Content-Type` of an unencrypted WS-Management request (MS-WSMV 2.2.9.1). */
export const SOAP_CONTENT_TYPE = 'application/soap+xml;charset=UTF-8'

/** Default WinRM port over HTTP. */
export const WSMAN_HTTP_PORT = 5985
/** Default WinRM port over HTTPS. */
export const WSMAN_HTTPS_PORT = 5986

/** Most `401` round trips one request may take (NTLM needs 2, CredSSP up to 6). */
const MAX_AUTH_LEGS = 10
/** Most `Authorization` values remembered per connection for {@link HttpPostResponse.redact}. */
const MAX_REMEMBERED_CREDENTIALS = 16
const USER_AGENT = 'psrp (Node.js)'

/** Options of {@link WSManHttpClient}. */
export interface WSManHttpClientOptions {
  /** Host name or IP address of the WinRM server (IPv6 with or without brackets). */
  server: string
  /** TCP port; default 5986 with `ssl`, 5985 without. */
  port?: number | undefined
  /** Use HTTPS; default `true`. */
  ssl?: boolean | undefined
  /** URL path of the endpoint; default `/wsman`. */
  path?: string | undefined
  /** CA certificates (PEM) trusted for the server certificate instead of Node's bundled roots. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  /** Validate the server certificate and host name; default `true`. Turning it off allows MITM attacks. */
  rejectUnauthorized?: boolean | undefined
  /** TLS client certificate (HTTPS); {@link CertificateAuth} uses it when it has none of its own. */
  certificate?: ClientCertificate | undefined
  /** Check the host name against the certificate (default true); false skips only that check. */
  checkServerName?: boolean | undefined
  /** Further Node TLS settings for the server connection, passed as given. */
  tlsOptions?: SecureContextOptions | undefined
  /**
   * HTTP(S) proxy URL (`http://[user:pass@]host:port`), or `false` for none. Default: `https_proxy` /
   * `HTTPS_PROXY` (https targets) or `http_proxy` / `HTTP_PROXY` (http targets), then `all_proxy`,
   * unless the server matches `no_proxy` / `NO_PROXY` — read once, when the client is created.
   * https targets go through a `CONNECT` tunnel; http targets are sent as absolute-URI requests
   * (connection-bound authentication then needs a proxy that keeps the client and server connections
   * paired). An `https:` proxy is validated against Node's bundled roots; `ca` applies to the server only.
   */
  proxy?: string | false | undefined
  /** Milliseconds allowed for each connection attempt (TCP, proxy tunnel and TLS); default 30 000. */
  connectTimeout?: number | undefined
  /**
   * Milliseconds allowed for each HTTP exchange, from sending the request to the last byte of its
   * response; default 30 000. Must exceed the WS-Man `OperationTimeout` of the requests (a Receive
   * long-poll waits that long); a request may override it with {@link HttpPostOptions.timeout}.
   */
  readTimeout?: number | undefined
  /** Retry policy for connection failures before a request was sent and HTTP 425/429/503. */
  retries?: RetryOptions | undefined
  /** The authentication mechanism and credentials. */
  auth: HttpAuthenticator
  /** Allow Basic authentication over plain HTTP (password and messages unencrypted); default `false`. */
  allowUnencryptedBasic?: boolean | undefined
  /**
   * Largest HTTP response head accepted (status line and headers; also a proxy's answer to `CONNECT`),
   * in bytes; default 65 536 (64 KiB). A longer head fails the request with a {@link ProtocolError}
   * (`ERR_PROTOCOL`, not retried) before it is buffered. Must be a positive integer, else the
   * constructor throws {@link InvalidArgumentError} (`ERR_INVALID_ARGUMENT`).
   */
  maxHeaderSize?: number | undefined
  /**
   * Largest HTTP response body accepted, in bytes as received (still encrypted when message encryption
   * is on, after de-chunking); default 67 108 864 (64 MiB). A larger `Content-Length`, or more bytes,
   * fails the request with a {@link ProtocolError} (`ERR_PROTOCOL`, not retried) before the bytes are
   * kept. Must be a positive integer, else the constructor throws {@link InvalidArgumentError}.
   */
  maxResponseSize?: number | undefined
  /**
   * Receives one line per connection, HTTP exchange and retry: method, URL, lane, connection number,
   * body sizes and content types, status, auth scheme. Credentials and tokens are never traced
   * (`Authorization` and `WWW-Authenticate` values show only their scheme and token length) and
   * neither are bodies. Default: `util.debuglog('psrp')`, i.e. stderr when `NODE_DEBUG=psrp`.
   */
  trace?: ((line: string) => void) | undefined
}

/**
 * Which persistent connection a request uses: `main` (the default), `side`, or any other name; each
 * lane has its own socket (and authentication), so a long-poll Receive on one lane never delays a Send
 * on another. Lanes other than `main` and `side` are released with {@link WSManHttpClient.releaseLane}.
 */
export type HttpLane = string

/** Options of {@link WSManHttpClient.post}. */
export interface HttpPostOptions {
  /** Aborting rejects with {@link AbortError}; a request already sent loses its connection. */
  signal?: AbortSignal | undefined
  /**
   * Milliseconds allowed for this call as a whole (waiting for its turn on the lane excluded) and for
   * each of its HTTP exchanges; rejects with {@link TimeoutError}. Default: the client's `readTimeout`
   * per exchange.
   */
  timeout?: number | undefined
  /** The connection to use; default `main`. */
  lane?: HttpLane | undefined
  /**
   * The request may be sent again after a failure that happened once it was on the wire (a reset or
   * a closed connection before any response byte): running it twice has the same effect as running
   * it once. Default `false`: such a failure is surfaced as a {@link TransportError}.
   */
  replayable?: boolean | undefined
  /** The WS-Man action, recorded on the request's `wsman.request` trace span (`psrp.wsman.action`). */
  action?: string | undefined
}

/** A final HTTP response (after authentication and decryption). */
export interface HttpPostResponse {
  /** HTTP status: 200 for success, 500 for a WS-Man fault (the SOAP fault is in `body`), … */
  readonly status: number
  /** Response headers, lower-case names; repeated headers are arrays. */
  readonly headers: HttpHeaders
  /** The body as text (decrypted when message encryption is on), decoded when first read. */
  readonly body: string
  /** The body's bytes (decrypted when message encryption is on). */
  readonly bytes: Uint8Array
  /** The body's character encoding: the content type's `charset` (UTF-8 by default; UTF-16 by BOM). */
  readonly encoding: 'utf-8' | 'utf-16le' | 'utf-16be'
  /**
   * Removes our own credentials from server-provided text before it goes into an error: the
   * `Authorization` values sent on this connection (and `Proxy-Authorization`), their credential
   * part, and Basic's decoded `user:password` each become `<redacted>` (see {@link credentialRedactor}).
   */
  readonly redact?: ((text: string) => string) | undefined
}

/** A serial queue guarding one lane. */
class Lane {
  readonly name: HttpLane
  connection: HttpConnection | undefined
  #busy = false
  readonly #waiters: Array<() => void> = []

  constructor(name: HttpLane) {
    this.name = name
  }

  /** Waits for the lane; rejects with the signal's reason when it aborts first. */
  acquire(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason as PsrpError)
    if (!this.#busy) {
      this.#busy = true
      return Promise.resolve()
    }
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        signal.removeEventListener('abort', onAbort)
        resolve()
      }
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(grant)
        if (i >= 0) this.#waiters.splice(i, 1)
        reject(signal.reason as PsrpError)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(grant)
    })
  }

  /** True while a request holds the lane. */
  get busy(): boolean {
    return this.#busy
  }

  /** Hands the lane to the next waiter. */
  release(): void {
    const next = this.#waiters.shift()
    if (next === undefined) this.#busy = false
    else next()
  }

  /** Drops the connection (destroying its socket). */
  discard(): void {
    this.connection?.destroy()
    this.connection = undefined
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`${name} must be a positive number`)
  return v
}

/**
 * WS-Management over HTTP(S): `post()` sends one SOAP envelope and returns the HTTP response.
 *
 * ```ts
 * await using http = new WSManHttpClient({ server: 'win1', auth: new BasicAuth(user, password), ca })
 * const { status, body } = await http.post(envelope, { signal })
 * ```
 */
export class WSManHttpClient {
  readonly #auth: HttpAuthenticator
  readonly #host: string
  readonly #port: number
  readonly #tls: boolean
  readonly #path: string
  readonly #tlsSettings: TlsSettings
  readonly #proxy: ProxyConfig | undefined
  readonly #connectTimeout: number
  readonly #readTimeout: number
  readonly #retry: RetryPolicy
  readonly #responseLimits: ResponseLimits
  readonly #lanes = new Map<HttpLane, Lane>()
  readonly #closing = new AbortController()
  readonly #trace: (line: string) => void
  readonly #sentCredentials = new WeakMap<HttpConnection, Set<string>>()
  readonly #connectionIds = new WeakMap<HttpConnection, number>()
  #connections = 0

  /**
   * Validates the options; throws {@link InvalidArgumentError} for bad values and for insecure
   * combinations (Basic over HTTP without `allowUnencryptedBasic`, certificate auth without HTTPS).
   * No connection is opened until the first {@link post}.
   */
  constructor(options: WSManHttpClientOptions) {
    let host = options.server.trim()
    if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
    if (host === '' || /[\s/?#@]/.test(host) || (host.includes(':') && isIP(host) !== 6)) {
      throw new InvalidArgumentError('server must be a host name or IP address')
    }
    this.#host = host
    this.#tls = options.ssl ?? true
    this.#port = options.port ?? (this.#tls ? WSMAN_HTTPS_PORT : WSMAN_HTTP_PORT)
    if (!Number.isInteger(this.#port) || this.#port < 1 || this.#port > 65535) {
      throw new InvalidArgumentError('port must be an integer from 1 to 65535')
    }
    this.#path = options.path ?? '/wsman'
    if (!this.#path.startsWith('/') || /[\s#]/.test(this.#path)) {
      throw new InvalidArgumentError('path must start with "/" and contain no spaces')
    }
    this.#connectTimeout = positive('connectTimeout', options.connectTimeout, 30_000)
    this.#readTimeout = positive('readTimeout', options.readTimeout, 30_000)
    this.#responseLimits = {
      maxHeaderSize: positiveIntegerOption('maxHeaderSize', options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE),
      maxBodySize: positiveIntegerOption('maxResponseSize', options.maxResponseSize ?? DEFAULT_MAX_BODY_SIZE),
    }
    this.#retry = retryPolicy(options.retries)
    this.#auth = options.auth
    this.#trace = options.trace ?? debugTrace
    const certificate = options.certificate ?? options.auth.clientCertificate
    if (certificate !== undefined && !this.#tls) {
      throw new InvalidArgumentError('a TLS client certificate requires HTTPS (ssl: true)')
    }
    this.#tlsSettings = {
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      ...(options.ca === undefined ? {} : { ca: options.ca }),
      ...(certificate === undefined ? {} : { certificate }),
      ...(options.checkServerName === undefined ? {} : { checkServerName: options.checkServerName }),
      ...(options.tlsOptions === undefined ? {} : { secureContext: options.tlsOptions }),
    }
    options.auth.checkTransport?.({
      tls: this.#tls,
      allowUnencryptedBasic: options.allowUnencryptedBasic ?? false,
      hasClientCertificate: certificate !== undefined,
    })
    const target = { secure: this.#tls, host: this.#host, port: this.#port }
    this.#proxy =
      options.proxy === false
        ? undefined
        : options.proxy === undefined
          ? proxyFromEnv(process.env, target)
          : parseProxyUrl(options.proxy)
  }

  /** The endpoint URL, e.g. `https://win1:5986/wsman`. */
  get url(): string {
    return `${this.#tls ? 'https' : 'http'}://${hostPort(this.#host, this.#port)}${this.#path}`
  }

  /** The proxy in use (without credentials), or undefined. */
  get proxy(): string | undefined {
    return this.#proxy?.display
  }

  /** Number of connections opened so far (both lanes, including reconnects). */
  get connectionsOpened(): number {
    return this.#connections
  }

  /** True after {@link close}. */
  get closed(): boolean {
    return this.#closing.signal.aborted
  }

  /**
   * POSTs one SOAP envelope on a lane and resolves with the final response, whatever its status
   * (a WS-Man fault arrives as status 500 with the fault in the body).
   *
   * Rejects with {@link AuthenticationError} (credentials rejected: 401), {@link TransportError}
   * (connection or TLS failure after the retries, or the connection lost once the request was sent:
   * that request is not sent again unless `replayable`), {@link ProtocolError} (malformed HTTP),
   * {@link TimeoutError}, {@link AbortError}, or {@link InvalidStateError} after {@link close}.
   * After a rejection the client stays usable; the next request opens a new connection if needed.
   */
  post(body: string | Uint8Array, options: HttpPostOptions = {}): Promise<HttpPostResponse> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body
    const attributes = {
      ...hostAttributes(this.#host, this.#port),
      [Attr.transport]: 'wsman',
      [Attr.httpRequestMethod]: 'POST',
      [Attr.wsmanRequestSize]: bytes.length,
      ...(options.action === undefined ? {} : { [Attr.wsmanAction]: options.action }),
    }
    return withSpan(
      SpanName.wsmanRequest,
      attributes,
      async (span) => {
        const res = await this.#post(bytes, options, span)
        span.setAttribute(Attr.httpResponseStatusCode, res.status)
        span.setAttribute(Attr.wsmanResponseSize, res.bytes.length)
        return res
      },
      { kind: SpanKind.CLIENT },
    )
  }

  async #post(body: Uint8Array, options: HttpPostOptions, span: Span): Promise<HttpPostResponse> {
    if (this.closed) throw new InvalidStateError('post a WS-Management request', 'closed')
    const name = options.lane ?? 'main'
    if (typeof name !== 'string' || name === '')
      throw new InvalidArgumentError('lane must be a non-empty name')
    let lane = this.#lanes.get(name)
    if (lane === undefined) this.#lanes.set(name, (lane = new Lane(name)))
    const timeout = options.timeout === undefined ? undefined : positive('timeout', options.timeout, 1)
    const queued = scope([options.signal, this.#closing.signal])
    try {
      await lane.acquire(queued.signal)
    } catch (err) {
      queued.dispose()
      throw err
    }
    const call = scope([queued.signal], timeout, () => this.#timeoutError(timeout ?? 0))
    try {
      return await this.#send(
        lane,
        body,
        call.signal,
        timeout ?? this.#readTimeout,
        options.replayable === true,
        span,
      )
    } finally {
      call.dispose()
      queued.dispose()
      lane.release()
    }
  }

  /** Destroys both connections; pending and queued requests reject with {@link AbortError}. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.#closing.abort(new AbortError('the WS-Management HTTP client was closed'))
      for (const lane of this.#lanes.values()) lane.discard()
    }
    return Promise.resolve()
  }

  /**
   * Closes a lane's connection and forgets the lane once no request uses it (a request still queued
   * on it opens a new connection). For per-operation lanes such as one pipeline's Receive loop.
   */
  releaseLane(name: HttpLane): void {
    const lane = this.#lanes.get(name)
    if (lane === undefined || lane.busy) return
    lane.discard()
    this.#lanes.delete(name)
  }

  /** Same as {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #timeoutError(ms: number): TimeoutError {
    return new TimeoutError(`no complete HTTP response from ${this.url} within ${ms} ms`, ms)
  }

  async #send(
    lane: Lane,
    body: Uint8Array,
    signal: AbortSignal,
    exchangeTimeout: number,
    replayable: boolean,
    span: Span,
  ): Promise<HttpPostResponse> {
    let retry = 0
    let staleRetried = false
    for (let sends = 0; ; sends++) {
      if (sends > 0) span.setAttribute(Attr.httpResendCount, sends)
      let res: HttpPostResponse
      try {
        res = await this.#attempt(lane, body, signal, exchangeTimeout)
      } catch (err) {
        lane.discard()
        if (!(err instanceof ConnectionFailure)) throw err
        if (!err.retriable) throw err.error
        if (err.requestSent && !replayable) {
          // The server may have received the request and acted on it: never send it twice.
          this.#trace(`connection failure after the request was sent (${err.error.message}); not replayed`)
          throw new TransportError(`${err.error.message} after the request was sent; it was not sent again`, {
            cause: err.error.cause,
          })
        }
        if (err.stale && !staleRetried) {
          staleRetried = true
          continue
        }
        this.#trace(`connection failure (${err.error.message}); retriable`)
        if (retry >= this.#retry.count) {
          const attempts = retry + 1
          const unreachable = new TransportError(
            `${err.error.message} (${attempts} attempt${attempts === 1 ? '' : 's'})`,
            { cause: err.error.cause },
          )
          UNREACHABLE.add(unreachable)
          throw unreachable
        }
        await sleep(backoffDelay(this.#retry, retry++), signal)
        continue
      }
      const delay =
        retry < this.#retry.count ? statusRetryDelay(this.#retry, retry, res.status, res.headers) : undefined
      if (delay !== undefined) {
        this.#trace(
          `HTTP ${res.status} from ${this.url}: retry ${retry + 1} of ${this.#retry.count} ` +
            `in ${delay} ms on a new connection`,
        )
        // A fresh connection: on an encrypting one the refused message already advanced the
        // sequence numbers and cipher state of the security context, which the server never saw.
        lane.discard()
        retry++
        await sleep(delay, signal)
        continue
      }
      return res
    }
  }

  async #attempt(
    lane: Lane,
    body: Uint8Array,
    signal: AbortSignal,
    timeout: number,
  ): Promise<HttpPostResponse> {
    const conn = await this.#connection(lane, signal)
    const session = conn.session
    try {
      if (session.needsHandshake?.() === true) {
        const attributes = {
          ...hostAttributes(this.#host, this.#port),
          [Attr.authMechanism]: this.#auth.name,
        }
        const refused = await withSpan(SpanName.auth, attributes, async (authSpan) => {
          const hs = await this.#exchangeWithAuth(conn, new Uint8Array(0), false, signal, timeout)
          authSpan.setAttribute(Attr.httpResponseStatusCode, hs.status)
          const negotiated = session.negotiatedMechanism
          if (negotiated !== undefined) authSpan.setAttribute(Attr.authNegotiatedMechanism, negotiated)
          if (session.needsHandshake?.() !== true) return undefined
          // a retried status (503, 429, …) goes back to the retry loop; any other status is the
          // reason the handshake stopped
          if (this.#retry.statuses.has(hs.status)) return hs
          throw new AuthenticationError(
            `${this.#auth.name} authentication did not complete: ${this.url} answered the handshake ` +
              `with HTTP ${hs.status}`,
          )
        })
        if (refused !== undefined)
          return textResponse(refused.status, refused.headers, new Uint8Array(0), 'utf-8')
        this.#assertStillOpen(conn)
      }
      const res = await this.#exchangeWithAuth(conn, body, true, signal, timeout)
      const sent = [...(this.#sentCredentials.get(conn) ?? [])]
      if (this.#proxy?.authorization !== undefined) sent.push(this.#proxy.authorization)
      return await this.#decode(session, res, sent.length === 0 ? undefined : credentialRedactor(sent))
    } catch (err) {
      throw this.#authError(err)
    }
  }

  /** Wraps unexpected exceptions from an auth session; PsrpErrors and retry classifications pass. */
  #authError(err: unknown): unknown {
    if (err instanceof PsrpError || err instanceof ConnectionFailure) return err
    return new AuthenticationError(`${this.#auth.name} authentication failed`, { cause: err })
  }

  async #connection(lane: Lane, signal: AbortSignal): Promise<HttpConnection> {
    const existing = lane.connection
    if (existing?.usable === true) return existing
    lane.discard()
    const attributes = {
      ...hostAttributes(this.#host, this.#port),
      [Attr.transport]: 'wsman',
      [Attr.networkTransport]: 'tcp',
      [Attr.tls]: this.#tls,
      [Attr.authMechanism]: this.#auth.name,
    }
    return withSpan(SpanName.connect, attributes, () => this.#openConnection(lane, signal), {
      kind: SpanKind.CLIENT,
    })
  }

  async #openConnection(lane: Lane, signal: AbortSignal): Promise<HttpConnection> {
    const where = hostPort(this.#host, this.#port)
    const ms = this.#connectTimeout
    const connecting = scope(
      [signal],
      ms,
      () => new TimeoutError(`connecting to ${where} timed out after ${ms} ms`, ms),
    )
    let opened
    try {
      opened = await openSocket(
        {
          target: { host: this.#host, port: this.#port, tls: this.#tls },
          tls: this.#tlsSettings,
          proxy: this.#proxy,
          maxHeaderSize: this.#responseLimits.maxHeaderSize,
        },
        connecting.signal,
      )
    } finally {
      connecting.dispose()
    }
    this.#connections++
    let session: AuthSession
    try {
      session = this.#auth.createSession({
        tls: this.#tls,
        host: this.#host,
        port: this.#port,
        peerCertificate: opened.peerCertificate,
      })
    } catch (err) {
      opened.socket.destroy()
      throw this.#authError(err)
    }
    const conn = new HttpConnection(opened, session, where, this.#responseLimits)
    this.#connectionIds.set(conn, this.#connections)
    this.#trace(`connection #${this.#connections} to ${where}${this.#tls ? ' (TLS)' : ''}`)
    if (this.closed) conn.destroy()
    lane.connection = conn
    return conn
  }

  /** One request through the 401 loop; returns the first non-401 response. */
  async #exchangeWithAuth(
    conn: HttpConnection,
    body: Uint8Array,
    wrap: boolean,
    signal: AbortSignal,
    timeout: number,
  ): Promise<ParsedResponse> {
    const session = conn.session
    let authorization = await session.authorize()
    for (let leg = 1; ; leg++) {
      let payload = body
      let contentType = SOAP_CONTENT_TYPE
      if (wrap && session.wrap !== undefined) {
        const wrapped = await session.wrap(body, SOAP_CONTENT_TYPE)
        payload = wrapped.body
        contentType = wrapped.contentType
      }
      const head = this.#requestHead(conn, contentType, payload.length, authorization)
      if (authorization !== undefined) this.#rememberCredential(conn, authorization)
      const id = this.#connectionIds.get(conn) ?? 0
      this.#trace(
        `#${id} POST ${this.#path} ${payload.length} bytes ${mediaType(contentType)}` +
          (authorization === undefined ? '' : ` Authorization: ${redactCredentials(authorization)}`),
      )
      const ex = scope([signal], timeout, () => this.#timeoutError(timeout))
      let res: ParsedResponse
      try {
        res = await conn.exchange(head, payload, ex.signal)
      } finally {
        ex.dispose()
      }
      const challenge = headerValues(res.headers, 'www-authenticate').map(redactCredentials).join(', ')
      this.#trace(
        `#${id} HTTP ${res.status} ${res.body.length} bytes ` +
          mediaType(headerValue(res.headers, 'content-type') ?? '') +
          (challenge === '' ? '' : ` WWW-Authenticate: ${challenge}`),
      )
      if (res.status === 407 && conn.absoluteForm) {
        throw new AuthenticationError(
          `proxy ${this.#proxy?.display ?? ''} requires authentication (HTTP 407)`,
        )
      }
      if (res.status !== 401) {
        await session.accept?.({ status: res.status, headers: res.headers })
        return res
      }
      const challenges = headerValues(res.headers, 'www-authenticate')
      if (leg >= MAX_AUTH_LEGS) {
        throw new AuthenticationError(
          `${this.#auth.name} authentication did not complete in ${leg} round trips`,
        )
      }
      authorization = await session.challenge(challenges)
      if (authorization === undefined) throw authenticationFailed(this.#auth.name, this.url, challenges)
      this.#assertStillOpen(conn)
    }
  }

  /** Keeps an `Authorization` value sent on `conn` (the latest few) for {@link HttpPostResponse.redact}. */
  #rememberCredential(conn: HttpConnection, value: string): void {
    let set = this.#sentCredentials.get(conn)
    if (set === undefined) this.#sentCredentials.set(conn, (set = new Set()))
    set.delete(value)
    set.add(value)
    if (set.size > MAX_REMEMBERED_CREDENTIALS) set.delete(set.values().next().value as string)
  }

  /** Connection-bound authentication cannot continue on another connection. */
  #assertStillOpen(conn: HttpConnection): void {
    if (!conn.usable) {
      throw new AuthenticationError(
        `the server closed the connection during ${this.#auth.name} authentication (connection-bound handshake)`,
      )
    }
  }

  #requestHead(
    conn: HttpConnection,
    contentType: string,
    length: number,
    authorization: string | undefined,
  ): Buffer {
    const headers: Array<[string, string]> = [
      ['Host', hostPort(this.#host, this.#port)],
      ['User-Agent', USER_AGENT],
      ['Content-Type', contentType],
      ['Content-Length', String(length)],
      ['Accept-Encoding', 'identity'],
      ['Connection', 'Keep-Alive'],
    ]
    if (authorization !== undefined) headers.push(['Authorization', authorization])
    if (conn.absoluteForm && this.#proxy?.authorization !== undefined) {
      headers.push(['Proxy-Authorization', this.#proxy.authorization])
    }
    return serializeRequestHead({
      method: 'POST',
      target: conn.absoluteForm ? this.url : this.#path,
      headers,
    })
  }

  async #decode(
    session: AuthSession,
    res: ParsedResponse,
    redact: ((text: string) => string) | undefined,
  ): Promise<HttpPostResponse> {
    let body: Uint8Array = res.body
    let contentType = headerValue(res.headers, 'content-type') ?? ''
    if (/^multipart\/(x-multi-)?encrypted\s*;/i.test(contentType)) {
      if (session.unwrap === undefined) {
        throw new ProtocolError(
          `the server sent an encrypted body but ${this.#auth.name} authentication has no message encryption`,
        )
      }
      const plain = await session.unwrap(body, { status: res.status, headers: res.headers })
      body = plain.body
      contentType = plain.contentType
    }
    const encoding = bodyEncoding(body, contentType)
    // checked here, decoded when read: a WS-Man caller parses a large body from its bytes
    // (parseResponseBytes), and its text would be a string over V8's large-object size
    if (encoding === 'utf-8' && !isUtf8(body)) throw new ProtocolError('response body is not valid utf-8')
    const response = textResponse(res.status, res.headers, body, encoding, redact)
    if (encoding !== 'utf-8') void response.body // UTF-16: decoded now, so an invalid body fails here
    return response
  }
}

/**
 * A response whose `body` text is decoded from `bytes` when first read (a BOM is dropped);
 * UTF-16 that does not decode is a {@link ProtocolError}.
 */
function textResponse(
  status: number,
  headers: HttpHeaders,
  bytes: Uint8Array,
  encoding: HttpPostResponse['encoding'],
  redact?: ((text: string) => string) | undefined,
): HttpPostResponse {
  let text: string | undefined
  return {
    status,
    headers,
    bytes,
    encoding,
    ...(redact === undefined ? {} : { redact }),
    get body(): string {
      if (text !== undefined) return text
      try {
        // TextDecoder strips the BOM by default
        text = new TextDecoder(encoding, { fatal: true }).decode(bytes)
      } catch (err) {
        throw new ProtocolError(`response body is not valid ${encoding}`, { cause: err })
      }
      return text
    },
  }
}

/** A body's encoding by the `charset` of its content type (UTF-8 default, UTF-16 by BOM). */
function bodyEncoding(body: Uint8Array, contentType: string): HttpPostResponse['encoding'] {
  const charset = /;\s*charset\s*=\s*"?([\w-]+)"?/i.exec(contentType)?.[1]?.toLowerCase() ?? 'utf-8'
  if (charset === 'utf-16' || charset === 'utf-16le' || charset === 'utf-16be') {
    return body[0] === 0xfe && body[1] === 0xff
      ? 'utf-16be'
      : charset === 'utf-16be'
        ? 'utf-16be'
        : 'utf-16le'
  }
  if (charset === 'utf-8' || charset === 'utf8' || charset === 'us-ascii') return 'utf-8'
  throw new ProtocolError(`unsupported response charset ${charset}`)
}

const debugTrace = debuglog('psrp')

/** The media type of a content type, with `protocol=` for encrypted bodies (no boundary or charset). */
function mediaType(contentType: string): string {
  const type = contentType.split(';')[0]?.trim() ?? ''
  const protocol = /protocol="?([^";]+)/i.exec(contentType)?.[1]
  return protocol === undefined ? type : `${type} (${protocol})`
}

/**
 * A function that removes credentials of our own requests from server-provided text. For each sent
 * `Authorization` / `Proxy-Authorization` value: the value itself, its part after the scheme (the
 * base64 credentials or token) and, for `Basic`, the decoded `user:password` (also with whitespace
 * collapsed, as fault texts are) are replaced by `<redacted>`, longest first, in one pass.
 */
export function credentialRedactor(sent: Iterable<string>): (text: string) => string {
  const secrets = new Set<string>()
  for (const value of sent) {
    const m = /^\s*([A-Za-z][\w-]*)\s+(\S(?:.*\S)?)\s*$/.exec(value)
    if (m === null) continue // a scheme alone (or a URI, as certificate auth sends) holds no secret
    const [, scheme = '', token = ''] = m
    secrets.add(value.trim())
    secrets.add(token)
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(token, 'base64').toString('utf8')
      secrets.add(decoded)
      secrets.add(decoded.replace(/\s+/g, ' ').trim())
    }
  }
  secrets.delete('')
  if (secrets.size === 0) return (text) => text
  const pattern = [...secrets]
    .sort((a, b) => b.length - a.length)
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('|')
  const re = new RegExp(pattern, 'g')
  return (text) => text.replace(re, '<redacted>')
}

/**
 * An `Authorization` / `WWW-Authenticate` value with every credential or token replaced by its
 * length: `Negotiate <2048 bytes>`, `Basic <credentials>`.
 */
export function redactCredentials(value: string): string {
  return value
    .split(',')
    .map((part) => {
      const m = /^\s*([A-Za-z][\w-]*)(?:\s+(\S.*))?$/.exec(part)
      if (m === null) return '<unparsed>'
      const [, scheme = '', rest] = m
      if (rest === undefined) return scheme
      if (/^basic$/i.test(scheme)) return `${scheme} <credentials>`
      const token = rest.trim()
      if (/^[A-Za-z0-9+/]+={0,2}$/.test(token))
        return `${scheme} <${Buffer.from(token, 'base64').length} bytes>`
      return `${scheme} <parameters>`
    })
    .join(', ')
}
