/**
 * RUNSPACEPOOL_STATE (MS-PSRP 2.2.2.9): Server reports a runspace pool state change.
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, optional, requiredNumber } from './body.ts'

/** Fields of RUNSPACEPOOL_STATE. */
export interface RunspacePoolStateMessage {
  /** RunspacePoolState value (2.2.3.4). */
  state: number
  /** ErrorRecord explaining a Broken state. */
  error?: unknown
}

/** Encodes the RUNSPACEPOOL_STATE body. */
export function encodeRunspacePoolState(m: RunspacePoolStateMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['RunspaceState', m.state])
  if (m.error !== undefined) props.push(['ExceptionAsErrorRecord', m.error])
  return msObject(props)
}

/** Decodes the RUNSPACEPOOL_STATE body. */
export function decodeRunspacePoolState(value: unknown): RunspacePoolStateMessage {
  const o = bodyObject('RUNSPACEPOOL_STATE', value)
  const error = optional(o, 'ExceptionAsErrorRecord')
  return {
    state: requiredNumber('RUNSPACEPOOL_STATE', o, 'RunspaceState'),
    ...(error === undefined ? {} : { error }),
  }
}
