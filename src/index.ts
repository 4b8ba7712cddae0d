/**
 * psrp: the PowerShell Remoting Protocol for Node.js.
 *
 * ```ts
 * import { RunspacePool, PowerShell, ProcessConnection } from 'psrp'
 * await using pool = await RunspacePool.open(new ProcessConnection())
 * const out = await new PowerShell(pool).addScript('1..3').invoke()
 * ```
 *
 * @module
 */
export * from './errors.ts'
export * from './client/index.ts'
export { ProcessConnection, findPwsh, type ProcessConnectionOptions } from './transport/process.ts'
export { DEFAULT_GC_GEN0_BUDGET, DEFAULT_GC_LARGE_OBJECT_THRESHOLD } from './transport/pwsh-gc.ts'
export type {
  PsrpTransport,
  PsrpTransportEvent,
  PsrpDisconnectable,
  PsrpPayload,
  PsrpTransportFactory,
  PsrpTransportRequest,
} from './transport/psrp-transport.ts'
export type { CallOptions } from './transport/cancel.ts'
export {
  WSManConnection,
  type WSManConnectionOptions,
  type WSManAuth,
  type WSManKerberosOptions,
  type WSManRequestOptions,
  type WSManInvokeOptions,
} from './transport/wsman-connection.ts'
// what an HttpAuthenticator implementation (a custom WinRM HTTP auth scheme) gets and returns
export {
  BasicAuth,
  CertificateAuth,
  type HttpAuthenticator,
  type AuthSession,
  type AuthConnectionContext,
  type AuthTransportInfo,
  type AuthResponse,
  type WrappedBody,
  type ClientCertificate,
  type MaybePromise,
  type RetryOptions,
  type HttpHeaders,
} from './transport/http/index.ts'
export type { MessageEncryption } from './transport/http/gss-auth.ts'
export {
  PSObject,
  baseObject,
  PSEnum,
  PSSecureString,
  PSDateTime,
  PSTimeSpan,
  PSCredential,
  ErrorRecord,
  InformationRecord,
  InformationalRecord,
  ProgressRecord,
  serialize,
  deserialize,
} from './clixml/index.ts'
// the common base of the OutOfProc transports (ProcessConnection, SSHConnection, NamedPipeConnection):
// a type only, so their inherited members and options are named in the declarations
export type {
  OutOfProcStreamTransport,
  OutOfProcStreamTransportOptions,
  OutOfProcConnector,
  OutOfProcConnectContext,
  OutOfProcStreams,
  OutOfProcTransportState,
} from './transport/outofproc-stream.ts'
// SSH and named-pipe transports (PowerShell 7's SSH remoting and Enter-PSHostProcess, in-process)
export {
  SSHConnection,
  type SSHConnectionOptions,
  type SSHConnectionInfo,
  type SSHAuthMethod,
  type HostKeyPolicy,
  type KeyboardInteractiveChallenge,
  type KeyboardInteractiveHandler,
} from './transport/ssh.ts'
export {
  NamedPipeConnection,
  findPipeForPid,
  pipePath,
  type NamedPipeConnectionOptions,
  type NamedPipeTarget,
} from './transport/named-pipe.ts'
