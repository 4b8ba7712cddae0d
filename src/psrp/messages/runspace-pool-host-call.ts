/**
 * RUNSPACEPOOL_HOST_CALL (MS-PSRP 2.2.2.15): the server invokes a host method on the runspace pool host. Layout shared with the other host Call messages in
 * `host-call-body.ts`.
 *
 * @module
 */
import type { PSObject } from '../../clixml/index.ts'
import { decodeHostCallBody, encodeHostCallBody, type HostCallMessage } from './host-call-body.ts'

/** Fields of RUNSPACEPOOL_HOST_CALL. */
export type RunspacePoolHostCallMessage = HostCallMessage

/** Encodes the RUNSPACEPOOL_HOST_CALL body. */
export function encodeRunspacePoolHostCall(m: Omit<HostCallMessage, 'methodName'>): PSObject {
  return encodeHostCallBody(m)
}

/** Decodes the RUNSPACEPOOL_HOST_CALL body. */
export function decodeRunspacePoolHostCall(value: unknown): RunspacePoolHostCallMessage {
  return decodeHostCallBody('RUNSPACEPOOL_HOST_CALL', value)
}
