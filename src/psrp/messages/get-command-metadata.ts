/**
 * GET_COMMAND_METADATA (MS-PSRP 2.2.2.14): the client asks for metadata of commands matching
 * names, command types and namespaces. The server answers on a pipeline with a CommandMetadataCount
 * object followed by one CommandMetadata object per command.
 *
 * @module
 */
import type { PSObject } from '../../clixml/index.ts'
import { CommandTypes } from '../../clixml/index.ts'
import { bodyObject, msObject, numberValue, optional } from './body.ts'

/** Fields of GET_COMMAND_METADATA. */
export interface GetCommandMetadataMessage {
  /** Name patterns (wildcards allowed). */
  names: string[]
  /** CommandTypes flags (2.2.3.19). */
  commandType: number
  /** Module namespaces to search, if any. */
  namespace?: string[] | undefined
  /** Arguments used to resolve dynamic parameters, if any. */
  argumentList?: unknown[] | undefined
}

/** Encodes the GET_COMMAND_METADATA body. */
export function encodeGetCommandMetadata(m: GetCommandMetadataMessage): PSObject {
  const list = (xs: unknown[] | undefined): unknown => (xs === undefined ? null : xs)
  return msObject([
    ['Name', m.names],
    ['CommandType', CommandTypes.of(m.commandType)],
    ['Namespace', list(m.namespace)],
    ['ArgumentList', list(m.argumentList)],
  ])
}

/** Decodes the GET_COMMAND_METADATA body. */
export function decodeGetCommandMetadata(value: unknown): GetCommandMetadataMessage {
  const o = bodyObject('GET_COMMAND_METADATA', value)
  const names = optional(o, 'Name')
  const ns = optional(o, 'Namespace')
  const args = optional(o, 'ArgumentList')
  return {
    names: Array.isArray(names) ? names.map(String) : [],
    commandType: numberValue(
      'GET_COMMAND_METADATA',
      'CommandType',
      optional(o, 'CommandType') ?? CommandTypes.values.All,
    ),
    ...(Array.isArray(ns) ? { namespace: ns.map(String) } : {}),
    ...(Array.isArray(args) ? { argumentList: args } : {}),
  }
}
