/**
 * GET_AVAILABLE_RUNSPACES (MS-PSRP 2.2.2.11): Client asks how many runspaces are free.
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, requiredBigint } from './body.ts'

/** Fields of GET_AVAILABLE_RUNSPACES. */
export interface GetAvailableRunspacesMessage {
  /** Call id matched by RUNSPACE_AVAILABILITY. */
  callId: bigint
}

/** Encodes the GET_AVAILABLE_RUNSPACES body. */
export function encodeGetAvailableRunspaces(m: GetAvailableRunspacesMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['ci', m.callId])
  return msObject(props)
}

/** Decodes the GET_AVAILABLE_RUNSPACES body. */
export function decodeGetAvailableRunspaces(value: unknown): GetAvailableRunspacesMessage {
  const o = bodyObject('GET_AVAILABLE_RUNSPACES', value)
  return {
    callId: requiredBigint('GET_AVAILABLE_RUNSPACES', o, 'ci'),
  }
}
