/**
 * SET_MIN_RUNSPACES (MS-PSRP 2.2.2.7): Client changes the minimum number of runspaces.
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, requiredBigint, requiredNumber } from './body.ts'

/** Fields of SET_MIN_RUNSPACES. */
export interface SetMinRunspacesMessage {
  /** New minimum. */
  minRunspaces: number
  /** Call id matched by RUNSPACE_AVAILABILITY. */
  callId: bigint
}

/** Encodes the SET_MIN_RUNSPACES body. */
export function encodeSetMinRunspaces(m: SetMinRunspacesMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['MinRunspaces', m.minRunspaces])
  props.push(['ci', m.callId])
  return msObject(props)
}

/** Decodes the SET_MIN_RUNSPACES body. */
export function decodeSetMinRunspaces(value: unknown): SetMinRunspacesMessage {
  const o = bodyObject('SET_MIN_RUNSPACES', value)
  return {
    minRunspaces: requiredNumber('SET_MIN_RUNSPACES', o, 'MinRunspaces'),
    callId: requiredBigint('SET_MIN_RUNSPACES', o, 'ci'),
  }
}
