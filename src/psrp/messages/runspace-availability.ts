/**
 * RUNSPACE_AVAILABILITY (MS-PSRP 2.2.2.8): Server answers SET_MAX/MIN_RUNSPACES (boolean) or GET_AVAILABLE_RUNSPACES (count).
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, required, requiredBigint } from './body.ts'

/** Fields of RUNSPACE_AVAILABILITY. */
export interface RunspaceAvailabilityMessage {
  /** Boolean success, or the number of available runspaces (Int64). */
  response: unknown
  /** Call id of the request. */
  callId: bigint
}

/** Encodes the RUNSPACE_AVAILABILITY body. */
export function encodeRunspaceAvailability(m: RunspaceAvailabilityMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['SetMinMaxRunspacesResponse', m.response])
  props.push(['ci', m.callId])
  return msObject(props)
}

/** Decodes the RUNSPACE_AVAILABILITY body. */
export function decodeRunspaceAvailability(value: unknown): RunspaceAvailabilityMessage {
  const o = bodyObject('RUNSPACE_AVAILABILITY', value)
  return {
    response: required('RUNSPACE_AVAILABILITY', o, 'SetMinMaxRunspacesResponse'),
    callId: requiredBigint('RUNSPACE_AVAILABILITY', o, 'ci'),
  }
}
