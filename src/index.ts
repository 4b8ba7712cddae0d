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
export type { OutOfProcTransport } from './transport/outofproc-stream.ts'
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
