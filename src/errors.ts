/**
 * Typed errors for psrp. Every error the library throws is a {@link PsrpError} with a `code` from the
 * closed {@link PsrpErrorCode} union, so callers can `switch (err.code)`. Subclasses carry the protocol
 * facts that belong to their kind. Secrets never appear in messages.
 *
 * @module
 */

/** Every error code psrp uses. */
export type PsrpErrorCode =
  | 'ERR_CLIXML'
  | 'ERR_PROTOCOL'
  | 'ERR_INVALID_STATE'
  | 'ERR_TRANSPORT'
  | 'ERR_TIMEOUT'
  | 'ERR_ABORTED'
  | 'ERR_AUTHENTICATION'
  | 'ERR_HOST_KEY'
  | 'ERR_WSMAN_FAULT'
  | 'ERR_PIPELINE_FAILED'
  | 'ERR_PIPELINE_STOPPED'
  | 'ERR_HOST'
  | 'ERR_NOT_SUPPORTED'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_CRYPTO'
  | 'ERR_FILE_TRANSFER'

/** Options common to every psrp error. */
export interface PsrpErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown
}

/** Base class of every error psrp throws. */
export class PsrpError extends Error {
  /** Machine-readable code; stable across releases. */
  readonly code: PsrpErrorCode

  constructor(code: PsrpErrorCode, message: string, options?: PsrpErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.name = new.target.name
  }
}

/** Where a {@link ClixmlError} happened in the input. */
export interface ClixmlErrorOptions extends PsrpErrorOptions {
  /** Character offset into the XML text. */
  offset?: number
  /** Element path such as `Obj/MS/I32[N=MinRunspaces]`. */
  path?: string
}

/** Malformed or unsupported CLIXML, or a value that cannot be serialized. */
export class ClixmlError extends PsrpError {
  readonly offset: number | undefined
  readonly path: string | undefined
  constructor(message: string, options?: ClixmlErrorOptions) {
    const where = [
      options?.path === undefined ? undefined : `at ${options.path}`,
      options?.offset === undefined ? undefined : `offset ${options.offset}`,
    ]
      .filter((s) => s !== undefined)
      .join(', ')
    super('ERR_CLIXML', where === '' ? message : `${message} (${where})`, options)
    this.offset = options?.offset
    this.path = options?.path
  }
}

/** Which side broke the protocol. */
export type ProtocolSide = 'local' | 'remote'

/** A peer (or we) violated MS-PSRP / OutOfProc / WS-Man framing rules. */
export class ProtocolError extends PsrpError {
  /** `remote` when the received data was bad, `local` when we were asked to produce something invalid. */
  readonly side: ProtocolSide
  constructor(message: string, options?: PsrpErrorOptions & { side?: ProtocolSide }) {
    super('ERR_PROTOCOL', message, options)
    this.side = options?.side ?? 'remote'
  }
}

/** An operation was attempted in a state that does not allow it. */
export class InvalidStateError extends PsrpError {
  /** The state the object was in. */
  readonly state: string
  /** The action that was refused. */
  readonly action: string
  constructor(action: string, state: string, message?: string) {
    super('ERR_INVALID_STATE', message ?? `cannot ${action} while in state ${state}`)
    this.state = state
    this.action = action
  }
}

/** The byte stream under the protocol failed: socket reset, process exit, SSH channel closed. */
export class TransportError extends PsrpError {
  constructor(message: string, options?: PsrpErrorOptions) {
    super('ERR_TRANSPORT', message, options)
  }
}

/**
 * A runspace pool over WinRM lost its connection and could not reach its shell again within its
 * reconnection window (`WSManConnectionOptions.reconnectWindow`). The shell may still run on the
 * server until its idle timeout: reattach with `RunspacePool.connect`. `cause` is the last failure.
 */
export class ConnectionLostError extends TransportError {
  /** The reconnection window, in milliseconds. */
  readonly windowMs: number
  constructor(message: string, windowMs: number, options?: PsrpErrorOptions) {
    super(message, options)
    this.windowMs = windowMs
  }
}

/** A wait exceeded its timeout. */
export class TimeoutError extends PsrpError {
  /** The timeout in milliseconds. */
  readonly timeoutMs: number
  constructor(message: string, timeoutMs: number, options?: PsrpErrorOptions) {
    super('ERR_TIMEOUT', message, options)
    this.timeoutMs = timeoutMs
  }
}

/** An operation was cancelled through an AbortSignal. */
export class AbortError extends PsrpError {
  constructor(message = 'the operation was aborted', options?: PsrpErrorOptions) {
    super('ERR_ABORTED', message, options)
  }
}

/** Authentication failed (wrong credentials, unsupported mechanism, KDC unreachable …). */
export class AuthenticationError extends PsrpError {
  /**
   * @param options.code `ERR_AUTHENTICATION` (the default), or `ERR_HOST_KEY` for a server that
   * could not prove who it is (an SSH host key that failed verification).
   */
  constructor(
    message: string,
    options?: PsrpErrorOptions & { code?: 'ERR_AUTHENTICATION' | 'ERR_HOST_KEY' },
  ) {
    super(options?.code ?? 'ERR_AUTHENTICATION', message, options)
  }
}

/** The SSH server's host key, as given to a `HostKeyPolicy` `verify` callback and in {@link HostKeyVerificationError}. */
export interface SSHHostKey {
  /** The host name checked (`HostKeyAlias` if configured, else the host connected to). */
  readonly host: string
  /** The port connected to. */
  readonly port: number
  /** e.g. `ssh-ed25519`. */
  readonly keyType: string
  /** The public key blob. */
  readonly key: Uint8Array
  /** `SHA256:…` as `ssh-keygen -l` prints it. */
  readonly fingerprint: string
  /** `MD5:aa:bb:…`. */
  readonly md5Fingerprint: string
}

/** Why a host key was refused. */
export type HostKeyProblem = 'unknown' | 'changed' | 'revoked' | 'rejected'

/**
 * The server's host key failed verification (a kind of {@link AuthenticationError}: the server could
 * not prove who it is), with code `ERR_HOST_KEY`. `problem` says how; `hostKey.fingerprint` is the key
 * it presented.
 */
export class HostKeyVerificationError extends AuthenticationError {
  /** `unknown` (not listed), `changed` (another key listed: possible attack), `revoked`, `rejected` (by policy). */
  readonly problem: HostKeyProblem
  /** The key the server presented. */
  readonly hostKey: SSHHostKey
  /** The known_hosts files consulted (empty for fingerprint/callback policies). */
  readonly knownHostsFiles: readonly string[]
  constructor(
    message: string,
    problem: HostKeyProblem,
    hostKey: SSHHostKey,
    knownHostsFiles: readonly string[],
    options?: PsrpErrorOptions,
  ) {
    super(message, { ...options, code: 'ERR_HOST_KEY' })
    this.problem = problem
    this.hostKey = hostKey
    this.knownHostsFiles = knownHostsFiles
  }
}

/**
 * The RFC 4120 §7.5.9 codes of a KDC refusing the user's credentials themselves:
 * KDC_ERR_CLIENT_REVOKED (18), KDC_ERR_KEY_EXPIRED (23), KDC_ERR_PREAUTH_FAILED (24).
 */
const KRB_CREDENTIALS_REJECTED: ReadonlySet<number> = new Set([18, 23, 24])

/**
 * A Kerberos protocol error reported by a KDC or acceptor (KRB-ERROR, RFC 4120 §5.9.1), or a reply
 * the user's key does not decrypt: an {@link AuthenticationError} (`ERR_AUTHENTICATION`) with the
 * Kerberos error code and its name.
 */
export class KerberosError extends AuthenticationError {
  /** The RFC 4120 §7.5.9 error code. */
  readonly krbErrorCode: number
  /** Its name, e.g. `KDC_ERR_PREAUTH_FAILED`. */
  readonly krbErrorName: string
  /**
   * @param krbErrorCode the RFC 4120 §7.5.9 error code
   * @param krbErrorName its RFC 4120 name, e.g. `KDC_ERR_PREAUTH_FAILED`
   */
  constructor(message: string, krbErrorCode: number, krbErrorName: string, options?: PsrpErrorOptions) {
    super(message, options)
    this.krbErrorCode = krbErrorCode
    this.krbErrorName = krbErrorName
  }

  /**
   * The KDC refused the user's credentials themselves (wrong password or key, account disabled or
   * locked, password expired): another mechanism with the same credentials would fail as well.
   */
  get credentialsRejected(): boolean {
    return KRB_CREDENTIALS_REJECTED.has(this.krbErrorCode)
  }
}

/** Details of a WS-Management fault (MS-WSMV 2.2.4.x). */
export interface WSManFaultDetails {
  code?: string
  subcode?: string
  reason?: string
  machine?: string
  /** WMI / provider fault code (e.g. 2150858793 for OperationTimeout). */
  wsmanFaultCode?: number
  providerDetail?: string
}

/** The server answered with a WS-Management SOAP fault. */
export class WSManFaultError extends PsrpError {
  readonly fault: WSManFaultDetails
  constructor(message: string, fault: WSManFaultDetails, options?: PsrpErrorOptions) {
    super('ERR_WSMAN_FAULT', message, options)
    this.fault = fault
  }
}

/** A pipeline ended in state Failed; `errorRecord` is the terminating error as sent by the server. */
export class PipelineFailedError extends PsrpError {
  /** The deserialized ErrorRecord (a `clixml` ErrorRecord instance when known). */
  readonly errorRecord: unknown
  constructor(message: string, errorRecord: unknown, options?: PsrpErrorOptions) {
    super('ERR_PIPELINE_FAILED', message, options)
    this.errorRecord = errorRecord
  }
}

/** A pipeline was stopped (by `stop()`, an AbortSignal or the server). */
export class PipelineStoppedError extends PsrpError {
  constructor(message = 'the pipeline was stopped', options?: PsrpErrorOptions) {
    super('ERR_PIPELINE_STOPPED', message, options)
  }
}

/** A host call could not be answered (e.g. a prompt without a callback). */
export class HostError extends PsrpError {
  constructor(message: string, options?: PsrpErrorOptions) {
    super('ERR_HOST', message, options)
  }
}

/** The transport or peer does not support the requested feature. */
export class NotSupportedError extends PsrpError {
  constructor(message: string, options?: PsrpErrorOptions) {
    super('ERR_NOT_SUPPORTED', message, options)
  }
}

/** A caller passed an invalid argument. */
export class InvalidArgumentError extends PsrpError {
  constructor(message: string, options?: PsrpErrorOptions) {
    super('ERR_INVALID_ARGUMENT', message, options)
  }
}

/** A cryptographic operation failed (bad key, bad padding, bad MAC). */
export class CryptoError extends PsrpError {
  constructor(message: string, options?: PsrpErrorOptions) {
    super('ERR_CRYPTO', message, options)
  }
}

/** Why a {@link FileTransferError} was thrown. */
export type FileTransferFailure =
  /** The destination file exists and `overwrite` was not set; nothing was replaced. */
  | 'exists'
  /** The source does not exist (the remote path of a fetch). */
  | 'not-found'
  /** The bytes received do not match the SHA-256 of the bytes sent; the destination is untouched. */
  | 'checksum'
  /**
   * Reading or writing a file failed on either side (access denied, a missing directory, a full disk,
   * a path of the wrong kind); the message names the path, `cause` is Node's file-system error (local)
   * or the server's {@link PipelineFailedError} (remote).
   */
  | 'io'

/**
 * A file transfer (`Client.copy` / `Client.fetch`) refused or failed: every failure of the transfer
 * itself has this code, `reason` tells which. When the server detected it, `cause` is the
 * {@link PipelineFailedError} carrying PowerShell's ErrorRecord; a local file-system failure keeps
 * Node's error as `cause`. Cancelling gives {@link AbortError}/{@link TimeoutError}, a broken
 * connection {@link TransportError}, as for any call.
 */
export class FileTransferError extends PsrpError {
  /** What went wrong. */
  readonly reason: FileTransferFailure
  /**
   * The path concerned: the destination for `exists`, the source for `not-found`, the file for
   * `checksum`, the file that could not be read or written for `io`.
   */
  readonly path: string
  constructor(message: string, reason: FileTransferFailure, path: string, options?: PsrpErrorOptions) {
    super('ERR_FILE_TRANSFER', message, options)
    this.reason = reason
    this.path = path
  }
}

/** Union of every concrete psrp error class. */
export type AnyPsrpError =
  | ClixmlError
  | ProtocolError
  | InvalidStateError
  | TransportError
  | TimeoutError
  | AbortError
  | AuthenticationError
  | HostKeyVerificationError
  | KerberosError
  | WSManFaultError
  | PipelineFailedError
  | PipelineStoppedError
  | HostError
  | NotSupportedError
  | InvalidArgumentError
  | CryptoError
  | FileTransferError

/** True when `value` is a psrp error (optionally with the given code). */
export function isPsrpError(value: unknown, code?: PsrpErrorCode): value is PsrpError {
  return value instanceof PsrpError && (code === undefined || value.code === code)
}
