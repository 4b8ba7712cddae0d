/**
 * PSRP message (MS-PSRP 2.2.1): the unit that fragments carry.
 *
 * ```
 * Destination u32 LE (1 client, 2 server) | MessageType u32 LE | RPID GUID (16) | PID GUID (16) | Data
 * ```
 *
 * GUIDs are written in .NET `ToByteArray()` order. Data is UTF-8 CLIXML, optionally preceded by a
 * byte-order mark (PowerShell writes one). Decoding removes exactly that one BOM (a U+FEFF after it is
 * data and is kept) and refuses invalid UTF-8 with a {@link ProtocolError} rather than replacing it.
 * Recordings made by pypsrp before 0.3.1 carry RPID/PID in RFC 4122 order; {@link PsrpMessage.rpidBytes}
 * keeps the raw bytes so callers can match either order.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { guidFromBytes, guidToBytes, NIL_GUID } from '../../internal/guid.ts'
import { asciiText, piecesToBytes } from '../../internal/base64.ts'
import { messageTypeName, type MessageTypeName } from './message-type.ts'

/** Size of the message header. */
export const MESSAGE_HEADER_SIZE = 40

/** Who a message is for. */
export type Destination = 'client' | 'server'

/** A decoded message envelope (the body stays CLIXML text until decoded by type). */
export interface PsrpMessage {
  destination: Destination
  /** Numeric message type. */
  type: number
  /** Its MS-PSRP name, or undefined when unknown. */
  typeName: MessageTypeName | undefined
  /** Runspace pool id, read in .NET byte order. */
  rpid: string
  /** Pipeline id (the nil GUID for pool messages), read in .NET byte order. */
  pid: string
  /** Raw 16 bytes of the RPID as received. */
  rpidBytes: Uint8Array
  /** Raw 16 bytes of the PID as received. */
  pidBytes: Uint8Array
  /** The CLIXML body (the one leading BOM removed; a second U+FEFF is data and stays). */
  data: string
  /** True when the body started with a UTF-8 BOM. */
  hasBom: boolean
}

/** Fields needed to encode a message. */
export interface MessageInit {
  destination: Destination
  type: number
  rpid: string
  pid?: string | undefined
  /**
   * CLIXML body: its text, or its pieces, where a byte array stands for its base64 text (written
   * straight into the message, so a large `<BA>` never becomes one large string).
   */
  data: string | readonly (string | Uint8Array)[]
  /** Prefix the body with a UTF-8 BOM as PowerShell does (default false). */
  bom?: boolean
}

const BOM = [0xef, 0xbb, 0xbf]

// Strict and BOM-preserving: the caller strips the one leading BOM itself, so a U+FEFF that follows is
// kept, and malformed UTF-8 throws instead of turning into U+FFFD.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function decodeBody(body: Uint8Array, at: number): string {
  // ASCII (all CLIXML of numbers, base64 `<BA>` file chunks, and most names) is its own Latin-1 text,
  // which V8 copies into a one-byte string: measured 6.5% of the client's CPU on a 50 MiB fetch
  // through TextDecoder, about a tenth of that so
  const ascii = asciiText(body)
  if (ascii !== undefined) return ascii
  try {
    return strictUtf8.decode(body)
  } catch (e) {
    throw new ProtocolError(`message body (from byte ${at}) is not valid UTF-8`, { cause: e })
  }
}

/** Encodes a message. */
export function encodeMessage(m: MessageInit): Uint8Array {
  const bom = m.bom === true ? 3 : 0
  const buf = piecesToBytes(typeof m.data === 'string' ? [m.data] : m.data, MESSAGE_HEADER_SIZE + bom)
  const out = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  const view = new DataView(out.buffer, out.byteOffset, MESSAGE_HEADER_SIZE)
  view.setUint32(0, m.destination === 'client' ? 1 : 2, true)
  view.setUint32(4, m.type, true)
  out.set(guidToBytes(m.rpid), 8)
  out.set(guidToBytes(m.pid ?? NIL_GUID), 24)
  if (bom > 0) out.set(BOM, MESSAGE_HEADER_SIZE)
  return out
}

/**
 * The text of the GUID at an offset, remembering the last one: a stream of messages repeats the same
 * pool and pipeline ids, so most messages compare 16 bytes instead of formatting a GUID.
 */
class GuidTextCache {
  readonly #bytes = new Uint8Array(16)
  #text: string | undefined

  text(bytes: Uint8Array, offset: number): string {
    const last = this.#bytes
    if (this.#text !== undefined) {
      let same = true
      for (let i = 0; i < 16; i++) {
        if (bytes[offset + i] !== last[i]) {
          same = false
          break
        }
      }
      if (same) return this.#text
    }
    const text = guidFromBytes(bytes, offset)
    last.set(bytes.subarray(offset, offset + 16))
    this.#text = text
    return text
  }
}

const rpidCache = new GuidTextCache()
const pidCache = new GuidTextCache()

/** Decodes a whole message. */
export function decodeMessage(bytes: Uint8Array): PsrpMessage {
  if (bytes.length < MESSAGE_HEADER_SIZE) {
    throw new ProtocolError(`message of ${bytes.length} bytes is shorter than its 40-byte header`)
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const dest = view.getUint32(0, true)
  if (dest !== 1 && dest !== 2)
    throw new ProtocolError(`message destination ${dest} is neither client (1) nor server (2)`)
  const type = view.getUint32(4, true)
  const hasBom =
    bytes[MESSAGE_HEADER_SIZE] === 0xef &&
    bytes[MESSAGE_HEADER_SIZE + 1] === 0xbb &&
    bytes[MESSAGE_HEADER_SIZE + 2] === 0xbf
  const body = bytes.subarray(MESSAGE_HEADER_SIZE + (hasBom ? 3 : 0))
  return {
    destination: dest === 1 ? 'client' : 'server',
    type,
    typeName: messageTypeName(type),
    rpid: rpidCache.text(bytes, 8),
    pid: pidCache.text(bytes, 24),
    rpidBytes: bytes.slice(8, 24),
    pidBytes: bytes.slice(24, 40),
    data: decodeBody(body, MESSAGE_HEADER_SIZE + (hasBom ? 3 : 0)),
    hasBom,
  }
}
