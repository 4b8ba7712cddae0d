/**
 * PIPELINE_HOST_CALL (MS-PSRP 2.2.2.27): the server invokes a host method on the pipeline host. Layout shared with the other host Call messages in
 * `host-call-body.ts`.
 *
 * @module
 */
import type { PSObject } from '../../clixml/index.ts'
import { decodeHostCallBody, encodeHostCallBody, type HostCallMessage } from './host-call-body.ts'

/** Fields of PIPELINE_HOST_CALL. */
export type PipelineHostCallMessage = HostCallMessage

/** Encodes the PIPELINE_HOST_CALL body. */
export function encodePipelineHostCall(m: Omit<HostCallMessage, 'methodName'>): PSObject {
  return encodeHostCallBody(m)
}

/** Decodes the PIPELINE_HOST_CALL body. */
export function decodePipelineHostCall(value: unknown): PipelineHostCallMessage {
  return decodeHostCallBody('PIPELINE_HOST_CALL', value)
}
