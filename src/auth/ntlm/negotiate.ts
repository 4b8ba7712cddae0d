/**
 * NEGOTIATE_MESSAGE (MS-NLMP 2.2.1.1), the client's first token:
 *
 * ```
 *  0 Signature "NTLMSSP\0"      8 MessageType = 1      12 NegotiateFlags
 * 16 DomainNameFields (8)      24 WorkstationFields (8)
 * 32 Version (8, when NTLMSSP_NEGOTIATE_VERSION)       40 Payload (OEM strings)
 * ```
 *
 * @module
 */
import { ByteWriter } from '../../internal/bytes.ts'
import { NegotiateFlags, hasFlag } from './flags.ts'
import { type NtlmVersion, VERSION_SIZE, encodeVersion, readVersion } from './version.ts'
import {
  MessageType,
  NTLMSSP_SIGNATURE,
  fieldBytes,
  fromOem,
  oem,
  openMessage,
  readField,
  writeField,
} from './wire.ts'

/** A NEGOTIATE_MESSAGE. */
export interface NegotiateMessage {
  /** NegotiateFlags as sent. */
  readonly flags: number
  /** DomainName (OEM), when NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED. */
  readonly domain?: string
  /** Workstation (OEM), when NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED. */
  readonly workstation?: string
  /** Version, when NTLMSSP_NEGOTIATE_VERSION. */
  readonly version?: NtlmVersion
}

const HEADER_SIZE = 32 + VERSION_SIZE

/**
 * Encodes a NEGOTIATE_MESSAGE. The supplied-name flags are set from whether `domain` and
 * `workstation` are given; NTLMSSP_NEGOTIATE_VERSION from whether `version` is given. The Version
 * field is always present (zero when absent), as Windows does.
 */
export function encodeNegotiate(message: NegotiateMessage): Uint8Array {
  const domain = message.domain === undefined ? new Uint8Array(0) : oem(message.domain)
  const workstation = message.workstation === undefined ? new Uint8Array(0) : oem(message.workstation)
  let flags = message.flags
  flags =
    message.domain === undefined
      ? flags & ~NegotiateFlags.NEGOTIATE_OEM_DOMAIN_SUPPLIED
      : flags | NegotiateFlags.NEGOTIATE_OEM_DOMAIN_SUPPLIED
  flags =
    message.workstation === undefined
      ? flags & ~NegotiateFlags.NEGOTIATE_OEM_WORKSTATION_SUPPLIED
      : flags | NegotiateFlags.NEGOTIATE_OEM_WORKSTATION_SUPPLIED
  flags =
    message.version === undefined
      ? flags & ~NegotiateFlags.NEGOTIATE_VERSION
      : flags | NegotiateFlags.NEGOTIATE_VERSION
  const writer = new ByteWriter(HEADER_SIZE + domain.length + workstation.length)
  writer
    .bytes(NTLMSSP_SIGNATURE)
    .u32le(MessageType.NEGOTIATE)
    .u32le(flags >>> 0)
  writeField(writer, domain.length, domain.length === 0 ? 0 : HEADER_SIZE)
  writeField(writer, workstation.length, workstation.length === 0 ? 0 : HEADER_SIZE + domain.length)
  writer.bytes(message.version === undefined ? new Uint8Array(VERSION_SIZE) : encodeVersion(message.version))
  writer.bytes(domain).bytes(workstation)
  return writer.finish()
}

/** Decodes a NEGOTIATE_MESSAGE; malformed input is a `ProtocolError`. */
export function decodeNegotiate(bytes: Uint8Array): NegotiateMessage {
  const what = 'NEGOTIATE_MESSAGE'
  const reader = openMessage(bytes, MessageType.NEGOTIATE, what)
  const flags = reader.u32le()
  const domainField = readField(reader)
  const workstationField = readField(reader)
  const hasVersion = hasFlag(flags, NegotiateFlags.NEGOTIATE_VERSION) && reader.remaining >= VERSION_SIZE
  const version = hasVersion ? readVersion(reader) : undefined
  const headerEnd = reader.offset
  const out: { -readonly [K in keyof NegotiateMessage]: NegotiateMessage[K] } = { flags }
  if (hasFlag(flags, NegotiateFlags.NEGOTIATE_OEM_DOMAIN_SUPPLIED)) {
    out.domain = fromOem(fieldBytes(bytes, domainField, what, 'DomainName', headerEnd))
  }
  if (hasFlag(flags, NegotiateFlags.NEGOTIATE_OEM_WORKSTATION_SUPPLIED)) {
    out.workstation = fromOem(fieldBytes(bytes, workstationField, what, 'Workstation', headerEnd))
  }
  if (version !== undefined) out.version = version
  return out
}
