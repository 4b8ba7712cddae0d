/**
 * INIT_RUNSPACEPOOL (MS-PSRP 2.2.2.2): Client asks the server to open a runspace pool.
 *
 * @module
 */
import { type PSObject, HostInfo, ApartmentState, PSThreadOptions, type PSEnum } from '../../clixml/index.ts'
import { asTyped, bodyObject, msObject, required, requiredNumber } from './body.ts'

/** Fields of INIT_RUNSPACEPOOL. */
export interface InitRunspacePoolMessage {
  /** Minimum runspaces. */
  minRunspaces: number
  /** Maximum runspaces. */
  maxRunspaces: number
  /** PSThreadOptions value (2.2.3.6). */
  threadOptions: number | PSEnum
  /** ApartmentState value (2.2.3.7). */
  apartmentState: number | PSEnum
  /** HostInfo object (2.2.3.14). */
  hostInfo: unknown
  /** PSPrimitiveDictionary of application arguments, or null. */
  applicationArguments: unknown
}

/** Encodes the INIT_RUNSPACEPOOL body. */
export function encodeInitRunspacePool(m: InitRunspacePoolMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['MinRunspaces', m.minRunspaces])
  props.push(['MaxRunspaces', m.maxRunspaces])
  props.push([
    'PSThreadOptions',
    typeof m.threadOptions === 'number' ? PSThreadOptions.of(m.threadOptions) : m.threadOptions,
  ])
  props.push([
    'ApartmentState',
    typeof m.apartmentState === 'number' ? ApartmentState.of(m.apartmentState) : m.apartmentState,
  ])
  props.push(['HostInfo', m.hostInfo])
  props.push(['ApplicationArguments', m.applicationArguments])
  return msObject(props)
}

/** Decodes the INIT_RUNSPACEPOOL body. */
export function decodeInitRunspacePool(value: unknown): InitRunspacePoolMessage {
  const o = bodyObject('INIT_RUNSPACEPOOL', value)
  return {
    minRunspaces: requiredNumber('INIT_RUNSPACEPOOL', o, 'MinRunspaces'),
    maxRunspaces: requiredNumber('INIT_RUNSPACEPOOL', o, 'MaxRunspaces'),
    threadOptions: requiredNumber('INIT_RUNSPACEPOOL', o, 'PSThreadOptions'),
    apartmentState: requiredNumber('INIT_RUNSPACEPOOL', o, 'ApartmentState'),
    hostInfo: asTyped(HostInfo, required('INIT_RUNSPACEPOOL', o, 'HostInfo'), 'INIT_RUNSPACEPOOL.HostInfo'),
    applicationArguments: required('INIT_RUNSPACEPOOL', o, 'ApplicationArguments'),
  }
}
