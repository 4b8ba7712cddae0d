/**
 * RESET_RUNSPACE_STATE (MS-PSRP 2.2.2.31): Client resets the runspace state (protocol 2.3+).
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, requiredBigint } from './body.ts'

/** Fields of RESET_RUNSPACE_STATE. */
export interface ResetRunspaceStateMessage {
  /** Call id matched by RUNSPACE_AVAILABILITY. */
  callId: bigint
}

/** Encodes the RESET_RUNSPACE_STATE body. */
export function encodeResetRunspaceState(m: ResetRunspaceStateMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['ci', m.callId])
  return msObject(props)
}

/** Decodes the RESET_RUNSPACE_STATE body. */
export function decodeResetRunspaceState(value: unknown): ResetRunspaceStateMessage {
  const o = bodyObject('RESET_RUNSPACE_STATE', value)
  return {
    callId: requiredBigint('RESET_RUNSPACE_STATE', o, 'ci'),
  }
}
