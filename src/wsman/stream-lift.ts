/**
 * Reading a response's large `Stream` contents from its bytes. A ReceiveResponse (MS-WSMV 3.1.4.14,
 * 2.2.4.27) carries the output as the `xs:base64Binary` text of `rsp:Stream` elements, and a full one
 * is most of the envelope: ~150 KB of base64 under WinRM's default 150 KiB MaxEnvelopeSize. Decoded to
 * text whole, each response is a string over V8's 128 KiB large-object size, and the base64 text the
 * XML reader cuts out of it another: on fresh pages, collected by a scavenge of their own (bench/README.md).
 *
 * {@link liftStreams} takes each long base64 run that is the whole content of a `Stream` start tag
 * (any prefix; attribute values may hold anything XML allows) out of the bytes, decodes it in pieces
 * ({@link fromBase64Bytes}), and leaves a marker in its place, so the envelope's text is a few hundred
 * characters. {@link LiftedStreams.take} gives a `Stream` element whose whole text is a marker its
 * bytes. Everything is decided by the XML reader on that text, as for any other envelope; the lift
 * only spares the decoding, and it is exact or not used:
 *
 * - a run is lifted only when it is valid unbroken base64 (whitespace around it is left in the text);
 * - no marker is made when the body already holds the marker's prefix anywhere;
 * - the caller ({@link parseResponseBytes}) reads the envelope from the whole body instead when a
 *   marker is not taken exactly once by a `Stream` element, or when reading the lifted text fails
 *   (a comment, a CDATA section, mixed content, or malformed XML: the error then names offsets of the
 *   real body).
 *
 * @module
 */
import { fromBase64Bytes } from '../internal/base64.ts'
import { isXmlSpace } from '../internal/xml.ts'

/** A run of text shorter than this stays in the text: a small output costs nothing to decode. */
const LIFT_MIN_BYTES = 16 * 1024
/** Longest start tag looked at: `<rsp:Stream Name="stdout" CommandId="{guid}" End="true">` is ~80. */
const MAX_TAG_BYTES = 1024
const MARKER_PREFIX = '{psrp-lifted-'
const LT = 0x3c
const GT = 0x3e

/**
 * A `Stream` start tag, whole: an optional prefix, the local name `Stream`, and attributes with
 * quoted values (which may hold `>`, so a `>` inside one never ends the tag here).
 */
const STREAM_START_TAG =
  /^<(?:[A-Za-z_][\w.-]*:)?Stream(?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*>$/

/** The decoded `Stream` contents taken out of a body, by the marker left in their place. */
export class LiftedStreams {
  readonly #data: Uint8Array[]
  #taken = 0
  readonly #seen: boolean[]

  constructor(data: Uint8Array[]) {
    this.#data = data
    this.#seen = data.map(() => false)
  }

  /** The bytes lifted where `text` (an element's text, whitespace around it allowed) is a marker. */
  take(text: string): Uint8Array | undefined {
    const marker = text.trim()
    if (!marker.startsWith(MARKER_PREFIX) || !marker.endsWith('}')) return undefined
    const index = marker.slice(MARKER_PREFIX.length, -1)
    if (!/^\d+$/.test(index)) return undefined
    const i = Number(index)
    const data = this.#data[i]
    if (data === undefined || this.#seen[i] === true) return undefined
    this.#seen[i] = true
    this.#taken++
    return data
  }

  /** Every marker was taken once: the lifted text read as the body would have. */
  get complete(): boolean {
    return this.#taken === this.#data.length
  }
}

/** A body with its long `Stream` contents lifted out. */
export interface LiftedBody {
  /** The body's text, a marker in place of each lifted run. */
  readonly text: string
  readonly streams: LiftedStreams
}

/**
 * Lifts the long base64 `Stream` contents out of a UTF-8 body; undefined when there is none to lift
 * (the caller decodes the body whole). `decode` turns the bytes between the runs into text (it is
 * the caller's UTF-8 decoder, strict or not; runs begin after `>` and end before `<`, so no character
 * is ever cut).
 */
export function liftStreams(body: Uint8Array, decode: (bytes: Uint8Array) => string): LiftedBody | undefined {
  if (body.length < LIFT_MIN_BYTES) return undefined
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  if (bytes.includes(MARKER_PREFIX, 0, 'latin1')) return undefined
  const text: string[] = []
  const data: Uint8Array[] = []
  let copied = 0
  // Each '<' ends the text run after the last '>' before it; the markup that '>' closes began at the
  // '<' before (attribute values cannot hold '<'). Every byte is looked at a bounded number of times.
  for (let tag = bytes.indexOf(LT), lt = tag < 0 ? -1 : bytes.indexOf(LT, tag + 1); lt >= 0;) {
    if (lt - tag > LIFT_MIN_BYTES) {
      const gt = tag + bytes.subarray(tag, lt).lastIndexOf(GT)
      let start = gt + 1
      let end = lt
      while (start < end && isXmlSpace(bytes[start])) start++
      while (end > start && isXmlSpace(bytes[end - 1])) end--
      if (gt > tag && end - start >= LIFT_MIN_BYTES && isStreamStartTag(bytes, tag, gt)) {
        const decoded = fromBase64Bytes(bytes, start, end)
        if (decoded !== undefined) {
          text.push(decode(bytes.subarray(copied, start)), `${MARKER_PREFIX}${data.length}}`)
          data.push(decoded)
          copied = end
        }
      }
    }
    tag = lt
    lt = bytes.indexOf(LT, lt + 1)
  }
  if (data.length === 0) return undefined
  text.push(decode(bytes.subarray(copied)))
  return { text: text.join(''), streams: new LiftedStreams(data) }
}

/** Whether the markup from the `<` at `lt` to the `>` at `gt` is a whole `Stream` start tag. */
function isStreamStartTag(bytes: Buffer, lt: number, gt: number): boolean {
  return gt - lt <= MAX_TAG_BYTES && STREAM_START_TAG.test(bytes.toString('latin1', lt, gt + 1))
}
