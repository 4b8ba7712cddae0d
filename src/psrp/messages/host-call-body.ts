/**
 * The body shared by RUNSPACEPOOL_HOST_CALL and PIPELINE_HOST_CALL (MS-PSRP 2.2.2.15, 2.2.2.27):
 * call id `ci`, method id `mi` (a RemoteHostMethodId enum) and parameters `mp` (a list).
 *
 * @module
 */
import type { PSObject } from '../../clixml/index.ts'
import { PSEnum } from '../../clixml/index.ts'
import { ProtocolError } from '../../errors.ts'
import { bodyObject, msObject, numberValue, required, requiredBigint } from './body.ts'
import { hostMethodName, type HostMethodName } from './host-method.ts'

/** Fields of a host call. */
export interface HostCallMessage {
  /** Call id; the response carries the same. */
  callId: bigint
  /** Method id (2.2.3.17). */
  methodId: number
  /** Method name, when known. */
  methodName: HostMethodName | undefined
  /** Method parameters in order. */
  parameters: unknown[]
}

const METHOD_ID_TYPE = 'System.Management.Automation.Remoting.RemoteHostMethodId'

/** The `mi` enum object for a method. */
export function hostMethodEnum(methodId: number): PSEnum {
  return PSEnum.create(METHOD_ID_TYPE, methodId, hostMethodName(methodId) ?? String(methodId))
}

/** Encodes a host call body. */
export function encodeHostCallBody(m: Omit<HostCallMessage, 'methodName'>): PSObject {
  return msObject([
    ['ci', m.callId],
    ['mi', hostMethodEnum(m.methodId)],
    ['mp', m.parameters],
  ])
}

/** Decodes a host call body. */
export function decodeHostCallBody(type: string, value: unknown): HostCallMessage {
  const o = bodyObject(type, value)
  const methodId = numberValue(type, 'mi', required(type, o, 'mi'))
  if (!Number.isInteger(methodId)) throw new ProtocolError(`${type}.mi is not a method id`)
  const mp = o.get('mp')
  return {
    callId: requiredBigint(type, o, 'ci'),
    methodId,
    methodName: hostMethodName(methodId),
    parameters: Array.isArray(mp) ? mp : [],
  }
}

/** Fields of a host response. */
export interface HostResponseMessage {
  /** Call id of the call answered. */
  callId: bigint
  /** Method id of the call answered. */
  methodId: number
  /** Return value (`mr`), absent for errors. */
  result?: unknown
  /** Exception (`me`, an ErrorRecord) when the call failed. */
  error?: unknown
}

/** Encodes a host response body. */
export function encodeHostResponseBody(m: HostResponseMessage): PSObject {
  const props: [string, unknown][] = []
  if (m.error !== undefined) props.push(['me', m.error])
  else props.push(['mr', m.result ?? null])
  props.push(['ci', m.callId], ['mi', hostMethodEnum(m.methodId)])
  return msObject(props)
}

/** Decodes a host response body. */
export function decodeHostResponseBody(type: string, value: unknown): HostResponseMessage {
  const o = bodyObject(type, value)
  const methodId = numberValue(type, 'mi', required(type, o, 'mi'))
  return {
    callId: requiredBigint(type, o, 'ci'),
    methodId,
    ...(o.has('mr') ? { result: o.get('mr') } : {}),
    ...(o.has('me') ? { error: o.get('me') } : {}),
  }
}
