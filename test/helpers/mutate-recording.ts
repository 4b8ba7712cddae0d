/**
 * Makes recordings of the shapes other clients produce from a real one: each PSRP message the
 * recorded client sent is decoded, its CLIXML body passed through a transform, and the message
 * re-encoded (one fragment, the same ObjectId) into the request. Server responses are untouched, so
 * the result is what Windows answered to a client that wrote its messages differently.
 */
import { decodeFragments, encodeFragment } from '../../src/psrp/index.ts'
import type { Exchange } from './recordings.ts'
import { b64, unb64 } from './winrm-replay/psrp.ts'

/** A client message as the transform sees it. */
export interface ClientMessage {
  /** MessageType number (MS-PSRP 2.2.1). */
  type: number
  /** The CLIXML body, without BOM. */
  xml: string
}

const PAYLOAD =
  /(<(?:[\w-]+:)?(?:creationXml|connectXml|Stream|Arguments)(?:\s[^>]*)?>)([A-Za-z0-9+/=\s]+)(<\/)/g

/** The recording with every client message body passed through `transform`. */
export function mutateClientMessages(
  exchanges: readonly Exchange[],
  transform: (m: ClientMessage) => string,
): Exchange[] {
  return exchanges.map((ex) => ({
    ...ex,
    request: ex.request.replace(PAYLOAD, (whole, open: string, text: string, close: string) => {
      let frags
      try {
        frags = decodeFragments(unb64(text))
      } catch {
        return whole
      }
      if (frags.length === 0 || !frags.every((f) => f.start && f.end)) return whole
      const out = frags.map((f) => {
        const data = Buffer.from(f.data)
        if (data.length < 40) return encodeFragment(f)
        const type = data.readUInt32LE(4)
        let body = data.subarray(40).toString('utf8')
        const bom = body.charCodeAt(0) === 0xfeff
        if (bom) body = body.slice(1)
        const changed = transform({ type, xml: body })
        if (changed === body) return encodeFragment(f)
        const bytes = Buffer.concat([
          data.subarray(0, 40),
          Buffer.from(`${bom ? '\ufeff' : ''}${changed}`, 'utf8'),
        ])
        return encodeFragment({
          ...f,
          data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
        })
      })
      return `${open}${b64(Buffer.concat(out))}${close}`
    }),
  }))
}
