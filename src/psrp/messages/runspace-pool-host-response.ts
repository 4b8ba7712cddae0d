/**
 * RUNSPACEPOOL_HOST_RESPONSE (MS-PSRP 2.2.2.16): the client answers a runspace pool host call. Layout shared with the other host Response messages in
 * `host-call-body.ts`.
 *
 * @module
 */
import type { PSObject } from '../../clixml/index.ts'
import { decodeHostResponseBody, encodeHostResponseBody, type HostResponseMessage } from './host-call-body.ts'

/** Fields of RUNSPACEPOOL_HOST_RESPONSE. */
export type RunspacePoolHostResponseMessage = HostResponseMessage

/** Encodes the RUNSPACEPOOL_HOST_RESPONSE body. */
export function encodeRunspacePoolHostResponse(m: HostResponseMessage): PSObject {
  return encodeHostResponseBody(m)
}

/** Decodes the RUNSPACEPOOL_HOST_RESPONSE body. */
export function decodeRunspacePoolHostResponse(value: unknown): RunspacePoolHostResponseMessage {
  return decodeHostResponseBody('RUNSPACEPOOL_HOST_RESPONSE', value)
}
