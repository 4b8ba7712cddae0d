/**
 * OpenTelemetry spans of psrp, through `@opentelemetry/api` only: without a registered SDK every call
 * here is the API's no-op. With one (e.g. `NodeTracerProvider` or `BasicTracerProvider` plus an
 * async-hooks context manager), psrp emits one span per connect, authentication handshake, pool
 * open, pipeline, WS-Man request, copy/fetch and fleet host, each opened in the active context so that
 * the work one call does forms one tree.
 *
 * Attribute names follow the OpenTelemetry semantic conventions where one exists (`server.address`,
 * `http.response.status_code`, `error.type`, …) and are `psrp.*` otherwise. No attribute ever holds a
 * secret: passwords, tokens, keys, script text and parameter values are never recorded (a script is
 * recorded as the prefix of its SHA-256, see {@link scriptHash}).
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api'
import { PsrpError } from '../errors.ts'

/** The instrumentation scope name of every psrp span. */
export const TRACER_NAME = 'psrp'
/** The instrumentation scope version: the package version (a unit test keeps it equal to package.json's). */
export const TRACER_VERSION = '0.1.0'

/** Span names. */
export const SpanName = {
  /**
   * Opening the byte stream to a peer: TCP (and TLS, proxy) for WS-Man, the SSH handshake and login,
   * the socket of a named pipe.
   */
  connect: 'psrp.connect',
  /** A WS-Man authentication handshake on its own empty-body requests (mechanisms that encrypt messages). */
  auth: 'psrp.auth',
  /** Starting the local `pwsh -s` process. */
  processStart: 'psrp.process.start',
  /** Opening (or connecting to) a runspace pool. */
  poolOpen: 'psrp.pool.open',
  /** One pipeline, from its start to its last output. */
  pipeline: 'psrp.pipeline',
  /** One WS-Management HTTP request, retries included. */
  wsmanRequest: 'wsman.request',
  /** Copying a local file to the remote host. */
  copy: 'psrp.copy',
  /** Fetching a remote file to the local host. */
  fetch: 'psrp.fetch',
  /** The work of one host in a fleet run. */
  fleetHost: 'psrp.fleet.host',
} as const

/** Attribute names: OpenTelemetry semantic conventions where they exist, `psrp.*` otherwise. */
export const Attr = {
  /**
   * Host name or address of the peer, as configured; the socket or pipe path of a named pipe
   * (semantic convention).
   */
  serverAddress: 'server.address',
  /** Port of the peer (semantic convention). */
  serverPort: 'server.port',
  /** `tcp` for WS-Man and SSH, `pipe` for a local process or named pipe (semantic convention). */
  networkTransport: 'network.transport',
  /** `POST` for WS-Man requests (semantic convention). */
  httpRequestMethod: 'http.request.method',
  /** The final HTTP status of a WS-Man request (semantic convention). */
  httpResponseStatusCode: 'http.response.status_code',
  /** How many times a WS-Man request was sent again, for any reason (semantic convention). */
  httpResendCount: 'http.request.resend_count',
  /** The error code of a failed operation (semantic convention `error.type`; psrp puts its code there). */
  errorType: 'error.type',
  /** The {@link PsrpError} code of a failed operation. */
  errorCode: 'psrp.error.code',
  /** Which psrp transport: `wsman`, `ssh`, `process`, `named-pipe`. */
  transport: 'psrp.transport',
  /** The authentication mechanism name (`Basic`, `Negotiate`, `password`, `publickey`, …), never credentials. */
  authMechanism: 'psrp.auth.mechanism',
  /** The mechanism a `Negotiate` handshake settled on (`NTLM`, `Kerberos`). */
  authNegotiatedMechanism: 'psrp.auth.negotiated_mechanism',
  /** True when the WS-Man connection uses TLS. */
  tls: 'psrp.tls',
  /** The WS-Man action (`create`, `command`, `receive`, … or the action URI of a custom request). */
  wsmanAction: 'psrp.wsman.action',
  /** Bytes of the SOAP envelope sent (UTF-8, before message encryption). */
  wsmanRequestSize: 'psrp.wsman.request.size',
  /** Bytes of the SOAP envelope received, in the body's encoding (after message decryption). */
  wsmanResponseSize: 'psrp.wsman.response.size',
  /** The runspace pool id. */
  poolId: 'psrp.pool.id',
  /** The pipeline id. */
  pipelineId: 'psrp.pipeline.id',
  /** Number of commands in the pipeline. */
  pipelineCommands: 'psrp.pipeline.commands',
  /** Comma-separated command names of the pipeline (never parameter values; scripts appear as `<script>`). */
  pipelineCommandNames: 'psrp.pipeline.command_names',
  /** SHA-256 prefix (16 hex digits) of the pipeline's script texts, see {@link scriptHash}. */
  scriptSha256: 'psrp.script.sha256',
  /** Output objects the pipeline delivered. */
  pipelineOutputCount: 'psrp.pipeline.output_count',
  /** The pipeline's final state (`Completed`, `Failed`, `Stopped`). */
  pipelineState: 'psrp.pipeline.state',
  /** Bytes copied or fetched. */
  transferBytes: 'psrp.transfer.bytes',
  /** Files copied or fetched. */
  transferFiles: 'psrp.transfer.files',
  /** SHA-256 (hex) of the file copied or fetched, when known. */
  transferSha256: 'psrp.transfer.sha256',
  /** The process id of a started local process. */
  processPid: 'process.pid',
  /** The target of a fleet host as given (host name, `user@host:port` without password, …). */
  fleetTarget: 'psrp.fleet.target',
  /** True when the fleet host's work succeeded. */
  fleetOk: 'psrp.fleet.ok',
  /** The fleet host's attempt count (1 + retries used). */
  fleetAttempts: 'psrp.fleet.attempts',
} as const

/** The tracer of psrp (a no-op until an OpenTelemetry SDK registers a tracer provider). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME, TRACER_VERSION)
}

/** `server.address` and `server.port` of a peer (the port only when known). */
export function hostAttributes(address: string, port: number | undefined): Attributes {
  return port === undefined
    ? { [Attr.serverAddress]: address }
    : { [Attr.serverAddress]: address, [Attr.serverPort]: port }
}

/**
 * The first 16 hex digits of the SHA-256 of `texts` joined by NUL characters: identifies the same
 * script across runs without recording it.
 */
export function scriptHash(texts: readonly string[]): string {
  return createHash('sha256').update(texts.join('\0'), 'utf8').digest('hex').slice(0, 16)
}

/**
 * Marks `span` as failed by `err`: status ERROR with the error's message (psrp messages never hold
 * secrets), `error.type` and `psrp.error.code` set to the {@link PsrpError} code (or the error's class
 * name), and an `exception` event with type and message.
 */
export function recordError(span: Span, err: unknown): void {
  const code = err instanceof PsrpError ? err.code : err instanceof Error ? err.name : 'Error'
  const message = err instanceof Error ? err.message : String(err)
  span.setStatus({ code: SpanStatusCode.ERROR, message })
  span.setAttribute(Attr.errorType, code)
  if (err instanceof PsrpError) span.setAttribute(Attr.errorCode, err.code)
  span.recordException({ name: err instanceof Error ? err.name : 'Error', message })
}

/** Options of {@link withSpan}. */
export interface WithSpanOptions {
  /** Span kind; default `INTERNAL` (`CLIENT` for a request to a peer). */
  kind?: SpanKind | undefined
}

/**
 * Runs `fn` inside a new active span named `name` (a child of the active span, if any) and ends the
 * span when `fn` settles; a rejection is recorded with {@link recordError} and rethrown. `fn` may set
 * more attributes on the span it receives.
 */
export function withSpan<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
  options: WithSpanOptions = {},
): Promise<T> {
  return tracer().startActiveSpan(
    name,
    { attributes, kind: options.kind ?? SpanKind.INTERNAL },
    async (span) => {
      try {
        return await fn(span)
      } catch (err) {
        recordError(span, err)
        throw err
      } finally {
        span.end()
      }
    },
  )
}

export { SpanKind }
export type { Span }
