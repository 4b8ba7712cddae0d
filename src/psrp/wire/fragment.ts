/**
 * PSRP fragment (MS-PSRP 2.2.4): every message travels as one or more fragments.
 *
 * ```
 * ObjectId u64 BE | FragmentId u64 BE | reserved:6 E:1 S:1 | BlobLength u32 BE | Blob
 * ```
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'

/** Size of the fragment header in bytes. */
export const FRAGMENT_HEADER_SIZE = 21

/** Flag bit: first fragment of an object. */
export const FRAGMENT_START = 0x1
/** Flag bit: last fragment of an object. */
export const FRAGMENT_END = 0x2

/** One decoded fragment. */
export interface Fragment {
  /** Message (object) id, unique per sender and session, from 1. */
  objectId: bigint
  /** Sequence number within the object, from 0. */
  fragmentId: bigint
  /** First fragment of the object. */
  start: boolean
  /** Last fragment of the object. */
  end: boolean
  /** The blob (a slice of the message). */
  data: Uint8Array
}

/** Encodes one fragment. */
export function encodeFragment(f: Fragment): Uint8Array {
  const out = new Uint8Array(FRAGMENT_HEADER_SIZE + f.data.length)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, f.objectId)
  view.setBigUint64(8, f.fragmentId)
  out[16] = (f.start ? FRAGMENT_START : 0) | (f.end ? FRAGMENT_END : 0)
  view.setUint32(17, f.data.length)
  out.set(f.data, FRAGMENT_HEADER_SIZE)
  return out
}

/**
 * Decodes the fragment at `offset`. Returns the fragment and the offset after it, or undefined when
 * `bytes` does not yet hold the whole fragment (need more data).
 */
export function decodeFragment(
  bytes: Uint8Array,
  offset = 0,
  maxBlobLength = 0xffffffff,
): { fragment: Fragment; next: number } | undefined {
  if (bytes.length - offset < FRAGMENT_HEADER_SIZE) return undefined
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, FRAGMENT_HEADER_SIZE)
  const flags = view.getUint8(16)
  if ((flags & ~(FRAGMENT_START | FRAGMENT_END)) !== 0) {
    throw new ProtocolError(`fragment has reserved flag bits set (0x${flags.toString(16)})`)
  }
  const length = view.getUint32(17)
  if (length > maxBlobLength) {
    throw new ProtocolError(`fragment blob of ${length} bytes exceeds the limit of ${maxBlobLength}`)
  }
  const end = offset + FRAGMENT_HEADER_SIZE + length
  if (bytes.length < end) return undefined
  return {
    fragment: {
      objectId: view.getBigUint64(0),
      fragmentId: view.getBigUint64(8),
      start: (flags & FRAGMENT_START) !== 0,
      end: (flags & FRAGMENT_END) !== 0,
      data: bytes.subarray(offset + FRAGMENT_HEADER_SIZE, end),
    },
    next: end,
  }
}

/** Decodes a buffer that must hold only whole fragments (e.g. one WS-Man stream or creationXml). */
export function decodeFragments(bytes: Uint8Array): Fragment[] {
  const out: Fragment[] = []
  let offset = 0
  while (offset < bytes.length) {
    const r = decodeFragment(bytes, offset)
    if (r === undefined) {
      throw new ProtocolError(`truncated fragment at byte ${offset} of ${bytes.length}`)
    }
    out.push(r.fragment)
    offset = r.next
  }
  return out
}
