/**
 * Splits PSRP messages into fragments (MS-PSRP 2.2.4, 3.1.5.1.1): each message gets the next
 * ObjectId and is cut into blobs so that header + blob never exceed the maximum fragment size.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import { encodeFragment, FRAGMENT_HEADER_SIZE, type Fragment } from './fragment.ts'

/** Allocates ObjectIds and fragments messages. One per sender per session. */
export class Fragmenter {
  #nextObjectId: bigint

  /** @param firstObjectId the first ObjectId to use (PowerShell starts at 1). */
  constructor(firstObjectId = 1n) {
    this.#nextObjectId = firstObjectId
  }

  /** The ObjectId the next message will get. */
  get nextObjectId(): bigint {
    return this.#nextObjectId
  }

  /** Cuts one encoded message into fragments of at most `maxFragmentSize` bytes each (header included). */
  fragment(message: Uint8Array, maxFragmentSize: number): Fragment[] {
    const maxBlob = maxFragmentSize - FRAGMENT_HEADER_SIZE
    if (!Number.isInteger(maxFragmentSize) || maxBlob < 1) {
      throw new ProtocolError(`maximum fragment size ${maxFragmentSize} leaves no room for data`, {
        side: 'local',
      })
    }
    const objectId = this.#nextObjectId++
    const out: Fragment[] = []
    let offset = 0
    let fragmentId = 0n
    do {
      const data = message.subarray(offset, offset + maxBlob)
      offset += data.length
      out.push({
        objectId,
        fragmentId: fragmentId++,
        start: out.length === 0,
        end: offset >= message.length,
        data,
      })
    } while (offset < message.length)
    return out
  }

  /** Like {@link fragment}, returning the encoded fragments. */
  fragmentBytes(message: Uint8Array, maxFragmentSize: number): Uint8Array[] {
    return this.fragment(message, maxFragmentSize).map(encodeFragment)
  }
}
