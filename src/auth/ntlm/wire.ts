/**
 * Pieces shared by the three NTLM message codecs (MS-NLMP 2.2.1): the `NTLMSSP\0` signature, the
 * MessageType values, the 8-byte payload field descriptors (`Len`, `MaxLen`, `BufferOffset`) and the
 * string encodings chosen by NTLMSSP_NEGOTIATE_UNICODE / NTLMSSP_NEGOTIATE_OEM.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { ByteReader, type ByteWriter } from '../../internal/bytes.ts'

/** The 8-byte signature every NTLM message starts with: ASCII `NTLMSSP` and a NUL. */
export const NTLMSSP_SIGNATURE: Uint8Array = Uint8Array.of(0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00)

/** MessageType values (MS-NLMP 2.2.1.1–2.2.1.3). */
export const MessageType = {
  NEGOTIATE: 1,
  CHALLENGE: 2,
  AUTHENTICATE: 3,
} as const

/** A payload field descriptor as found on the wire. */
export interface PayloadField {
  /** Len: the byte length of the field in the payload. */
  readonly length: number
  /** MaxLen: should equal `length`; ignored on receipt. */
  readonly maxLength: number
  /** BufferOffset: from the start of the message. */
  readonly offset: number
}

/**
 * Checks the signature and message type and returns a reader positioned after them.
 *
 * @param what the message name for errors, e.g. `CHALLENGE_MESSAGE`
 */
export function openMessage(bytes: Uint8Array, type: number, what: string): ByteReader {
  const reader = new ByteReader(bytes, 0, `NTLM ${what}`)
  const sig = reader.bytes(8)
  for (let i = 0; i < 8; i++) {
    if (sig[i] !== NTLMSSP_SIGNATURE[i]) throw new ProtocolError(`NTLM ${what}: bad signature (not NTLMSSP)`)
  }
  const got = reader.u32le()
  if (got !== type) throw new ProtocolError(`NTLM ${what}: message type ${got}, expected ${type}`)
  return reader
}

/** Reads an 8-byte field descriptor. */
export function readField(reader: ByteReader): PayloadField {
  const length = reader.u16le()
  const maxLength = reader.u16le()
  const offset = reader.u32le()
  return { length, maxLength, offset }
}

/**
 * The bytes a field descriptor points at, checked against the message bounds (and, when given, the
 * end of the fixed header, which payload may not overlap). An empty field yields an empty array.
 */
export function fieldBytes(
  message: Uint8Array,
  field: PayloadField,
  what: string,
  name: string,
  headerEnd = 0,
): Uint8Array {
  if (field.length === 0) return new Uint8Array(0)
  if (field.offset < headerEnd || field.offset + field.length > message.length) {
    throw new ProtocolError(
      `NTLM ${what}: ${name} (offset ${field.offset}, length ${field.length}) lies outside the ${message.length}-byte message`,
    )
  }
  return message.subarray(field.offset, field.offset + field.length)
}

/** Writes a field descriptor (`MaxLen` = `Len`). */
export function writeField(writer: ByteWriter, length: number, offset: number): void {
  if (length > 0xffff) throw new ProtocolError(`NTLM field of ${length} bytes is too long`, { side: 'local' })
  writer.u16le(length).u16le(length).u32le(offset)
}

/** UTF-16LE bytes of `text`. */
export function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(text.length * 2)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    out[2 * i] = c & 0xff
    out[2 * i + 1] = c >>> 8
  }
  return out
}

/** Decodes UTF-16LE bytes (an odd trailing byte is a protocol error). */
export function fromUtf16le(bytes: Uint8Array, what = 'NTLM string'): string {
  if (bytes.length % 2 !== 0) throw new ProtocolError(`${what}: odd byte length ${bytes.length} for UTF-16LE`)
  let s = ''
  for (let i = 0; i < bytes.length; i += 2) {
    s += String.fromCharCode((bytes[i] as number) | ((bytes[i + 1] as number) << 8))
  }
  return s
}

/** Decodes an OEM string; treated as Latin-1 (the OEM code page is not known to the client). */
export function fromOem(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return s
}

/** Encodes an OEM string as Latin-1 (characters above U+00FF become `?`). */
export function oem(text: string): Uint8Array {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    out[i] = c > 0xff ? 0x3f : c
  }
  return out
}

/** Decodes a string field according to the negotiated character set. */
export function decodeText(bytes: Uint8Array, unicode: boolean, what: string): string {
  return unicode ? fromUtf16le(bytes, what) : fromOem(bytes)
}

/** Encodes a string field according to the negotiated character set. */
export function encodeText(text: string, unicode: boolean): Uint8Array {
  return unicode ? utf16le(text) : oem(text)
}
