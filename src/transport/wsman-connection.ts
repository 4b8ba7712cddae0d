/**
 * A WS-Management endpoint (WinRM over HTTP or HTTPS): the HTTP client, the common envelope settings
 * and one request/response step that turns faults into {@link WSManFaultError}. PowerShell runspace
 * pools ({@link WSManConnection.createPsrpTransport}) and WinRS shells run on top of it; one connection
 * can carry many of both.
 *
 * @module
 */
import { readFileSync } from 'node:fs'
import type { SecureContextOptions } from 'node:tls'
import {
  InvalidArgumentError,
  KerberosError,
  ProtocolError,
  WSManFaultError,
  type PsrpError,
} from '../errors.ts'
import { randomGuid } from '../internal/guid.ts'
import { isXmlSpace } from '../internal/xml.ts'
import { DEFAULT_MAX_ENVELOPE_SIZE, DEFAULT_OPERATION_TIMEOUT, uuidUri } from '../wsman/envelope.ts'
import {
  buildEnvelopeBytes,
  faultToError,
  parseResponse,
  parseResponseBytes,
  parseShell,
  psrpEnumerateShells,
  psrpEnumerateCommands,
  ResourceUri,
  type ShellInfo,
  type EnvelopeOptions,
  type WSManRequest,
  type WSManResponse,
} from '../wsman/index.ts'
import { DEFAULT_MAX_RESPONSE_LENGTH } from '../wsman/response.ts'
import { parseActionResponse, type ActionResponse } from '../wsman/action-response.ts'
import type { CustomRequest, SelectorSet, WSManOption } from '../wsman/envelope.ts'
import type { XmlNode } from '../wsman/xml-node.ts'
import { positiveIntegerOption } from '../internal/options.ts'
import {
  BasicAuth,
  CertificateAuth,
  WSManHttpClient,
  type ClientCertificate,
  type HttpAuthenticator,
  type HttpLane,
  type HttpPostResponse,
  type RetryOptions,
} from './http/index.ts'
import { withCancel, type CallOptions } from './cancel.ts'
import { WSManPsrpTransport } from './wsman-psrp.ts'
import type {
  PsrpDisconnectable,
  PsrpTransport,
  PsrpTransportFactory,
  PsrpTransportRequest,
} from './psrp-transport.ts'
import { resolveServerUri } from './server-uri.ts'
import { SecurityContextAuth, type MessageEncryption } from './http/gss-auth.ts'
import { tlsServerEndPointHash } from './http/channel-binding.ts'
import { filetimeFromUnixMs, NtlmContext } from '../auth/ntlm/index.ts'
import { KERBEROS_OID, NegotiateContext, NTLM_OID } from '../auth/spnego/index.ts'
import { CredSspContext } from '../auth/credssp/index.ts'
import type { ChannelBindings } from '../auth/ntlm/channel-bindings.ts'
import { createKerberosContext, kdcOption } from './kdc.ts'
import type { KerberosContext } from '../auth/kerberos/context.ts'
import { KerberosTicketCache } from '../auth/kerberos/ticket-cache.ts'
import type { AuthConnectionContext } from './http/auth.ts'
import type { SecurityContext } from '../auth/security-context.ts'

/** Authentication of a {@link WSManConnection}. */
export type WSManAuth =
  'basic' | 'certificate' | 'negotiate' | 'ntlm' | 'kerberos' | 'credssp' | HttpAuthenticator

/** Options of {@link WSManConnection}. */
export interface WSManConnectionOptions {
  /**
   * Host name or address of the WinRM server, or its full URI (`https://host:5986/wsman`,
   * `http://host/custom`), which sets `ssl`, `port` and `path` (an explicit one that disagrees is an
   * `InvalidArgumentError`).
   */
  server: string
  /** Port; default 5986 with `ssl`, 5985 without. */
  port?: number | undefined
  /** HTTPS (default true). Over plain HTTP, Basic needs `allowUnencryptedBasic`. */
  ssl?: boolean | undefined
  /** URL path (default `/wsman`). */
  path?: string | undefined
  /**
   * Authentication; default `certificate` when a certificate and no password is given, else
   * `negotiate` (Kerberos, else NTLM), which is what a Windows host accepts out of the box. Basic
   * must be asked for (Windows has it off by default).
   */
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
  /** Kerberos settings for `kerberos`, `negotiate` and `credssp` (see {@link WSManKerberosOptions}). */
  kerberos?: WSManKerberosOptions | undefined
  /**
   * CredSSP only: the inner authentication inside the tunnel (`auto`: SPNEGO, Kerberos then NTLM,
   * the default; `kerberos` or `ntlm` alone, as pypsrp's `credssp_auth_mechanism`) and the lowest
   * CredSSP version accepted from the server (2–6, default 2; 6 requires a server with the
   * CVE-2018-0886 fix, as pypsrp's `credssp_minimum_version`).
   */
  credssp?:
    | { authMechanism?: 'auto' | 'kerberos' | 'ntlm' | undefined; minimumVersion?: number | undefined }
    | undefined
  /** CredSSP only: TLS versions of the CredSSP tunnel (default 1.2 to 1.3). */
  credsspTlsVersions?: { min?: '1.2' | '1.3' | undefined; max?: '1.2' | '1.3' | undefined } | undefined
  /** Client certificate and key (PEM) for `certificate` authentication over HTTPS. */
  certificate?: ClientCertificate | undefined
  /**
   * Trusted CA certificates (PEM) for the server certificate; default Node's bundled list plus the
   * certificates of `NODE_EXTRA_CA_CERTS` (read by Node at start-up). Given, it replaces both.
   */
  ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  /** A PEM file of trusted CA certificates (a CA bundle), read when the connection is created; instead of `ca`. */
  caFile?: string | undefined
  /**
   * Check that the server certificate names the host (default true). False keeps the chain check and
   * skips only the name check (PowerShell's `-SkipCNCheck`).
   */
  checkServerName?: boolean | undefined
  /** Further Node TLS settings for the server connection (`tls.SecureContextOptions`), passed as given. */
  tlsOptions?: SecureContextOptions | undefined
  /**
   * Send channel bindings (`tls-server-end-point`) with NTLM and Kerberos over HTTPS (default true).
   * Set false behind a load balancer that ends TLS itself, where the server sees another certificate
   * (pypsrp's `negotiate_send_cbt`); the server must then not require them.
   */
  channelBindings?: boolean | undefined
  /** Validate the server certificate (default true). */
  rejectUnauthorized?: boolean | undefined
  /** Allow Basic authentication over plain HTTP (credentials then travel in clear text). */
  allowUnencryptedBasic?: boolean | undefined
  /** HTTP proxy URL, or false for none; default from HTTPS_PROXY/HTTP_PROXY/NO_PROXY. */
  proxy?: string | false | undefined
  /**
   * Retries of connection failures before a request was sent and of HTTP 425/429/503 (default 3,
   * exponential backoff, `Retry-After` honoured). A connection lost after a request was sent is never
   * replayed; Receives are retried by {@link receiveRetries} instead. See docs/network.md.
   */
  retries?: RetryOptions | undefined
  /**
   * Receives (the output long-polls) sent again on a new connection after a read timeout or a lost
   * connection, before the failure counts; default 5 (as pypsrp). Repeated output is dropped by its
   * PSRP fragment ids and lost output is a {@link TransportError}, never a silent gap (docs/network.md).
   */
  receiveRetries?: number | undefined
  /**
   * Milliseconds a runspace pool keeps trying to reach its shell after its connection broke (the
   * server keeps the shell and buffers output meanwhile), as PowerShell's robust connections do;
   * default 60 000, 0 to fail at once. When it passes, the pool fails with `ConnectionLostError`.
   */
  reconnectWindow?: number | undefined
  /** Milliseconds to connect (default 30 000). */
  connectTimeout?: number | undefined
  /** Milliseconds to wait for a response beyond the operation timeout (default 30 000). */
  readTimeout?: number | undefined
  /** WS-Man OperationTimeout in seconds: how long a Receive long-poll waits (default 20). */
  operationTimeout?: number | undefined
  /**
   * Largest envelope the server accepts, in bytes (default 153 600, WinRM's default). When not
   * given, {@link Client}'s file transfers read the server's own limit first, once per connection
   * ({@link WSManConnection.adoptServerEnvelopeSize}); given, it is used as is.
   */
  maxEnvelopeSize?: number | undefined
  /**
   * Largest HTTP response head (status line and headers) accepted from the server, or from a proxy
   * answering `CONNECT`, in bytes; default 65 536 (64 KiB). A longer head fails the request with a
   * {@link ProtocolError} (`ERR_PROTOCOL`, not retried) before it is buffered. Not a positive integer:
   * the constructor throws {@link InvalidArgumentError} (`ERR_INVALID_ARGUMENT`). All limits:
   * docs/limits.md.
   */
  maxHeaderSize?: number | undefined
  /**
   * Largest HTTP response body accepted, in bytes as they arrive (encrypted, when WinRM message
   * encryption is on); default 67 108 864 (64 MiB). A larger announced `Content-Length`, or more bytes
   * than that, fails the request with a {@link ProtocolError} (`ERR_PROTOCOL`, not retried) before the
   * bytes are kept. Not a positive integer: the constructor throws {@link InvalidArgumentError}.
   */
  maxResponseSize?: number | undefined
  /**
   * Largest SOAP envelope accepted in a response, in characters of the (decrypted) text; default
   * 67 108 864 (64 Mi). A longer one fails the request with a {@link ProtocolError} (`ERR_PROTOCOL`)
   * before it is parsed. Not a positive integer: the constructor throws {@link InvalidArgumentError}.
   * (Unlike {@link maxEnvelopeSize}, which is what the server is asked to respect, this is enforced
   * here, on whatever the server sends.)
   */
  maxResponseEnvelopeLength?: number | undefined
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

/**
 * Kerberos settings of a {@link WSManConnection}. Credentials come from, in order: `password` (an AS
 * exchange), `kerberos.keytab`, `kerberos.ccache`, else the ticket cache named by `KRB5CCNAME` (or
 * `/tmp/krb5cc_<uid>`). KDCs come from `kdc`, else krb5.conf (`KRB5_CONFIG`, else /etc/krb5.conf).
 */
export interface WSManKerberosOptions {
  /** Service class of the SPN (default `HTTP`), or a whole SPN `service/host`. */
  service?: string | undefined
  /** Host name of the SPN (default the `server` option). */
  hostname?: string | undefined
  /** The user's realm when `username` names none. */
  realm?: string | undefined
  /**
   * KDCs (`host[:port]`) for every realm, overriding krb5.conf: an array, or one KDC as a string.
   * Anything else (or an invalid address) makes the constructor throw {@link InvalidArgumentError}.
   */
  kdc?: string | readonly string[] | undefined
  /** The path of a krb5.conf file to use instead of `KRB5_CONFIG` or /etc/krb5.conf. */
  krb5Config?: string | undefined
  /** A keytab holding the user's keys: its path, or its bytes (MIT keytab format, version 2). */
  keytab?: string | Uint8Array | undefined
  /**
   * A credential cache with a TGT or a service ticket: a name (`FILE:`/path, `DIR:`, `KCM:`), or the
   * bytes of an MIT ccache file (format version 3 or 4).
   */
  ccache?: string | Uint8Array | undefined
  /** Delegate a forwardable TGT to the server (second hop). */
  delegate?: boolean | undefined
  /** Milliseconds per KDC attempt (default 5000). */
  kdcTimeout?: number | undefined
}

/** Options of one {@link WSManConnection.request}. */
export interface WSManRequestOptions extends CallOptions {
  /**
   * The HTTP connection to use (default `main`).
   *
   * @internal
   */
  lane?: HttpLane | undefined
  /** Milliseconds for the whole request; default the operation timeout plus `readTimeout`. */
  timeout?: number | undefined
}

/** Options of one {@link WSManConnection.invoke}. */
export interface WSManInvokeOptions extends WSManRequestOptions {
  /** `wsman:SelectorSet` naming the instance (e.g. `{ Name: 'Spooler' }`). */
  selectors?: SelectorSet | undefined
  /** `wsman:OptionSet`. */
  options?: readonly WSManOption[] | undefined
  /** `wsman:OperationTimeout` in seconds for this request (default the connection's). */
  operationTimeout?: number | undefined
}

function authenticator(o: WSManConnectionOptions): HttpAuthenticator {
  const auth =
    o.auth ?? (o.certificate !== undefined && o.password === undefined ? 'certificate' : 'negotiate')
  if (typeof auth !== 'string') return auth
  switch (auth) {
    case 'basic':
      if (o.username === undefined || o.password === undefined)
        throw new InvalidArgumentError('Basic authentication needs username and password')
      return new BasicAuth(o.username, o.password)
    case 'certificate':
      return new CertificateAuth(o.certificate)
    case 'ntlm':
      return ntlmAuth(o)
    case 'kerberos':
      return kerberosAuth(o)
    case 'negotiate':
      return negotiateAuth(o)
    case 'credssp':
      return credsspAuth(o)
    default:
      throw new InvalidArgumentError(`unknown authentication ${JSON.stringify(auth)}`)
  }
}

/** Channel bindings of an HTTPS connection (`tls-server-end-point`, RFC 5929). */
function channelBindingsOf(ctx: AuthConnectionContext): ChannelBindings | undefined {
  return ctx.tls && ctx.peerCertificate !== undefined
    ? { tlsServerEndPoint: tlsServerEndPointHash(ctx.peerCertificate) }
    : undefined
}

/** The trusted CAs: `ca`, or the PEM bundle `caFile` names (never both). */
function caOption(o: WSManConnectionOptions): WSManConnectionOptions['ca'] {
  if (o.caFile === undefined) return o.ca
  if (o.ca !== undefined) throw new InvalidArgumentError('give ca or caFile, not both')
  try {
    return readFileSync(o.caFile)
  } catch (e) {
    throw new InvalidArgumentError(`caFile ${o.caFile} cannot be read: ${(e as Error).message}`, { cause: e })
  }
}

/** The connection context of CredSSP's inner exchange (inside the tunnel: no channel bindings). */
const NO_CHANNEL: AuthConnectionContext = { tls: false, host: '', port: 0, peerCertificate: undefined }

function checkNtlmCredentials(o: WSManConnectionOptions, what: string): void {
  if (o.username === undefined || (o.password === undefined) === (o.ntHash === undefined)) {
    throw new InvalidArgumentError(`${what} needs a username and either a password or an ntHash`)
  }
}

function newNtlmContext(o: WSManConnectionOptions, ctx: AuthConnectionContext): NtlmContext {
  const { username, password, ntHash } = o
  const channelBindings = o.channelBindings === false ? undefined : channelBindingsOf(ctx)
  return new NtlmContext({
    username: username as string,
    ...(password === undefined ? {} : { password }),
    ...(ntHash === undefined ? {} : { ntHash }),
    spn: o.spn ?? `HTTP/${o.server}`,
    now: () => filetimeFromUnixMs(Date.now()),
    ...(channelBindings === undefined ? {} : { channelBindings }),
  })
}

/** A Kerberos context for one HTTP connection; `tickets` is shared by the connection's contexts. */
function newKerberosContext(
  o: WSManConnectionOptions,
  ctx: AuthConnectionContext | undefined,
  tickets: KerberosTicketCache,
): KerberosContext {
  const k = o.kerberos ?? {}
  const channelBindings =
    ctx === undefined || o.channelBindings === false ? undefined : channelBindingsOf(ctx)
  const opt = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
    (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
  return createKerberosContext({
    hostname: k.hostname ?? o.server,
    ...opt('username', o.username),
    ...opt('password', o.password),
    ...(o.password === undefined ? { ...opt('keytab', k.keytab), ...opt('ccache', k.ccache) } : {}),
    ...opt('spn', k.service),
    ...opt('realm', k.realm),
    ...opt('kdc', k.kdc),
    ...opt('krb5Config', k.krb5Config),
    ...opt('delegate', k.delegate),
    ...opt('timeout', k.kdcTimeout),
    ...opt('channelBindings', channelBindings),
    ticketCache: tickets,
  })
}

function tokenAuth(
  o: WSManConnectionOptions,
  scheme: 'Negotiate' | 'Kerberos' | 'CredSSP',
  createContext: (ctx: AuthConnectionContext) => SecurityContext,
): HttpAuthenticator {
  return new SecurityContextAuth({
    scheme,
    encryption: o.encryption ?? 'auto',
    ...(o.allowUnencrypted === undefined ? {} : { allowUnencrypted: o.allowUnencrypted }),
    createContext,
  })
}

/**
 * Kerberos alone under the `Kerberos` HTTP scheme (raw RFC 4121 tokens, no SPNEGO), with
 * `application/HTTP-Kerberos-session-encrypted` message encryption.
 */
function kerberosAuth(o: WSManConnectionOptions): HttpAuthenticator {
  if (o.ntHash !== undefined)
    throw new InvalidArgumentError('Kerberos cannot use an NT hash; give a password')
  const tickets = new KerberosTicketCache()
  return tokenAuth(o, 'Kerberos', (ctx) => newKerberosContext(o, ctx, tickets))
}

/** The KDC refused the credentials themselves: Negotiate must not retry them with NTLM. */
const kerberosRefusedCredentials = (err: PsrpError): boolean =>
  err instanceof KerberosError && err.credentialsRejected

/**
 * SPNEGO under the `Negotiate` HTTP scheme offering Kerberos first and NTLM second: Kerberos when a
 * ticket can be had (from the password, keytab or ticket cache and a reachable KDC), NTLM otherwise.
 * With an NT hash and no password only NTLM is offered.
 */
function negotiateAuth(o: WSManConnectionOptions): HttpAuthenticator {
  const ntlmPossible = o.username !== undefined && (o.password !== undefined) !== (o.ntHash !== undefined)
  const kerberosPossible = o.ntHash === undefined || o.password !== undefined
  const tickets = new KerberosTicketCache()
  return tokenAuth(o, 'Negotiate', (ctx) => {
    const mechanisms = [
      ...(kerberosPossible
        ? [
            {
              oid: KERBEROS_OID,
              create: () => newKerberosContext(o, ctx, tickets),
              isFinal: kerberosRefusedCredentials,
            },
          ]
        : []),
      ...(ntlmPossible ? [{ oid: NTLM_OID, create: () => newNtlmContext(o, ctx) }] : []),
    ]
    return new NegotiateContext({ mechanisms })
  })
}

/**
 * CredSSP (MS-CSSP): the password is delegated to the server inside a TLS tunnel after an inner
 * SPNEGO exchange (Kerberos, else NTLM). Needs a username and password; the server's certificate in
 * the tunnel is bound through pubKeyAuth, not validated against a CA (as Windows does).
 */
function credsspAuth(o: WSManConnectionOptions): HttpAuthenticator {
  if (o.username === undefined || o.password === undefined) {
    throw new InvalidArgumentError('CredSSP needs a username and a password (it delegates them)')
  }
  const { username, password } = o
  const tls = o.credsspTlsVersions
  const mechanism = o.credssp?.authMechanism ?? 'auto'
  if (mechanism !== 'auto' && mechanism !== 'kerberos' && mechanism !== 'ntlm')
    throw new InvalidArgumentError(
      `credssp.authMechanism must be 'auto', 'kerberos' or 'ntlm', not '${String(mechanism)}'`,
    )
  const tickets = new KerberosTicketCache()
  return tokenAuth(
    o,
    'CredSSP',
    () =>
      new CredSspContext({
        username,
        password,
        // The tunnel's pubKeyAuth binds the inner exchange to the TLS key, so no channel bindings.
        inner: () =>
          new NegotiateContext({
            mechanisms: [
              ...(mechanism === 'ntlm'
                ? []
                : [
                    {
                      oid: KERBEROS_OID,
                      create: () => newKerberosContext(o, undefined, tickets),
                      isFinal: kerberosRefusedCredentials,
                    },
                  ]),
              ...(mechanism === 'kerberos'
                ? []
                : [{ oid: NTLM_OID, create: () => newNtlmContext(o, NO_CHANNEL) }]),
            ],
          }),
        ...(o.credssp?.minimumVersion === undefined ? {} : { minVersion: o.credssp.minimumVersion }),
        ...(tls?.min === undefined ? {} : { tlsMinVersion: `TLSv${tls.min}` as const }),
        ...(tls?.max === undefined ? {} : { tlsMaxVersion: `TLSv${tls.max}` as const }),
      }),
  )
}

/**
 * NTLM (NTLMv2 with extended session security, MIC, channel bindings over HTTPS) under the
 * `Negotiate` HTTP scheme, which Windows accepts for raw NTLM tokens, with message encryption.
 */
function ntlmAuth(o: WSManConnectionOptions): HttpAuthenticator {
  checkNtlmCredentials(o, 'NTLM authentication')
  return tokenAuth(o, 'Negotiate', (ctx) => newNtlmContext(o, ctx))
}

/**
 * A WinRM endpoint. Cheap to create: nothing connects until the first request.
 *
 * ```ts
 * const conn = new WSManConnection({ server: 'win1', username, password, ca })
 * await using pool = await RunspacePool.open(conn)
 * ```
 */
export class WSManConnection implements PsrpTransportFactory {
  /**
   * The HTTP client (one keep-alive socket per lane), shared by the pools and WinRS shells of this
   * endpoint.
   *
   * @internal
   */
  readonly http: WSManHttpClient
  /** WS-Man OperationTimeout in seconds. */
  readonly operationTimeout: number
  /** Largest envelope in bytes (see {@link updateMaxEnvelopeSize}). */
  maxEnvelopeSize: number
  /** Default PowerShell configuration name. */
  readonly configurationName: string | undefined
  /** Receives retried on a new connection after a read timeout or a lost connection. */
  readonly receiveRetries: number
  /** Milliseconds a runspace pool keeps trying to reach its shell after its connection broke. */
  readonly reconnectWindow: number
  #envelope: EnvelopeOptions
  /**
   * Whether the envelope size is settled: given as an option, read from the server, or refused by
   * it ({@link adoptServerEnvelopeSize} then leaves it alone).
   */
  #envelopeSizeSettled: boolean
  /** The read of {@link adoptServerEnvelopeSize} in progress, shared by concurrent callers. */
  #envelopeSizeRead: Promise<number> | undefined
  readonly #readTimeout: number
  readonly #maxResponseEnvelopeLength: number

  constructor(given: WSManConnectionOptions) {
    const options = resolveServerUri(given)
    this.operationTimeout = options.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT
    if (!(this.operationTimeout > 0)) throw new InvalidArgumentError('operationTimeout must be positive')
    this.maxEnvelopeSize = options.maxEnvelopeSize ?? DEFAULT_MAX_ENVELOPE_SIZE
    this.#envelopeSizeSettled = options.maxEnvelopeSize !== undefined
    if (!(this.maxEnvelopeSize >= 8192))
      throw new InvalidArgumentError('maxEnvelopeSize must be at least 8192 bytes')
    this.#readTimeout = options.readTimeout ?? 30_000
    this.#maxResponseEnvelopeLength = positiveIntegerOption(
      'maxResponseEnvelopeLength',
      options.maxResponseEnvelopeLength ?? DEFAULT_MAX_RESPONSE_LENGTH,
    )
    this.receiveRetries = options.receiveRetries ?? 5
    if (!Number.isInteger(this.receiveRetries) || this.receiveRetries < 0)
      throw new InvalidArgumentError('receiveRetries must be an integer >= 0')
    this.reconnectWindow = options.reconnectWindow ?? 60_000
    if (!Number.isFinite(this.reconnectWindow) || this.reconnectWindow < 0)
      throw new InvalidArgumentError('reconnectWindow must be a number of milliseconds >= 0')
    kdcOption(options.kerberos?.kdc, 'kerberos.kdc') // checked here, not at the first KDC request
    this.configurationName = options.configurationName
    this.http = new WSManHttpClient({
      server: options.server,
      port: options.port,
      ssl: options.ssl,
      path: options.path,
      ca: caOption(options),
      rejectUnauthorized: options.rejectUnauthorized,
      checkServerName: options.checkServerName,
      tlsOptions: options.tlsOptions,
      certificate: options.certificate,
      proxy: options.proxy,
      connectTimeout: options.connectTimeout,
      retries: options.retries,
      readTimeout: this.#readTimeout,
      auth: authenticator(options),
      allowUnencryptedBasic: options.allowUnencryptedBasic,
      maxHeaderSize: options.maxHeaderSize,
      maxResponseSize: options.maxResponseSize,
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
    const xml = buildEnvelopeBytes(request, { ...this.#envelope, messageId })
    const operation = (request.operationTimeout ?? this.operationTimeout) * 1000
    const res = await this.http.post(xml, {
      lane: options.lane,
      signal: options.signal,
      timeout: options.timeout ?? operation + this.#readTimeout,
      action: request.action,
    })
    if (isBlank(res)) {
      throw new ProtocolError(
        `the WinRM server answered ${request.action} with HTTP ${res.status} and no body`,
      )
    }
    const parseOptions = { relatesTo: messageId, maxLength: this.#maxResponseEnvelopeLength }
    // UTF-8 (what WinRM sends) is read from the bytes: a Receive's output is never one long string
    const parsed =
      res.encoding === 'utf-8'
        ? parseResponseBytes(res.bytes, parseOptions)
        : parseResponse(res.body, parseOptions)
    if (parsed.kind === 'fault') throw faultToError(parsed.fault, { redact: res.redact })
    if (res.status !== 200 && parsed.kind !== 'timedOut') {
      throw new ProtocolError(`the WinRM server answered ${request.action} with HTTP ${res.status}`)
    }
    return parsed
  }

  /**
   * Sends any WS-Management action on this connection (its authentication, encryption and session)
   * and resolves with the answer's body: e.g. a CIM method (`…/Win32_Service/StopService` with a
   * `StopService_INPUT` body; see `psrp/wsman` `cimMethodRequest`), WS-Enumeration Release, or a
   * plug-in's own action. Every fault, `w:TimedOut` included, rejects with {@link WSManFaultError}.
   *
   * ```ts
   * const res = await conn.invoke(`${uri}/StopService`, uri, el('p:StopService_INPUT', { 'xmlns:p': uri }),
   *   { selectors: { Name: 'Spooler' } })
   * res.content // <p:StopService_OUTPUT> as a namespace-resolved element
   * ```
   */
  async invoke(
    action: string,
    resourceUri: string,
    body: XmlNode | undefined,
    options: WSManInvokeOptions = {},
  ): Promise<ActionResponse> {
    const request: CustomRequest = {
      action: 'custom',
      actionUri: action,
      resourceUri,
      ...(body === undefined ? {} : { body }),
      ...(options.selectors === undefined ? {} : { selectors: options.selectors }),
      ...(options.options === undefined ? {} : { options: options.options }),
      ...(options.operationTimeout === undefined ? {} : { operationTimeout: options.operationTimeout }),
    }
    const messageId = uuidUri(randomGuid())
    const xml = buildEnvelopeBytes(request, { ...this.#envelope, messageId })
    const operation = (request.operationTimeout ?? this.operationTimeout) * 1000
    const res = await this.http.post(xml, {
      lane: options.lane,
      signal: options.signal,
      timeout: options.timeout ?? operation + this.#readTimeout,
      action,
    })
    if (isBlank(res)) {
      throw new ProtocolError(`the WinRM server answered ${action} with HTTP ${res.status} and no body`)
    }
    const parsed = parseActionResponse(res.body, {
      relatesTo: messageId,
      maxLength: this.#maxResponseEnvelopeLength,
    })
    if (parsed.kind !== 'response') throw faultToError(parsed.fault, { redact: res.redact })
    if (res.status !== 200)
      throw new ProtocolError(`the WinRM server answered ${action} with HTTP ${res.status}`)
    return parsed
  }

  /**
   * The PSRP transport of one runspace pool on this endpoint (a WinRS shell of the PowerShell
   * resource URI). Used by {@link RunspacePool.open}.
   */
  createPsrpTransport(options: PsrpTransportRequest): PsrpTransport & PsrpDisconnectable {
    const configurationName = options.configurationName ?? this.configurationName
    return new WSManPsrpTransport({
      ...options,
      connection: this,
      ...(configurationName === undefined ? {} : { configurationName }),
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
    this.#envelopeSizeSettled = true
    return size
  }

  /**
   * Uses the server's envelope limit for the requests that follow, reading it at most once per
   * connection: {@link updateMaxEnvelopeSize}, unless `maxEnvelopeSize` was given as an option or the
   * size was read already. {@link Client} calls it before a file transfer, where fewer, larger
   * requests pay (a chunk fills one envelope: Windows' default of 500 KiB carries 3.3 times the data
   * of the 150 KiB assumed until then, in a third of the round trips).
   *
   * Windows lets only administrators read its WinRM configuration. A refusal (a WS-Man fault, such
   * as access denied) or a configuration without a usable size keeps the current size, and the
   * server is not asked again. Any other failure (the connection, authentication, a timeout)
   * rejects, and a later call asks again. Concurrent calls share one request, which the caller's
   * `signal` and `timeout` do not cancel: they end that caller's wait only. Resolves to the size in
   * use.
   */
  adoptServerEnvelopeSize(options: CallOptions = {}): Promise<number> {
    if (this.#envelopeSizeSettled) return Promise.resolve(this.maxEnvelopeSize)
    const what = 'reading the server envelope size'
    // aborted already: the same AbortError as a later abort, and no request
    if (options.signal?.aborted === true) return withCancel(new Promise<number>(() => {}), options, what)
    if (this.#envelopeSizeRead === undefined) {
      const read = this.updateMaxEnvelopeSize()
        .catch((e: unknown) => {
          if (!(e instanceof WSManFaultError || e instanceof ProtocolError)) throw e
          this.#envelopeSizeSettled = true // refused: the default stands
          return this.maxEnvelopeSize
        })
        .finally(() => {
          this.#envelopeSizeRead = undefined
        })
      read.catch(() => undefined) // the callers may all have stopped waiting
      this.#envelopeSizeRead = read
    }
    return withCancel(this.#envelopeSizeRead, options, what)
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

/** A body with nothing but whitespace, or nothing. */
function isBlank(res: HttpPostResponse): boolean {
  if (res.encoding !== 'utf-8') return res.body.trim() === ''
  const b = res.bytes
  const start = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0 // a BOM is not text
  return b.subarray(start).every((c) => isXmlSpace(c))
}
