/**
 * Events the sans-IO client core yields from `ClientRunspacePool.nextEvent()`: one discriminated
 * union for pool and pipeline traffic.
 *
 * @module
 */
import type { ErrorRecord, InformationalRecord, InformationRecord, ProgressRecord } from '../clixml/index.ts'
import type { HostMethodName, UserEventMessage } from './messages/index.ts'
import type { PipelineStateName, RunspacePoolStateName } from './states.ts'

/** The stream a pipeline record belongs to. */
export type RecordStream = 'error' | 'warning' | 'verbose' | 'debug' | 'progress' | 'information'

export type { PsrpPayload } from '../internal/payload.ts'

/** Everything the core reports. */
export type PsrpEvent =
  | {
      readonly type: 'sessionCapability'
      readonly protocolVersion: string
      readonly psVersion: string
      readonly serializationVersion: string
    }
  | { readonly type: 'applicationPrivateData'; readonly data: Map<unknown, unknown> }
  | {
      readonly type: 'runspacePoolState'
      readonly state: RunspacePoolStateName
      readonly previous: RunspacePoolStateName
      readonly error: ErrorRecord | undefined
    }
  | { readonly type: 'runspacePoolInitData'; readonly minRunspaces: number; readonly maxRunspaces: number }
  | {
      /** Answer to setMax/MinRunspaces (boolean), getAvailableRunspaces (count) or resetRunspaceState (boolean). */
      readonly type: 'runspaceAvailability'
      readonly callId: bigint
      readonly response: unknown
    }
  | { readonly type: 'userEvent'; readonly event: UserEventMessage }
  | { readonly type: 'sessionKeyExchanged' }
  | { readonly type: 'publicKeyRequested' }
  | {
      readonly type: 'hostCall'
      /** The pipeline whose host is called, or undefined for the pool host. */
      readonly pipelineId: string | undefined
      readonly callId: bigint
      readonly methodId: number
      readonly methodName: HostMethodName | undefined
      readonly parameters: unknown[]
      /** True when the server expects a response (non-void methods). */
      readonly expectsResponse: boolean
    }
  | { readonly type: 'pipelineOutput'; readonly pipelineId: string; readonly value: unknown }
  | {
      readonly type: 'pipelineRecord'
      readonly pipelineId: string
      readonly stream: RecordStream
      readonly record: ErrorRecord | InformationalRecord | ProgressRecord | InformationRecord
    }
  | {
      /**
       * A record the server sent to the pool rather than to a pipeline (PID the nil GUID, MS-PSRP
       * 2.2.1), e.g. warnings of a proxying endpoint such as Exchange Online's.
       */
      readonly type: 'poolRecord'
      readonly stream: RecordStream
      readonly record: ErrorRecord | InformationalRecord | ProgressRecord | InformationRecord
    }
  | {
      readonly type: 'pipelineState'
      readonly pipelineId: string
      readonly state: PipelineStateName
      readonly error: ErrorRecord | undefined
    }
