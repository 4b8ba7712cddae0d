/**
 * SESSION_CAPABILITY (MS-PSRP 2.2.2.1): Announces protocol, PowerShell and serialization versions; first message each way.
 *
 * @module
 */
import { type PSObject, PSVersion } from '../../clixml/index.ts'
import { bodyObject, msObject, optional, required } from './body.ts'

/** Fields of SESSION_CAPABILITY. */
export interface SessionCapabilityMessage {
  /** PSRP protocol version, e.g. `2.3`. */
  protocolVersion: string
  /** PowerShell version (always `2.0` on the wire). */
  psVersion: string
  /** Serialization version (`1.1.0.1`). */
  serializationVersion: string
  /** Optional serialized client time zone. */
  timeZone?: Uint8Array | undefined
}

/** Encodes the SESSION_CAPABILITY body. */
export function encodeSessionCapability(m: SessionCapabilityMessage): PSObject {
  const props: [string, unknown][] = []
  props.push(['protocolversion', new PSVersion(m.protocolVersion)])
  props.push(['PSVersion', new PSVersion(m.psVersion)])
  props.push(['SerializationVersion', new PSVersion(m.serializationVersion)])
  if (m.timeZone !== undefined) props.push(['TimeZone', m.timeZone])
  return msObject(props)
}

/** Decodes the SESSION_CAPABILITY body. */
export function decodeSessionCapability(value: unknown): SessionCapabilityMessage {
  const o = bodyObject('SESSION_CAPABILITY', value)
  const timeZone = optional(o, 'TimeZone')
  return {
    protocolVersion: String(required('SESSION_CAPABILITY', o, 'protocolversion')),
    psVersion: String(required('SESSION_CAPABILITY', o, 'PSVersion')),
    serializationVersion: String(required('SESSION_CAPABILITY', o, 'SerializationVersion')),
    ...(timeZone instanceof Uint8Array ? { timeZone } : {}),
  }
}
