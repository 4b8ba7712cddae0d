/**
 * SET_MAX_RUNSPACES (MS-PSRP 2.2.2.6): Client changes the maximum number of runspaces.
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, requiredBigint, requiredNumber } from './body.ts'

/** Fields of SET_MAX_RUNSPACES. */
export interface SetMaxRunspacesMessage {
  /** New maximum. */
  maxRunspaces: number
  /** Call id matched by RUNSPACE_AVAILABILITY. */
  callId: bigint
}

/** Encodes the SET_MAX_RUNSPACES body. */
export function encodeSetMaxRunspaces(m: SetMaxRunspacesMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['MaxRunspaces', m.maxRunspaces])
  props.push(['ci', m.callId])
  return msObject(props)
}

/** Decodes the SET_MAX_RUNSPACES body. */
export function decodeSetMaxRunspaces(value: unknown): SetMaxRunspacesMessage {
  const o = bodyObject('SET_MAX_RUNSPACES', value)
  return {
    maxRunspaces: requiredNumber('SET_MAX_RUNSPACES', o, 'MaxRunspaces'),
    callId: requiredBigint('SET_MAX_RUNSPACES', o, 'ci'),
  }
}
