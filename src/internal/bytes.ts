/**
 * Byte helpers for the sans-IO layers: big- and little-endian readers and writers over `DataView`,
 * concatenation, comparison, and base64/hex text forms. Everything works on `Uint8Array`; nothing
 * here does I/O.
 *
 * @module
 */
import { ProtocolError } from '../errors.ts'
import { fromBase64, toBase64 } from './base64.ts'

export { fromBase64, toBase64 }

/** A `DataView` over exactly the bytes of `bytes` (respecting its offset into the buffer). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * Sequential reader. Every read checks the remaining length first and throws a
 * {@link ProtocolError} (`side: 'remote'`) naming `what` when the input is too short, so callers that
 * parse received data get a typed error instead of a `RangeError`.
 */
export class ByteReader {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  #offset: number
  readonly #what: string

  /**
   * @param bytes the input
   * @param offset where to start reading
   * @param what a name for the structure being read, used in error messages
   */
  constructor(bytes: Uint8Array, offset = 0, what = 'data') {
    this.#bytes = bytes
    this.#view = viewOf(bytes)
    this.#offset = offset
    this.#what = what
  }

  /** Current position. */
  get offset(): number {
    return this.#offset
  }

  /** Bytes left after the current position. */
  get remaining(): number {
    return this.#bytes.length - this.#offset
  }

  #take(n: number): number {
    if (this.remaining < n) {
      throw new ProtocolError(
        `${this.#what} truncated: needs ${n} more byte(s) at offset ${this.#offset}, has ${this.remaining}`,
      )
    }
    const at = this.#offset
    this.#offset += n
    return at
  }

  /** Unsigned 8-bit integer. */
  u8(): number {
    return this.#view.getUint8(this.#take(1))
  }

  /** Unsigned 16-bit integer, big-endian. */
  u16be(): number {
    return this.#view.getUint16(this.#take(2), false)
  }

  /** Unsigned 16-bit integer, little-endian. */
  u16le(): number {
    return this.#view.getUint16(this.#take(2), true)
  }

  /** Unsigned 32-bit integer, big-endian. */
  u32be(): number {
    return this.#view.getUint32(this.#take(4), false)
  }

  /** Unsigned 32-bit integer, little-endian. */
  u32le(): number {
    return this.#view.getUint32(this.#take(4), true)
  }

  /** Unsigned 64-bit integer, big-endian. */
  u64be(): bigint {
    return this.#view.getBigUint64(this.#take(8), false)
  }

  /** Unsigned 64-bit integer, little-endian. */
  u64le(): bigint {
    return this.#view.getBigUint64(this.#take(8), true)
  }

  /** The next `n` bytes as a view into the input (not a copy). */
  bytes(n: number): Uint8Array {
    const at = this.#take(n)
    return this.#bytes.subarray(at, at + n)
  }

  /** Everything after the current position, as a view into the input. */
  rest(): Uint8Array {
    return this.bytes(this.remaining)
  }
}

/** Fixed-size writer: allocate once, then write fields in order. Writing past the end throws `RangeError`. */
export class ByteWriter {
  readonly #bytes: Uint8Array
  readonly #view: DataView
  #offset = 0

  /** @param size total size of the output in bytes */
  constructor(size: number) {
    this.#bytes = new Uint8Array(size)
    this.#view = viewOf(this.#bytes)
  }

  /** Current position. */
  get offset(): number {
    return this.#offset
  }

  #take(n: number): number {
    if (this.#offset + n > this.#bytes.length) {
      throw new RangeError(
        `ByteWriter: writing ${n} byte(s) at ${this.#offset} overflows ${this.#bytes.length}`,
      )
    }
    const at = this.#offset
    this.#offset += n
    return at
  }

  /** Unsigned 8-bit integer. */
  u8(value: number): this {
    this.#view.setUint8(this.#take(1), value)
    return this
  }

  /** Unsigned 16-bit integer, big-endian. */
  u16be(value: number): this {
    this.#view.setUint16(this.#take(2), value, false)
    return this
  }

  /** Unsigned 16-bit integer, little-endian. */
  u16le(value: number): this {
    this.#view.setUint16(this.#take(2), value, true)
    return this
  }

  /** Unsigned 32-bit integer, big-endian. */
  u32be(value: number): this {
    this.#view.setUint32(this.#take(4), value, false)
    return this
  }

  /** Unsigned 32-bit integer, little-endian. */
  u32le(value: number): this {
    this.#view.setUint32(this.#take(4), value, true)
    return this
  }

  /** Unsigned 64-bit integer, big-endian. */
  u64be(value: bigint): this {
    this.#view.setBigUint64(this.#take(8), value, false)
    return this
  }

  /** Unsigned 64-bit integer, little-endian. */
  u64le(value: bigint): this {
    this.#view.setBigUint64(this.#take(8), value, true)
    return this
  }

  /** Raw bytes. */
  bytes(value: Uint8Array): this {
    this.#bytes.set(value, this.#take(value.length))
    return this
  }

  /** The output; throws `RangeError` unless every byte was written. */
  finish(): Uint8Array {
    if (this.#offset !== this.#bytes.length) {
      throw new RangeError(`ByteWriter: wrote ${this.#offset} of ${this.#bytes.length} bytes`)
    }
    return this.#bytes
  }
}

/** Concatenates byte arrays (returns the only element itself when there is one). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0] as Uint8Array
  let size = 0
  for (const c of chunks) size += c.length
  const out = new Uint8Array(size)
  let o = 0
  for (const c of chunks) {
    out.set(c, o)
    o += c.length
  }
  return out
}

/** True when both arrays hold the same bytes. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Lower-case hex, optionally with a separator between bytes (e.g. `' '`). */
export function toHex(bytes: Uint8Array, separator = ''): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0 && separator !== '') s += separator
    s += HEX[bytes[i] as number]
  }
  return s
}

/**
 * Parses hex text. Whitespace, `:` and `-` between digits are ignored, as is a leading `0x`; returns
 * undefined when anything else is present or the digit count is odd.
 */
export function fromHex(text: string): Uint8Array | undefined {
  const compact = text.replace(/^\s*0x/i, '').replace(/[\s:-]+/g, '')
  if (compact.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(compact)) return undefined
  const out = new Uint8Array(compact.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(compact.slice(2 * i, 2 * i + 2), 16)
  return out
}
