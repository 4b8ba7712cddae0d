/**
 * Reassembles PSRP messages from fragments (MS-PSRP 3.1.5.1.2). Input is a byte stream that may hold
 * several fragments, or a fragment split across calls; fragments of different objects may
 * interleave. Inconsistent sequences (a continuation without a start, a second start, a gap in
 * FragmentIds, an oversized object) are rejected with a {@link ProtocolError}.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { decodeFragment, FRAGMENT_HEADER_SIZE } from './fragment.ts'
import { concatBytes } from '../../internal/bytes.ts'

/** Options of {@link Defragmenter}. */
export interface DefragmenterOptions {
  /**
   * Largest reassembled message accepted, in bytes (default 10 MiB, PowerShell's MaximumReceivedObjectSize).
   * Checked against each fragment header before its blob is buffered; every limit is listed in docs/limits.md.
   */
  maxObjectSize?: number
  /**
   * Skip the fragments of objects whose start fragment was never seen instead of rejecting them: for
   * data that is picked up mid-stream (the late output of a pipeline the client already forgot).
   * Default false.
   */
  skipOrphans?: boolean
}

interface Partial {
  nextFragmentId: bigint
  chunks: Uint8Array[]
  size: number
}

/** Incremental defragmenter. Feed bytes with {@link push}; get whole messages back. */
export class Defragmenter {
  readonly #maxObjectSize: number
  readonly #skipOrphans: boolean
  readonly #partial = new Map<bigint, Partial>()
  /**
   * Received bytes that do not yet form a whole fragment, in a buffer that grows by doubling (and is
   * sized to the whole fragment once its header is known): a fragment that arrives a few bytes at a
   * time costs time linear in its size (re-joining everything pending on every push was quadratic).
   */
  #pending: Uint8Array = new Uint8Array(0)
  #pendingBytes = 0
  /** Bytes the fragment at the start of the pending bytes needs in all (0 while its header is incomplete). */
  #needed = 0

  constructor(options: DefragmenterOptions = {}) {
    this.#maxObjectSize = options.maxObjectSize ?? 10 * 1024 * 1024
    this.#skipOrphans = options.skipOrphans ?? false
  }

  /** Number of objects started but not finished. */
  get incompleteObjects(): number {
    return this.#partial.size
  }

  /** Bytes held that do not yet form a whole fragment. */
  get bufferedBytes(): number {
    return this.#pendingBytes
  }

  /** Adds received bytes; returns every message completed by them, in completion order. */
  push(bytes: Uint8Array): Uint8Array[] {
    if (bytes.length === 0) return []
    let buf = bytes
    if (this.#pendingBytes > 0) {
      this.#append(bytes)
      if (this.#needed === 0) this.#needed = this.#fragmentSize(this.#pending, 0, this.#pendingBytes)
      if (this.#needed === 0 || this.#pendingBytes < this.#needed) return []
      buf = this.#pending.subarray(0, this.#pendingBytes)
    }
    const done: Uint8Array[] = []
    let offset = 0
    for (;;) {
      const r = decodeFragment(buf, offset, this.#maxObjectSize)
      if (r === undefined) break
      offset = r.next
      const { objectId, fragmentId, start, end, data } = r.fragment
      if (start && end && fragmentId === 0n && this.#partial.size === 0) {
        // a whole message in one fragment, nothing else in progress (pwsh's usual output): no bookkeeping
        if (data.length > this.#maxObjectSize) {
          throw new ProtocolError(`object ${objectId} exceeds the limit of ${this.#maxObjectSize} bytes`)
        }
        done.push(copyOf(data, 0))
        continue
      }
      let part = this.#partial.get(objectId)
      if (start) {
        if (part !== undefined) throw new ProtocolError(`object ${objectId} started twice`)
        if (fragmentId !== 0n)
          throw new ProtocolError(`object ${objectId} starts with fragment ${fragmentId}, not 0`)
        part = { nextFragmentId: 0n, chunks: [], size: 0 }
      } else if (part === undefined) {
        if (this.#skipOrphans) continue
        throw new ProtocolError(
          `fragment ${fragmentId} of object ${objectId} arrived without its start fragment`,
        )
      }
      if (fragmentId !== part.nextFragmentId) {
        throw new ProtocolError(
          `object ${objectId}: expected fragment ${part.nextFragmentId}, got ${fragmentId}`,
        )
      }
      part.size += data.length
      if (part.size > this.#maxObjectSize) {
        this.#partial.delete(objectId)
        throw new ProtocolError(`object ${objectId} exceeds the limit of ${this.#maxObjectSize} bytes`)
      }
      part.chunks.push(copyOf(data, 0))
      part.nextFragmentId++
      if (end) {
        this.#partial.delete(objectId)
        done.push(concatBytes(part.chunks))
      } else {
        this.#partial.set(objectId, part)
      }
    }
    const rest = buf.length - offset
    if (rest > 0) {
      // once the fragment's size is known, it is held in one buffer of that size
      this.#needed = this.#fragmentSize(buf, offset, rest)
      this.#pending = new Uint8Array(Math.max(this.#needed, rest))
      this.#pending.set(buf.subarray(offset))
      this.#pendingBytes = rest
    } else {
      this.#pending = new Uint8Array(0)
      this.#pendingBytes = 0
      this.#needed = 0
    }
    return done
  }

  /** Appends to the pending bytes, growing the buffer by doubling. */
  #append(bytes: Uint8Array): void {
    const size = this.#pendingBytes + bytes.length
    if (size > this.#pending.length) {
      const grown = new Uint8Array(Math.max(size, this.#pending.length * 2, 64))
      grown.set(this.#pending.subarray(0, this.#pendingBytes))
      this.#pending = grown
    }
    this.#pending.set(bytes, this.#pendingBytes)
    this.#pendingBytes = size
  }

  /**
   * The whole size (header + blob) of the fragment that starts at `offset` of `bytes`, of which
   * `available` bytes are there, or 0 while fewer than {@link FRAGMENT_HEADER_SIZE} are. The flags and
   * the blob length are checked against the object size limit here, before any of the blob is buffered.
   */
  #fragmentSize(bytes: Uint8Array, offset: number, available: number): number {
    if (available < FRAGMENT_HEADER_SIZE) return 0
    const header = bytes.subarray(offset, offset + FRAGMENT_HEADER_SIZE)
    // throws on reserved flags or an oversized blob; a header alone is whole only when its blob is empty
    if (decodeFragment(header, 0, this.#maxObjectSize) !== undefined) return FRAGMENT_HEADER_SIZE
    return FRAGMENT_HEADER_SIZE + new DataView(header.buffer, header.byteOffset).getUint32(17)
  }
}

/** A copy of part of `bytes` (a Node Buffer's own `slice` would return a view of its memory). */
function copyOf(bytes: Uint8Array, start: number, end = bytes.length): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end)
}
