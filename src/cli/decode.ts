/**
 * `psrp decode`: a PSRP dissector. Reads base64 or hex of a creationXml, a WS-Man Receive/Send
 * stream, raw fragments, a whole SOAP envelope, or OutOfProc `<Data>` lines, and prints the
 * fragments, message headers and CLIXML bodies in readable form.
 *
 * @module
 */
import { decodeFragment, Defragmenter, decodeMessage, decodeMessageBody, guidFromBytes } from '../psrp/index.ts'
import { prettyClixml } from '../clixml/index.ts'
import { InvalidArgumentError } from '../errors.ts'

/** One source of PSRP bytes found in the input. */
interface Blob {
  label: string
  /** Which defragmenter it feeds (one per direction, since ObjectIds are per sender). */
  direction: 'client' | 'server' | 'unknown'
  bytes: Uint8Array
}

const B64_ELEMENTS: [RegExp, Blob['direction'], string][] = [
  [/<(?:\w+:)?creationXml[^>]*>([^<]+)</g, 'client', 'creationXml'],
  [/<(?:\w+:)?connectXml[^>]*>([^<]+)</g, 'client', 'connectXml'],
  [/<(?:\w+:)?connectResponseXml[^>]*>([^<]+)</g, 'server', 'connectResponseXml'],
  [/<rsp:Stream[^>]*Name="stdout"[^>]*>([^<]+)</g, 'server', 'stdout stream'],
  [/<rsp:Stream[^>]*Name="(?:stdin|pr)"[^>]*>([^<]+)</g, 'client', 'stdin/pr stream'],
  [/<rsp:Arguments>([^<]+)</g, 'client', 'Command arguments'],
  [/<Data [^>]*>([^<]+)<\/Data>/g, 'unknown', 'OutOfProc Data packet'],
]

function fromBase64(text: string): Uint8Array {
  const compact = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new InvalidArgumentError('input is neither hex, base64 nor XML holding base64 PSRP data')
  }
  return Uint8Array.from(Buffer.from(compact, 'base64'))
}

/** Finds the PSRP byte blobs in the input text. */
export function findBlobs(input: string): Blob[] {
  const text = input.trim()
  if (text.startsWith('<')) {
    const out: Blob[] = []
    for (const [re, direction, label] of B64_ELEMENTS) {
      for (const m of text.matchAll(re)) out.push({ label, direction, bytes: fromBase64(m[1] as string) })
    }
    if (out.length === 0) throw new InvalidArgumentError('no base64 PSRP data found in the XML input')
    return out
  }
  const hex = text.replace(/[\s:]/g, '')
  if (/^[0-9a-fA-F]+$/.test(hex) && hex.length % 2 === 0 && /[^A-Za-z0-9+/=\s]|^[0-9a-fA-F\s:]+$/.test(text)) {
    return [{ label: 'hex input', direction: 'unknown', bytes: Uint8Array.from(Buffer.from(hex, 'hex')) }]
  }
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => ({ label: 'base64 input', direction: 'unknown' as const, bytes: fromBase64(l) }))
}

/** Renders the dissection of the input as text. */
export function decodeToText(input: string): string {
  const out: string[] = []
  const defrag = new Map<Blob['direction'], Defragmenter>()
  let messages = 0
  for (const blob of findBlobs(input)) {
    out.push(`== ${blob.label}: ${blob.bytes.length} bytes`)
    let d = defrag.get(blob.direction)
    if (d === undefined) defrag.set(blob.direction, (d = new Defragmenter()))
    let offset = 0
    while (offset < blob.bytes.length) {
      const r = decodeFragment(blob.bytes, offset)
      if (r === undefined) {
        out.push(`   (${blob.bytes.length - offset} trailing bytes: an incomplete fragment)`)
        break
      }
      const f = r.fragment
      const flags = [f.start ? 'start' : '', f.end ? 'end' : ''].filter((s) => s !== '').join('+') || 'middle'
      out.push(`-- fragment object=${f.objectId} fragment=${f.fragmentId} ${flags} blob=${f.data.length} bytes`)
      for (const raw of d.push(blob.bytes.subarray(offset, r.next))) {
        messages++
        out.push(...describeMessage(raw))
      }
      offset = r.next
    }
  }
  for (const [dir, d] of defrag) {
    if (d.incompleteObjects > 0) out.push(`(${dir}: ${d.incompleteObjects} message(s) incomplete; more fragments needed)`)
  }
  out.push(`${messages} message(s) decoded`)
  return out.join('\n')
}

function describeMessage(raw: Uint8Array): string[] {
  const msg = decodeMessage(raw)
  const out = [
    `   message ${msg.typeName ?? 'UNKNOWN'} (0x${msg.type.toString(16).padStart(8, '0')}) to ${msg.destination}`,
    `   rpid=${msg.rpid} pid=${msg.pid}${msg.hasBom ? ' (BOM)' : ''}`,
    `   (read as RFC 4122 bytes, as old recordings wrote them: rpid=${guidFromBytes(msg.rpidBytes, 0, 'be')} pid=${guidFromBytes(msg.pidBytes, 0, 'be')})`,
  ]
  if (msg.data.trim() === '') return [...out, '   (empty body)']
  try {
    decodeMessageBody(msg.type, msg.data)
  } catch (e) {
    out.push(`   ! ${(e as Error).message}`)
  }
  try {
    out.push(prettyClixml(msg.data).replace(/^/gm, '   | '))
  } catch {
    out.push(`   | ${msg.data}`)
  }
  return out
}
