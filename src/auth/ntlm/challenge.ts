/**
 * CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2), the server's answer to NEGOTIATE_MESSAGE:
 *
 * ```
 *  0 Signature "NTLMSSP\0"   8 MessageType = 2   12 TargetNameFields (8)   20 NegotiateFlags
 * 24 ServerChallenge (8)    32 Reserved (8)     40 TargetInfoFields (8)
 * 48 Version (8, when NTLMSSP_NEGOTIATE_VERSION)  56 Payload (TargetName, TargetInfo AV_PAIRs)
 * ```
 *
 * Decoding validates every length and offset and throws `ProtocolError` on anything malformed.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { ByteWriter } from '../../internal/bytes.ts'
import { type AvPair, decodeAvPairs, encodeAvPairs } from './av-pairs.ts'
import { NegotiateFlags, hasFlag } from './flags.ts'
import { type NtlmVersion, VERSION_SIZE, encodeVersion, readVersion } from './version.ts'
import {
  MessageType,
  NTLMSSP_SIGNATURE,
  decodeText,
  encodeText,
  fieldBytes,
  openMessage,
  readField,
  writeField,
} from './wire.ts'

/** A CHALLENGE_MESSAGE. */
export interface ChallengeMessage {
  /** NegotiateFlags chosen by the server. */
  readonly flags: number
  /** TargetName (the server's domain or computer name), decoded per NTLMSSP_NEGOTIATE_UNICODE. */
  readonly targetName: string
  /** ServerChallenge: 8 bytes. */
  readonly serverChallenge: Uint8Array
  /** TargetInfo AV pairs (without MsvAvEOL); empty when the field is empty. */
  readonly targetInfo: readonly AvPair[]
  /** Version, when NTLMSSP_NEGOTIATE_VERSION and the header has room for it. */
  readonly version?: NtlmVersion
}

const FIXED_SIZE = 48

/** Decodes a CHALLENGE_MESSAGE; any malformation is a `ProtocolError` (`side: 'remote'`). */
export function decodeChallenge(bytes: Uint8Array): ChallengeMessage {
  const what = 'CHALLENGE_MESSAGE'
  const reader = openMessage(bytes, MessageType.CHALLENGE, what)
  const targetNameField = readField(reader)
  const flags = reader.u32le()
  const serverChallenge = reader.bytes(8).slice()
  reader.bytes(8) // Reserved
  const targetInfoField = readField(reader)
  // The Version field exists only when the flag is set and the payload starts after it (old servers
  // put the payload at offset 48).
  const payloadStart = Math.min(
    ...[targetNameField, targetInfoField].filter((f) => f.length > 0).map((f) => f.offset),
    bytes.length,
  )
  const hasVersion =
    hasFlag(flags, NegotiateFlags.NEGOTIATE_VERSION) &&
    payloadStart >= FIXED_SIZE + VERSION_SIZE &&
    reader.remaining >= VERSION_SIZE
  const version = hasVersion ? readVersion(reader) : undefined
  const headerEnd = reader.offset
  const unicode = hasFlag(flags, NegotiateFlags.NEGOTIATE_UNICODE)
  const targetName = decodeText(
    fieldBytes(bytes, targetNameField, what, 'TargetName', headerEnd),
    unicode,
    `NTLM ${what} TargetName`,
  )
  const infoBytes = fieldBytes(bytes, targetInfoField, what, 'TargetInfo', headerEnd)
  let targetInfo: AvPair[] = []
  if (infoBytes.length > 0) {
    try {
      targetInfo = decodeAvPairs(infoBytes).map((p) => ({ id: p.id, value: p.value.slice() }))
    } catch (err) {
      if (err instanceof ProtocolError)
        throw new ProtocolError(`NTLM ${what}: ${err.message}`, { cause: err })
      throw err
    }
  }
  const out: { -readonly [K in keyof ChallengeMessage]: ChallengeMessage[K] } = {
    flags,
    targetName,
    serverChallenge,
    targetInfo,
  }
  if (version !== undefined) out.version = version
  return out
}

/**
 * Encodes a CHALLENGE_MESSAGE (server side; used by tests and fake servers). NTLMSSP_NEGOTIATE_VERSION
 * follows `version`, NTLMSSP_NEGOTIATE_TARGET_INFO follows whether `targetInfo` is non-empty.
 */
export function encodeChallenge(message: ChallengeMessage): Uint8Array {
  if (message.serverChallenge.length !== 8) {
    throw new ProtocolError('NTLM CHALLENGE_MESSAGE: ServerChallenge must be 8 bytes', { side: 'local' })
  }
  let flags = message.flags
  flags =
    message.version === undefined
      ? flags & ~NegotiateFlags.NEGOTIATE_VERSION
      : flags | NegotiateFlags.NEGOTIATE_VERSION
  flags =
    message.targetInfo.length === 0
      ? flags & ~NegotiateFlags.NEGOTIATE_TARGET_INFO
      : flags | NegotiateFlags.NEGOTIATE_TARGET_INFO
  const unicode = hasFlag(flags, NegotiateFlags.NEGOTIATE_UNICODE)
  const name = encodeText(message.targetName, unicode)
  const info = message.targetInfo.length === 0 ? new Uint8Array(0) : encodeAvPairs(message.targetInfo)
  const headerSize = FIXED_SIZE + VERSION_SIZE
  const writer = new ByteWriter(headerSize + name.length + info.length)
  writer.bytes(NTLMSSP_SIGNATURE).u32le(MessageType.CHALLENGE)
  writeField(writer, name.length, headerSize)
  writer
    .u32le(flags >>> 0)
    .bytes(message.serverChallenge)
    .bytes(new Uint8Array(8))
  writeField(writer, info.length, headerSize + name.length)
  writer.bytes(message.version === undefined ? new Uint8Array(VERSION_SIZE) : encodeVersion(message.version))
  writer.bytes(name).bytes(info)
  return writer.finish()
}
