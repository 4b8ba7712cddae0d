/**
 * RUNSPACEPOOL_INIT_DATA (MS-PSRP 2.2.2.30): Server answers CONNECT_RUNSPACEPOOL with the pool limits.
 *
 * @module
 */
import { type PSObject } from '../../clixml/index.ts'
import { bodyObject, msObject, requiredNumber } from './body.ts'

/** Fields of RUNSPACEPOOL_INIT_DATA. */
export interface RunspacePoolInitDataMessage {
  /** Minimum runspaces. */
  minRunspaces: number
  /** Maximum runspaces. */
  maxRunspaces: number
}

/** Encodes the RUNSPACEPOOL_INIT_DATA body. */
export function encodeRunspacePoolInitData(m: RunspacePoolInitDataMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['MinRunspaces', m.minRunspaces])
  props.push(['MaxRunspaces', m.maxRunspaces])
  return msObject(props)
}

/** Decodes the RUNSPACEPOOL_INIT_DATA body. */
export function decodeRunspacePoolInitData(value: unknown): RunspacePoolInitDataMessage {
  const o = bodyObject('RUNSPACEPOOL_INIT_DATA', value)
  return {
    minRunspaces: requiredNumber('RUNSPACEPOOL_INIT_DATA', o, 'MinRunspaces'),
    maxRunspaces: requiredNumber('RUNSPACEPOOL_INIT_DATA', o, 'MaxRunspaces'),
  }
}
