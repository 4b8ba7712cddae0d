/**
 * PIPELINE_HOST_RESPONSE (MS-PSRP 2.2.2.28): the client answers a pipeline host call. Layout shared with the other host Response messages in
 * `host-call-body.ts`.
 *
 * @module
 */
import type { PSObject } from '../../clixml/index.ts'
import { decodeHostResponseBody, encodeHostResponseBody, type HostResponseMessage } from './host-call-body.ts'

/** Fields of PIPELINE_HOST_RESPONSE. */
export type PipelineHostResponseMessage = HostResponseMessage

/** Encodes the PIPELINE_HOST_RESPONSE body. */
export function encodePipelineHostResponse(m: HostResponseMessage): PSObject {
  return encodeHostResponseBody(m)
}

/** Decodes the PIPELINE_HOST_RESPONSE body. */
export function decodePipelineHostResponse(value: unknown): PipelineHostResponseMessage {
  return decodeHostResponseBody('PIPELINE_HOST_RESPONSE', value)
}
