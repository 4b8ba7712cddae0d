/**
 * Runspace pool and pipeline states (MS-PSRP 2.2.3.4 RunspacePoolState, 2.2.3.5 PSInvocationState).
 *
 * @module
 */

/** RunspacePoolState names by value (2.2.3.4). */
export const RUNSPACE_POOL_STATES = [
  'BeforeOpen',
  'Opening',
  'Opened',
  'Closed',
  'Closing',
  'Broken',
  'NegotiationSent',
  'NegotiationSucceeded',
  'Connecting',
  'Disconnected',
] as const

/** A runspace pool state. */
export type RunspacePoolStateName = (typeof RUNSPACE_POOL_STATES)[number]

/** PSInvocationState names by value (2.2.3.5). */
export const PIPELINE_STATES = [
  'NotStarted',
  'Running',
  'Stopping',
  'Stopped',
  'Completed',
  'Failed',
  'Disconnected',
] as const

/** A pipeline state. */
export type PipelineStateName = (typeof PIPELINE_STATES)[number]

/** The name of a RunspacePoolState value, or undefined. */
export function runspacePoolStateName(value: number): RunspacePoolStateName | undefined {
  return RUNSPACE_POOL_STATES[value]
}

/** The name of a PSInvocationState value, or undefined. */
export function pipelineStateName(value: number): PipelineStateName | undefined {
  return PIPELINE_STATES[value]
}

/** True for the states a pipeline never leaves. */
export function isTerminalPipelineState(state: PipelineStateName): boolean {
  return state === 'Completed' || state === 'Failed' || state === 'Stopped'
}

/** The protocol versions this client speaks (MS-PSRP 2.2.3.x SESSION_CAPABILITY). */
export const SUPPORTED_PROTOCOL_VERSIONS = ['2.0', '2.1', '2.2', '2.3', '2.4'] as const

/** A supported protocol version. */
export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number]

/** Compares two `major.minor` versions. */
export function compareVersions(a: string, b: string): number {
  const [a1, a2] = a.split('.').map(Number) as [number, number]
  const [b1, b2] = b.split('.').map(Number) as [number, number]
  return a1 - b1 || (a2 ?? 0) - (b2 ?? 0)
}
