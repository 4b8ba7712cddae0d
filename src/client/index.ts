/**
 * The async public API: runspace pools, PowerShell pipelines and hosts.
 *
 * @module
 */
export {
  RunspacePool,
  type RunspacePoolOptions,
  type CallOptions,
  type RunspacePoolEvents,
  type PsrpConnection,
} from './runspace-pool.ts'
export {
  PowerShell,
  type PSDataStreams,
  type PipelineInput,
  type InvokeOptions,
  type PipelineOptions,
  type ApartmentStateName,
  type PowerShellEvents,
} from './powershell.ts'
export {
  DefaultHost,
  hostInfoFor,
  type PSHost,
  type PSHostUserInterface,
  type PSHostRawUserInterface,
  type DefaultHostCallbacks,
  type HostWrite,
  type CredentialAnswer,
  type Awaitable,
} from './host.ts'
export {
  WinRSShell,
  WinRSProcess,
  type WinRSShellOptions,
  type WinRSSpawnOptions,
  type WinRSResult,
} from './winrs.ts'
export {
  Client,
  type ClientTarget,
  type LocalTarget,
  type ClientOptions,
  type ClientWSManOptions,
  type RunPsOptions,
  type PoolSelection,
  type ClientTransferOptions,
  type RunPsTextOptions,
  type RunPsResult,
  type RunPsTextResult,
  type RunCmdOptions,
  type RunCmdResult,
  type CmdProcess,
} from './client.ts'
export {
  copyToRemote,
  fetchFromRemote,
  type TransferOptions,
  type TransferEngineOptions,
  type TransferProgress,
  type TransferResult,
} from './file-transfer.ts'
export {
  runOnHosts,
  type FleetTarget,
  type FleetWork,
  type FleetWorkContext,
  type FleetPhase,
  type RunOnHostsOptions,
  type HostResult,
  type HostSuccess,
  type HostFailure,
  type HostResultBase,
} from './fleet.ts'
export {
  parseFleetTarget,
  parseInventory,
  type FleetTargetKind,
  type FleetTargetSpec,
} from './fleet-target.ts'
export {
  CimSession,
  type CimSessionOptions,
  type CimCallOptions,
  type CimEnumerateOptions,
  type CimInvokeOptions,
} from './cim-session.ts'
export { clixmlStderrToText, ClixmlStderrFilter } from './clixml-stderr.ts'
