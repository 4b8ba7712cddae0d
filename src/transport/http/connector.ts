/**
 * Opens the byte stream under one HTTP connection: TCP, optionally through an HTTP(S) proxy
 * (`CONNECT` tunnel for https targets; plain connection to the proxy for http targets, which then get
 * absolute-URI requests), then TLS for https targets. Every failure is classified for the retry policy.
 *
 * @module
 */
import { connect as netConnect, isIP, type Socket } from 'node:net'
import { connect as tlsConnect, type SecureContextOptions, type TLSSocket } from 'node:tls'
import { AuthenticationError, ProtocolError, TransportError, type PsrpError } from '../../errors.ts'
import type { ClientCertificate } from './auth.ts'
import { ResponseParser, serializeRequestHead } from './http1.ts'
import type { ProxyConfig } from './proxy.ts'
import { abortReason } from './signals.ts'

/** The server end of a connection. */
export interface Target {
  /** Host name or IP address (IPv6 without brackets). */
  readonly host: string
  /** TCP port. */
  readonly port: number
  /** True for HTTPS. */
  readonly tls: boolean
}

/** TLS settings for https targets. */
export interface TlsSettings {
  /** Trusted CA certificates (PEM); default: Node's bundled roots. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer> | undefined
  /** Validate the server certificate and host name. */
  readonly rejectUnauthorized: boolean
  /** Client certificate presented during the handshake. */
  readonly certificate?: ClientCertificate | undefined
  /**
   * Check that the certificate names the host (default true). False keeps the chain validation and
   * skips only the name check (PowerShell's `-SkipCNCheck`), for servers reached by an alias or IP.
   */
  readonly checkServerName?: boolean | undefined
  /** Further TLS settings passed to Node as given (`minVersion`, `ciphers`, `sigalgs`, `crl` …). */
  readonly secureContext?: SecureContextOptions | undefined
}

/** An opened stream plus what the HTTP layer needs to know about it. */
export interface OpenedSocket {
  /** The stream to write requests to (a TLS socket for https targets). */
  readonly socket: Socket | TLSSocket
  /** True when requests must use the absolute-URI form (http target through a forward proxy). */
  readonly absoluteForm: boolean
  /** DER of the server certificate (https targets). */
  readonly peerCertificate: Uint8Array | undefined
}

/** A classified failure of a connection attempt or an exchange (internal; never escapes the client). */
export class ConnectionFailure extends Error {
  /** The error to surface when not retried. */
  readonly error: PsrpError
  /** True when retrying on a new connection is safe (no response byte was received). */
  readonly retriable: boolean
  /** True when the failure was on a reused keep-alive connection (a free, immediate retry is allowed). */
  readonly stale: boolean
  /**
   * True when bytes of a request body had been written to the socket: the server may have received
   * and acted on the request, so sending it again could run it twice. Such a failure is retried only
   * for a request its sender declared replayable.
   */
  readonly requestSent: boolean

  constructor(error: PsrpError, retriable: boolean, stale = false, requestSent = false) {
    super(error.message)
    this.error = error
    this.retriable = retriable
    this.stale = stale
    this.requestSent = requestSent
  }
}

/** Socket error codes for which no request reached the server or was answered: safe to retry. */
const RETRIABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ETIMEDOUT',
  'EAI_AGAIN',
])

const TLS_REASONS: Readonly<Record<string, string>> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chain ends in an untrusted self-signed root',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not signed by a trusted CA',
  UNABLE_TO_GET_ISSUER_CERT: 'the issuer of the server certificate is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the issuer of the server certificate is not trusted',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not yet valid',
  CERT_REVOKED: 'the server certificate is revoked',
  CERT_SIGNATURE_FAILURE: 'the server certificate signature is invalid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not match the host name',
}

const SOCKET_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ECONNABORTED: 'connection aborted',
  EPIPE: 'connection closed while sending',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'temporary DNS failure',
}

/** The `code` of a Node system/TLS error, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** `host:port`, IPv6 in brackets. */
export function hostPort(host: string, port: number): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}

/**
 * Classifies a socket-level error. `where` names the peer (`127.0.0.1:5986`, `proxy http://p:3128`);
 * `responseStarted` makes every failure non-retriable; `requestSent` marks a failure after a request
 * body was written (see {@link ConnectionFailure.requestSent}).
 */
export function classifySocketError(
  err: unknown,
  where: string,
  options: { responseStarted?: boolean; reused?: boolean; requestSent?: boolean } = {},
): ConnectionFailure {
  const code = errorCode(err)
  const tlsReason = code === undefined ? undefined : TLS_REASONS[code]
  if (tlsReason !== undefined) {
    const hint =
      code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? '' : '; pass the issuing CA in the `ca` option to trust it'
    return new ConnectionFailure(
      new TransportError(`TLS certificate validation failed for ${where}: ${tlsReason} (${code})${hint}`, {
        cause: err,
      }),
      false,
    )
  }
  if (code !== undefined && code.startsWith('ERR_SSL_')) {
    return new ConnectionFailure(
      new TransportError(`TLS failure with ${where}: ${code}`, { cause: err }),
      false,
    )
  }
  const started = options.responseStarted ?? false
  const retriable = !started && code !== undefined && RETRIABLE_CODES.has(code)
  const reason = code === undefined ? undefined : SOCKET_REASONS[code]
  const what =
    code === undefined
      ? err instanceof Error
        ? err.message
        : String(err)
      : reason === undefined
        ? code
        : `${reason} (${code})`
  const message = started
    ? `connection to ${where} failed during the HTTP response: ${what}`
    : `connection to ${where} failed: ${what}`
  return new ConnectionFailure(
    new TransportError(message, { cause: err }),
    retriable,
    retriable && (options.reused ?? false),
    options.requestSent ?? false,
  )
}

/** Waits for `event` on `socket`, rejecting on `error`, early `close` or abort (the socket is then destroyed). */
function waitFor(socket: Socket, event: string, where: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      socket.off(event, onEvent)
      socket.off('error', onError)
      socket.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    const onEvent = (): void => {
      cleanup()
      resolve()
    }
    const onError = (err: Error): void => {
      cleanup()
      socket.destroy()
      reject(classifySocketError(err, where))
    }
    const onClose = (): void => {
      cleanup()
      const err = Object.assign(new Error('socket closed'), { code: 'ECONNRESET' })
      reject(classifySocketError(err, where))
    }
    const onAbort = (): void => {
      cleanup()
      socket.destroy()
      reject(abortReason(signal))
    }
    if (signal.aborted) {
      onAbort()
      return
    }
    socket.on(event, onEvent)
    socket.on('error', onError)
    socket.on('close', onClose)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Largest body of a proxy's refusal of `CONNECT` (never used: only its status is read). */
const MAX_CONNECT_BODY = 1024 * 1024

/** Sends `CONNECT host:port` on a proxy connection and waits for the 2xx. */
async function tunnel(
  socket: Socket,
  target: Target,
  proxy: ProxyConfig,
  maxHeaderSize: number | undefined,
  signal: AbortSignal,
): Promise<void> {
  const authority = hostPort(target.host, target.port)
  const headers: Array<[string, string]> = [
    ['Host', authority],
    ['Proxy-Connection', 'Keep-Alive'],
  ]
  if (proxy.authorization !== undefined) headers.push(['Proxy-Authorization', proxy.authorization])
  const where = `proxy ${proxy.display}`
  const parser = new ResponseParser({ connect: true, maxHeaderSize, maxBodySize: MAX_CONNECT_BODY })
  await new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off('data', onData)
      socket.off('end', onEnd)
      socket.off('error', onError)
      signal.removeEventListener('abort', onAbort)
    }
    const fail = (err: unknown): void => {
      cleanup()
      socket.destroy()
      reject(err)
    }
    const onData = (chunk: Buffer): void => {
      let res
      try {
        res = parser.push(chunk)
      } catch (err) {
        fail(new ConnectionFailure(err as PsrpError, false))
        return
      }
      if (res === undefined) return
      if (res.status >= 200 && res.status < 300) {
        cleanup()
        socket.pause()
        if (parser.rest.length > 0) socket.unshift(parser.rest)
        resolve()
      } else if (res.status === 407) {
        fail(
          new ConnectionFailure(
            new AuthenticationError(`${where} requires authentication (HTTP 407)`),
            false,
          ),
        )
      } else {
        const text = `${where} refused CONNECT to ${authority}: HTTP ${res.status} ${res.statusText}`.trim()
        fail(new ConnectionFailure(new TransportError(text), res.status === 502 || res.status === 503))
      }
    }
    const onEnd = (): void => {
      const err = Object.assign(new Error('proxy closed the connection'), { code: 'ECONNRESET' })
      fail(classifySocketError(err, where, { responseStarted: parser.bytesReceived > 0 }))
    }
    const onError = (err: Error): void => fail(classifySocketError(err, where))
    const onAbort = (): void => fail(abortReason(signal))
    if (signal.aborted) {
      onAbort()
      return
    }
    socket.on('data', onData)
    socket.on('end', onEnd)
    socket.on('error', onError)
    signal.addEventListener('abort', onAbort, { once: true })
    socket.write(serializeRequestHead({ method: 'CONNECT', target: authority, headers }))
  })
}

/** Opens TLS over `socket` (or to host:port when `socket` is undefined) and waits for the handshake. */
async function startTls(
  socket: Socket | undefined,
  host: string,
  port: number,
  settings: TlsSettings,
  where: string,
  signal: AbortSignal,
): Promise<TLSSocket> {
  const cert = settings.certificate
  const tls = tlsConnect({
    ...settings.secureContext,
    ...(socket === undefined ? { host, port } : { socket }),
    ...(settings.checkServerName === false ? { checkServerIdentity: () => undefined } : {}),
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(settings.ca === undefined ? {} : { ca: settings.ca as string | Buffer | Array<string | Buffer> }),
    rejectUnauthorized: settings.rejectUnauthorized,
    ...(cert === undefined
      ? {}
      : {
          cert: cert.cert,
          key: cert.key,
          ...(cert.passphrase === undefined ? {} : { passphrase: cert.passphrase }),
        }),
  })
  await waitFor(tls, 'secureConnect', where, signal).catch((err: unknown) => {
    tls.destroy()
    socket?.destroy()
    throw err
  })
  return tls
}

/** Everything {@link openSocket} needs. */
export interface ConnectOptions {
  /** The server. */
  readonly target: Target
  /** TLS settings (used for https targets). */
  readonly tls: TlsSettings
  /** The proxy to go through, if any. */
  readonly proxy: ProxyConfig | undefined
  /**
   * Largest head of the proxy's answer to `CONNECT`, in bytes (default 64 KiB, as for the server's
   * responses); a longer one fails the attempt with a {@link ProtocolError}.
   */
  readonly maxHeaderSize?: number | undefined
}

/**
 * Opens a connection to the target (through the proxy when given). Rejects with a
 * {@link ConnectionFailure} (classified socket/TLS/proxy failure) or the signal's reason.
 */
export async function openSocket(options: ConnectOptions, signal: AbortSignal): Promise<OpenedSocket> {
  const { target, proxy } = options
  const where = hostPort(target.host, target.port)
  if (proxy === undefined) {
    if (target.tls) {
      const tls = await startTls(undefined, target.host, target.port, options.tls, where, signal)
      return { socket: tls, absoluteForm: false, peerCertificate: peerCertificate(tls) }
    }
    const socket = netConnect({ host: target.host, port: target.port })
    await waitFor(socket, 'connect', where, signal)
    return { socket, absoluteForm: false, peerCertificate: undefined }
  }
  const proxyWhere = `proxy ${proxy.display}`
  let socket: Socket
  if (proxy.protocol === 'https:') {
    socket = await startTls(
      undefined,
      proxy.host,
      proxy.port,
      { rejectUnauthorized: true },
      proxyWhere,
      signal,
    )
  } else {
    socket = netConnect({ host: proxy.host, port: proxy.port })
    await waitFor(socket, 'connect', proxyWhere, signal)
  }
  if (!target.tls) return { socket, absoluteForm: true, peerCertificate: undefined }
  await tunnel(socket, target, proxy, options.maxHeaderSize, signal)
  const tls = await startTls(socket, target.host, target.port, options.tls, where, signal)
  return { socket: tls, absoluteForm: false, peerCertificate: peerCertificate(tls) }
}

function peerCertificate(tls: TLSSocket): Uint8Array | undefined {
  const raw = tls.getPeerCertificate(false)?.raw as Buffer | undefined
  return raw === undefined ? undefined : new Uint8Array(raw)
}

/** Builds a {@link ConnectionFailure} for bytes that break HTTP framing (never retried). */
export function protocolFailure(err: unknown, where: string): ConnectionFailure {
  const error =
    err instanceof ProtocolError
      ? new ProtocolError(`${err.message} (from ${where})`, { cause: err })
      : new TransportError(`invalid HTTP response from ${where}`, { cause: err })
  return new ConnectionFailure(error, false)
}
