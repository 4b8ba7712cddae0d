/**
 * Reassembles PSRP messages from fragments (MS-PSRP 3.1.5.1.2). Input is a byte stream that may hold
 * several fragments, or a fragment split across calls; fragments of different objects may
 * interleave. Inconsistent sequences (a continuation without a start, a second start, a gap in
 * FragmentIds, an oversized object) are rejected with a {@link ProtocolError}.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { decodeFragment } from './fragment.ts'
import { concatBytes } from '../../internal/bytes.ts'

/** Options of {@link Defragmenter}. */
export interface DefragmenterOptions {
  /** Largest reassembled message accepted, in bytes (default 10 MiB, PowerShell's MaximumReceivedObjectSize). */
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
  #pending: Uint8Array = new Uint8Array(0)

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
    return this.#pending.length
  }

  /** Adds received bytes; returns every message completed by them, in completion order. */
  push(bytes: Uint8Array): Uint8Array[] {
    let buf = bytes
    if (this.#pending.length > 0) {
      buf = new Uint8Array(this.#pending.length + bytes.length)
      buf.set(this.#pending)
      buf.set(bytes, this.#pending.length)
    }
    const done: Uint8Array[] = []
    let offset = 0
    for (;;) {
      const r = decodeFragment(buf, offset, this.#maxObjectSize)
      if (r === undefined) break
      offset = r.next
      const { objectId, fragmentId, start, end, data } = r.fragment
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
      part.chunks.push(data.slice())
      part.nextFragmentId++
      if (end) {
        this.#partial.delete(objectId)
        done.push(concatBytes(part.chunks))
      } else {
        this.#partial.set(objectId, part)
      }
    }
    this.#pending = offset < buf.length ? buf.slice(offset) : new Uint8Array(0)
    return done
  }
}
