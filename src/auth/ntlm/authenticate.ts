/**
 * AUTHENTICATE_MESSAGE (MS-NLMP 2.2.1.3), the client's last token:
 *
 * ```
 *  0 Signature "NTLMSSP\0"        8 MessageType = 3
 * 12 LmChallengeResponseFields    20 NtChallengeResponseFields   28 DomainNameFields
 * 36 UserNameFields               44 WorkstationFields           52 EncryptedRandomSessionKeyFields
 * 60 NegotiateFlags               64 Version (8)                 72 MIC (16)
 * 88 Payload
 * ```
 *
 * Encoding always writes Version and MIC (MIC zero until computed, see {@link MIC_OFFSET}); decoding
 * accepts the older shapes without them (the payload then starts at 64 or 72).
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { ByteWriter } from '../../internal/bytes.ts'
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

/** An AUTHENTICATE_MESSAGE. */
export interface AuthenticateMessage {
  /** NegotiateFlags as confirmed by the client. */
  readonly flags: number
  /** LmChallengeResponse (24 zero bytes when a MIC is sent with NTLMv2). */
  readonly lmChallengeResponse: Uint8Array
  /** NtChallengeResponse (an NTLMv2_RESPONSE for NTLMv2). */
  readonly ntChallengeResponse: Uint8Array
  /** DomainName (empty for a UPN user name). */
  readonly domain: string
  /** UserName. */
  readonly user: string
  /** Workstation. */
  readonly workstation: string
  /** EncryptedRandomSessionKey (empty without NTLMSSP_NEGOTIATE_KEY_EXCH). */
  readonly encryptedRandomSessionKey: Uint8Array
  /** Version, when present. */
  readonly version?: NtlmVersion
  /** MIC, when present (16 bytes). */
  readonly mic?: Uint8Array
}

/** Offset of the MIC field in an AUTHENTICATE_MESSAGE that carries Version and MIC. */
export const MIC_OFFSET = 72

/** Size of the MIC field. */
export const MIC_SIZE = 16

const FIXED_SIZE = 64
const HEADER_SIZE = FIXED_SIZE + VERSION_SIZE + MIC_SIZE

/**
 * Encodes an AUTHENTICATE_MESSAGE with Version and MIC fields (NTLMSSP_NEGOTIATE_VERSION is set in
 * the flags; Version defaults to zero bytes when absent, MIC to zero bytes). Strings are UTF-16LE when
 * NTLMSSP_NEGOTIATE_UNICODE is set, OEM otherwise.
 */
export function encodeAuthenticate(message: AuthenticateMessage): Uint8Array {
  const flags = (message.flags | NegotiateFlags.NEGOTIATE_VERSION) >>> 0
  const unicode = hasFlag(flags, NegotiateFlags.NEGOTIATE_UNICODE)
  if (message.mic !== undefined && message.mic.length !== MIC_SIZE) {
    throw new ProtocolError('NTLM AUTHENTICATE_MESSAGE: MIC must be 16 bytes', { side: 'local' })
  }
  const parts = [
    message.lmChallengeResponse,
    message.ntChallengeResponse,
    encodeText(message.domain, unicode),
    encodeText(message.user, unicode),
    encodeText(message.workstation, unicode),
    message.encryptedRandomSessionKey,
  ]
  let size = HEADER_SIZE
  for (const p of parts) size += p.length
  const writer = new ByteWriter(size)
  writer.bytes(NTLMSSP_SIGNATURE).u32le(MessageType.AUTHENTICATE)
  let offset = HEADER_SIZE
  for (const p of parts) {
    writeField(writer, p.length, offset)
    offset += p.length
  }
  writer.u32le(flags)
  writer.bytes(message.version === undefined ? new Uint8Array(VERSION_SIZE) : encodeVersion(message.version))
  writer.bytes(message.mic ?? new Uint8Array(MIC_SIZE))
  for (const p of parts) writer.bytes(p)
  return writer.finish()
}

/** Decodes an AUTHENTICATE_MESSAGE; any malformation is a `ProtocolError`. */
export function decodeAuthenticate(bytes: Uint8Array): AuthenticateMessage {
  const what = 'AUTHENTICATE_MESSAGE'
  const reader = openMessage(bytes, MessageType.AUTHENTICATE, what)
  const lm = readField(reader)
  const nt = readField(reader)
  const domain = readField(reader)
  const user = readField(reader)
  const workstation = readField(reader)
  const key = readField(reader)
  const flags = reader.u32le()
  // Version and MIC are present only when the payload starts after them.
  const payloadStart = Math.min(
    ...[lm, nt, domain, user, workstation, key].filter((f) => f.length > 0).map((f) => f.offset),
    bytes.length,
  )
  let version: NtlmVersion | undefined
  let mic: Uint8Array | undefined
  if (
    hasFlag(flags, NegotiateFlags.NEGOTIATE_VERSION) &&
    payloadStart >= FIXED_SIZE + VERSION_SIZE &&
    reader.remaining >= VERSION_SIZE
  ) {
    version = readVersion(reader)
    if (payloadStart >= HEADER_SIZE && reader.remaining >= MIC_SIZE) mic = reader.bytes(MIC_SIZE).slice()
  }
  const headerEnd = reader.offset
  const unicode = hasFlag(flags, NegotiateFlags.NEGOTIATE_UNICODE)
  const text = (field: typeof lm, name: string): string =>
    decodeText(fieldBytes(bytes, field, what, name, headerEnd), unicode, `NTLM ${what} ${name}`)
  const out: { -readonly [K in keyof AuthenticateMessage]: AuthenticateMessage[K] } = {
    flags,
    lmChallengeResponse: fieldBytes(bytes, lm, what, 'LmChallengeResponse', headerEnd).slice(),
    ntChallengeResponse: fieldBytes(bytes, nt, what, 'NtChallengeResponse', headerEnd).slice(),
    domain: text(domain, 'DomainName'),
    user: text(user, 'UserName'),
    workstation: text(workstation, 'Workstation'),
    encryptedRandomSessionKey: fieldBytes(bytes, key, what, 'EncryptedRandomSessionKey', headerEnd).slice(),
  }
  if (version !== undefined) out.version = version
  if (mic !== undefined) out.mic = mic
  return out
}
