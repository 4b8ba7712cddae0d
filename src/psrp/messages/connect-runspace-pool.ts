/**
 * CONNECT_RUNSPACEPOOL (MS-PSRP 2.2.2.29): the client connects to a disconnected runspace pool,
 * optionally changing its limits. Without limits the body is an empty string.
 *
 * @module
 */
import { PSObject } from '../../clixml/index.ts'
import { msObject, numberValue, optional } from './body.ts'

/** Fields of CONNECT_RUNSPACEPOOL. */
export interface ConnectRunspacePoolMessage {
  /** New minimum runspaces, if changing. */
  minRunspaces?: number | undefined
  /** New maximum runspaces, if changing. */
  maxRunspaces?: number | undefined
}

/** Encodes the CONNECT_RUNSPACEPOOL body. */
export function encodeConnectRunspacePool(m: ConnectRunspacePoolMessage): PSObject | string {
  const props: [string, unknown][] = []
  if (m.minRunspaces !== undefined) props.push(['MinRunspaces', m.minRunspaces])
  if (m.maxRunspaces !== undefined) props.push(['MaxRunspaces', m.maxRunspaces])
  return props.length === 0 ? '' : msObject(props)
}

/** Decodes the CONNECT_RUNSPACEPOOL body. */
export function decodeConnectRunspacePool(value: unknown): ConnectRunspacePoolMessage {
  if (!(value instanceof PSObject)) return {}
  const min = optional(value, 'MinRunspaces')
  const max = optional(value, 'MaxRunspaces')
  return {
    ...(min === undefined ? {} : { minRunspaces: numberValue('CONNECT_RUNSPACEPOOL', 'MinRunspaces', min) }),
    ...(max === undefined ? {} : { maxRunspaces: numberValue('CONNECT_RUNSPACEPOOL', 'MaxRunspaces', max) }),
  }
}
