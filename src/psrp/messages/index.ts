/**
 * The 31 PSRP message bodies (MS-PSRP 2.2.2), one file each, and a dispatcher that encodes typed
 * fields to CLIXML and decodes CLIXML to typed fields by message type.
 *
 * @module
 */
import { deserialize, serialize, type DeserializeOptions, type SerializeOptions } from '../../clixml/index.ts'
import { serializeParts } from '../../clixml/serialize.ts'
import { ProtocolError, ClixmlError } from '../../errors.ts'
import { MessageType, messageTypeName, type MessageTypeName } from '../wire/message-type.ts'

import {
  decodeSessionCapability,
  encodeSessionCapability,
  type SessionCapabilityMessage,
} from './session-capability.ts'
import {
  decodeInitRunspacePool,
  encodeInitRunspacePool,
  type InitRunspacePoolMessage,
} from './init-runspace-pool.ts'
import { decodePublicKey, encodePublicKey, type PublicKeyMessage } from './public-key.ts'
import {
  decodeEncryptedSessionKey,
  encodeEncryptedSessionKey,
  type EncryptedSessionKeyMessage,
} from './encrypted-session-key.ts'
import {
  decodePublicKeyRequest,
  encodePublicKeyRequest,
  type PublicKeyRequestMessage,
} from './public-key-request.ts'
import {
  decodeConnectRunspacePool,
  encodeConnectRunspacePool,
  type ConnectRunspacePoolMessage,
} from './connect-runspace-pool.ts'
import {
  decodeSetMaxRunspaces,
  encodeSetMaxRunspaces,
  type SetMaxRunspacesMessage,
} from './set-max-runspaces.ts'
import {
  decodeSetMinRunspaces,
  encodeSetMinRunspaces,
  type SetMinRunspacesMessage,
} from './set-min-runspaces.ts'
import {
  decodeRunspaceAvailability,
  encodeRunspaceAvailability,
  type RunspaceAvailabilityMessage,
} from './runspace-availability.ts'
import {
  decodeRunspacePoolState,
  encodeRunspacePoolState,
  type RunspacePoolStateMessage,
} from './runspace-pool-state.ts'
import { decodeCreatePipeline, encodeCreatePipeline, type CreatePipelineMessage } from './create-pipeline.ts'
import { createPipelineFromTemplate } from './create-pipeline-template.ts'
import {
  decodeGetAvailableRunspaces,
  encodeGetAvailableRunspaces,
  type GetAvailableRunspacesMessage,
} from './get-available-runspaces.ts'
import { decodeUserEvent, encodeUserEvent, type UserEventMessage } from './user-event.ts'
import {
  decodeApplicationPrivateData,
  encodeApplicationPrivateData,
  type ApplicationPrivateDataMessage,
} from './application-private-data.ts'
import {
  decodeGetCommandMetadata,
  encodeGetCommandMetadata,
  type GetCommandMetadataMessage,
} from './get-command-metadata.ts'
import {
  decodeRunspacePoolInitData,
  encodeRunspacePoolInitData,
  type RunspacePoolInitDataMessage,
} from './runspace-pool-init-data.ts'
import {
  decodeResetRunspaceState,
  encodeResetRunspaceState,
  type ResetRunspaceStateMessage,
} from './reset-runspace-state.ts'
import {
  decodeRunspacePoolHostCall,
  encodeRunspacePoolHostCall,
  type RunspacePoolHostCallMessage,
} from './runspace-pool-host-call.ts'
import {
  decodeRunspacePoolHostResponse,
  encodeRunspacePoolHostResponse,
  type RunspacePoolHostResponseMessage,
} from './runspace-pool-host-response.ts'
import { decodePipelineInput, encodePipelineInput, type PipelineInputMessage } from './pipeline-input.ts'
import {
  decodeEndOfPipelineInput,
  encodeEndOfPipelineInput,
  type EndOfPipelineInputMessage,
} from './end-of-pipeline-input.ts'
import { decodePipelineOutput, encodePipelineOutput, type PipelineOutputMessage } from './pipeline-output.ts'
import { decodeErrorRecord, encodeErrorRecord, type ErrorRecordMessage } from './error-record.ts'
import { decodePipelineState, encodePipelineState, type PipelineStateMessage } from './pipeline-state.ts'
import { decodeDebugRecord, encodeDebugRecord, type DebugRecordMessage } from './debug-record.ts'
import { decodeVerboseRecord, encodeVerboseRecord, type VerboseRecordMessage } from './verbose-record.ts'
import { decodeWarningRecord, encodeWarningRecord, type WarningRecordMessage } from './warning-record.ts'
import { decodeProgressRecord, encodeProgressRecord, type ProgressRecordMessage } from './progress-record.ts'
import {
  decodeInformationRecord,
  encodeInformationRecord,
  type InformationRecordMessage,
} from './information-record.ts'
import {
  decodePipelineHostCall,
  encodePipelineHostCall,
  type PipelineHostCallMessage,
} from './pipeline-host-call.ts'
import {
  decodePipelineHostResponse,
  encodePipelineHostResponse,
  type PipelineHostResponseMessage,
} from './pipeline-host-response.ts'

export * from './session-capability.ts'
export * from './init-runspace-pool.ts'
export * from './public-key.ts'
export * from './encrypted-session-key.ts'
export * from './public-key-request.ts'
export * from './connect-runspace-pool.ts'
export * from './set-max-runspaces.ts'
export * from './set-min-runspaces.ts'
export * from './runspace-availability.ts'
export * from './runspace-pool-state.ts'
export * from './create-pipeline.ts'
export * from './get-available-runspaces.ts'
export * from './user-event.ts'
export * from './application-private-data.ts'
export * from './get-command-metadata.ts'
export * from './runspace-pool-init-data.ts'
export * from './reset-runspace-state.ts'
export * from './runspace-pool-host-call.ts'
export * from './runspace-pool-host-response.ts'
export * from './pipeline-input.ts'
export * from './end-of-pipeline-input.ts'
export * from './pipeline-output.ts'
export * from './error-record.ts'
export * from './pipeline-state.ts'
export * from './debug-record.ts'
export * from './verbose-record.ts'
export * from './warning-record.ts'
export * from './progress-record.ts'
export * from './information-record.ts'
export * from './pipeline-host-call.ts'
export * from './pipeline-host-response.ts'
export * from './host-method.ts'
export { hostMethodEnum, type HostCallMessage, type HostResponseMessage } from './host-call-body.ts'

/** Typed fields of every message type. */
export interface MessageFieldsMap {
  SESSION_CAPABILITY: SessionCapabilityMessage
  INIT_RUNSPACEPOOL: InitRunspacePoolMessage
  PUBLIC_KEY: PublicKeyMessage
  ENCRYPTED_SESSION_KEY: EncryptedSessionKeyMessage
  PUBLIC_KEY_REQUEST: PublicKeyRequestMessage
  CONNECT_RUNSPACEPOOL: ConnectRunspacePoolMessage
  SET_MAX_RUNSPACES: SetMaxRunspacesMessage
  SET_MIN_RUNSPACES: SetMinRunspacesMessage
  RUNSPACE_AVAILABILITY: RunspaceAvailabilityMessage
  RUNSPACEPOOL_STATE: RunspacePoolStateMessage
  CREATE_PIPELINE: CreatePipelineMessage
  GET_AVAILABLE_RUNSPACES: GetAvailableRunspacesMessage
  USER_EVENT: UserEventMessage
  APPLICATION_PRIVATE_DATA: ApplicationPrivateDataMessage
  GET_COMMAND_METADATA: GetCommandMetadataMessage
  RUNSPACEPOOL_INIT_DATA: RunspacePoolInitDataMessage
  RESET_RUNSPACE_STATE: ResetRunspaceStateMessage
  RUNSPACEPOOL_HOST_CALL: RunspacePoolHostCallMessage
  RUNSPACEPOOL_HOST_RESPONSE: RunspacePoolHostResponseMessage
  PIPELINE_INPUT: PipelineInputMessage
  END_OF_PIPELINE_INPUT: EndOfPipelineInputMessage
  PIPELINE_OUTPUT: PipelineOutputMessage
  ERROR_RECORD: ErrorRecordMessage
  PIPELINE_STATE: PipelineStateMessage
  DEBUG_RECORD: DebugRecordMessage
  VERBOSE_RECORD: VerboseRecordMessage
  WARNING_RECORD: WarningRecordMessage
  PROGRESS_RECORD: ProgressRecordMessage
  INFORMATION_RECORD: InformationRecordMessage
  PIPELINE_HOST_CALL: PipelineHostCallMessage
  PIPELINE_HOST_RESPONSE: PipelineHostResponseMessage
}

/** A decoded message body: its type name, typed fields and the deserialized CLIXML value. */
export type DecodedMessageBody = {
  [K in MessageTypeName]: { type: K; fields: MessageFieldsMap[K]; body: unknown }
}[MessageTypeName]

type Codec = { encode: (m: never) => unknown; decode: (v: unknown) => unknown }

const codecs: { [K in MessageTypeName]: Codec } = {
  SESSION_CAPABILITY: { encode: encodeSessionCapability, decode: decodeSessionCapability },
  INIT_RUNSPACEPOOL: { encode: encodeInitRunspacePool, decode: decodeInitRunspacePool },
  PUBLIC_KEY: { encode: encodePublicKey, decode: decodePublicKey },
  ENCRYPTED_SESSION_KEY: { encode: encodeEncryptedSessionKey, decode: decodeEncryptedSessionKey },
  PUBLIC_KEY_REQUEST: { encode: encodePublicKeyRequest, decode: decodePublicKeyRequest },
  CONNECT_RUNSPACEPOOL: { encode: encodeConnectRunspacePool, decode: decodeConnectRunspacePool },
  SET_MAX_RUNSPACES: { encode: encodeSetMaxRunspaces, decode: decodeSetMaxRunspaces },
  SET_MIN_RUNSPACES: { encode: encodeSetMinRunspaces, decode: decodeSetMinRunspaces },
  RUNSPACE_AVAILABILITY: { encode: encodeRunspaceAvailability, decode: decodeRunspaceAvailability },
  RUNSPACEPOOL_STATE: { encode: encodeRunspacePoolState, decode: decodeRunspacePoolState },
  CREATE_PIPELINE: { encode: encodeCreatePipeline, decode: decodeCreatePipeline },
  GET_AVAILABLE_RUNSPACES: { encode: encodeGetAvailableRunspaces, decode: decodeGetAvailableRunspaces },
  USER_EVENT: { encode: encodeUserEvent, decode: decodeUserEvent },
  APPLICATION_PRIVATE_DATA: { encode: encodeApplicationPrivateData, decode: decodeApplicationPrivateData },
  GET_COMMAND_METADATA: { encode: encodeGetCommandMetadata, decode: decodeGetCommandMetadata },
  RUNSPACEPOOL_INIT_DATA: { encode: encodeRunspacePoolInitData, decode: decodeRunspacePoolInitData },
  RESET_RUNSPACE_STATE: { encode: encodeResetRunspaceState, decode: decodeResetRunspaceState },
  RUNSPACEPOOL_HOST_CALL: { encode: encodeRunspacePoolHostCall, decode: decodeRunspacePoolHostCall },
  RUNSPACEPOOL_HOST_RESPONSE: {
    encode: encodeRunspacePoolHostResponse,
    decode: decodeRunspacePoolHostResponse,
  },
  PIPELINE_INPUT: { encode: encodePipelineInput, decode: decodePipelineInput },
  END_OF_PIPELINE_INPUT: { encode: encodeEndOfPipelineInput, decode: decodeEndOfPipelineInput },
  PIPELINE_OUTPUT: { encode: encodePipelineOutput, decode: decodePipelineOutput },
  ERROR_RECORD: { encode: encodeErrorRecord, decode: decodeErrorRecord },
  PIPELINE_STATE: { encode: encodePipelineState, decode: decodePipelineState },
  DEBUG_RECORD: { encode: encodeDebugRecord, decode: decodeDebugRecord },
  VERBOSE_RECORD: { encode: encodeVerboseRecord, decode: decodeVerboseRecord },
  WARNING_RECORD: { encode: encodeWarningRecord, decode: decodeWarningRecord },
  PROGRESS_RECORD: { encode: encodeProgressRecord, decode: decodeProgressRecord },
  INFORMATION_RECORD: { encode: encodeInformationRecord, decode: decodeInformationRecord },
  PIPELINE_HOST_CALL: { encode: encodePipelineHostCall, decode: decodePipelineHostCall },
  PIPELINE_HOST_RESPONSE: { encode: encodePipelineHostResponse, decode: decodePipelineHostResponse },
}

/**
 * Encodes typed fields to the CLIXML body of a message. END_OF_PIPELINE_INPUT has an empty body.
 */
export function encodeMessageBody<K extends MessageTypeName>(
  type: K,
  fields: MessageFieldsMap[K],
  options: SerializeOptions = {},
): string {
  const value = (codecs[type].encode as (m: MessageFieldsMap[K]) => unknown)(fields)
  return value === undefined ? '' : serialize(value, options)
}

/**
 * {@link encodeMessageBody} in pieces, the `data` of `encodeMessage`: strings, and large byte arrays
 * (64 KiB or more) that stand for their base64 text, so that their text is never one large string.
 */
export function encodeMessageBodyParts<K extends MessageTypeName>(
  type: K,
  fields: MessageFieldsMap[K],
  options: SerializeOptions = {},
): readonly (string | Uint8Array)[] {
  if (type === 'CREATE_PIPELINE') {
    const text = createPipelineFromTemplate(fields as CreatePipelineMessage, options)
    if (text !== undefined) return [text]
  }
  const value = (codecs[type].encode as (m: MessageFieldsMap[K]) => unknown)(fields)
  return value === undefined ? [] : serializeParts(value, options)
}

/**
 * Decodes the CLIXML body of a message of the given numeric type. Unknown types and malformed
 * bodies give a {@link ProtocolError} (a {@link ClixmlError} cause for bad XML).
 */
export function decodeMessageBody(
  type: number,
  data: string,
  options: DeserializeOptions = {},
): DecodedMessageBody {
  const name = messageTypeName(type)
  if (name === undefined)
    throw new ProtocolError(`unknown message type 0x${type.toString(16).padStart(8, '0')}`)
  let body: unknown
  if (data.trim() !== '') {
    try {
      body = deserialize(data, options)
    } catch (err) {
      if (err instanceof ClixmlError) throw new ProtocolError(`${name} body: ${err.message}`, { cause: err })
      throw err
    }
  }
  const fields = codecs[name].decode(body)
  return { type: name, fields, body } as DecodedMessageBody
}

/** All message type names, in the specification's order. */
export const ALL_MESSAGE_TYPES = Object.keys(MessageType) as MessageTypeName[]
