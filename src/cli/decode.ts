/**
 * `psrp decode`: a PSRP dissector. Reads base64 or hex of a creationXml, a WS-Man Receive/Send
 * stream, raw fragments, a whole SOAP envelope, or OutOfProc `<Data>` lines, and prints the
 * fragments, message headers, a one-line summary of the typed fields and the CLIXML bodies in
 * readable form. Bad data is reported where it occurs and dissection goes on.
 *
 * Input detection and extraction are one pass over the text (no regular expression with nested or
 * adjacent unbounded repetition), so any input, however hostile, costs time linear in its length. The
 * data elements are taken in document order, so a message whose fragments span several envelopes
 * (a Command's arguments, then Send) reassembles.
 *
 * @module
 */
import {
  decodeFragment,
  Defragmenter,
  decodeMessage,
  decodeMessageBody,
  guidFromBytes,
  hostMethodName,
  pipelineStateName,
  runspacePoolStateName,
  type DecodedMessageBody,
} from '../psrp/index.ts'
import { prettyClixml } from '../clixml/index.ts'
import { InvalidArgumentError, PsrpError } from '../errors.ts'

/** One source of PSRP bytes found in the input. */
export interface Blob {
  /** Where it came from (e.g. `creationXml`, `stdout stream`). */
  label: string
  /** Which defragmenter it feeds (one per direction, since ObjectIds are per sender). */
  direction: 'client' | 'server' | 'unknown'
  /** The fragment bytes. */
  bytes: Uint8Array
}

/** Options of {@link dissect}. */
export interface DissectOptions {
  /** Print the CLIXML bodies (default true). */
  bodies?: boolean
}

/** The dissection: the text to print and how many errors were found. */
export interface Dissection {
  text: string
  /** Fragments, messages or bodies that could not be decoded. */
  errors: number
  /** Whole messages decoded. */
  messages: number
}

/**
 * The elements that carry base64 PSRP data, by local name (any `prefix:`, attributes as listed):
 * `creationXml`, `connectXml` (client), `connectResponseXml` (server), `Stream` with `Name` `stdout`
 * (server) or `stdin`/`pr` (client), `Arguments` without attributes (client), and OutOfProc's
 * unprefixed `<Data …>…</Data>` (either side). The text up to the next `<` is the data.
 */
function blobKind(tag: string, next: string): { label: string; direction: Blob['direction'] } | undefined {
  const nameEnd = tagNameEnd(tag)
  const name = tag.slice(0, nameEnd)
  const colon = name.indexOf(':')
  const prefixed = colon !== -1
  if (prefixed && !/^\w+$/.test(name.slice(0, colon))) return undefined
  const local = name.slice(colon + 1)
  switch (local) {
    case 'creationXml':
      return { label: 'creationXml', direction: 'client' }
    case 'connectXml':
      return { label: 'connectXml', direction: 'client' }
    case 'connectResponseXml':
      return { label: 'connectResponseXml', direction: 'server' }
    case 'Arguments':
      return nameEnd === tag.length ? { label: 'Command arguments', direction: 'client' } : undefined
    case 'Stream': {
      const stream = attributeValue(tag, nameEnd, 'Name')
      if (stream === 'stdout') return { label: 'stdout stream', direction: 'server' }
      if (stream === 'stdin' || stream === 'pr') return { label: 'stdin/pr stream', direction: 'client' }
      return undefined
    }
    case 'Data':
      return !prefixed && tag[nameEnd] === ' ' && next === 'Data'
        ? { label: 'OutOfProc Data packet', direction: 'unknown' }
        : undefined
    default:
      return undefined
  }
}

/** Where the element name of a tag body ends (at white space, `/` or the end). */
function tagNameEnd(tag: string): number {
  for (let i = 0; i < tag.length; i++) {
    const c = tag.charCodeAt(i)
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x2f) return i
  }
  return tag.length
}

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r'

/**
 * The value of attribute `name` in a tag body, read left to right once (each character is looked at a
 * bounded number of times): `name="v"` or `name='v'`, white space allowed around `=`.
 */
function attributeValue(tag: string, from: number, name: string): string | undefined {
  let i = from
  while (i < tag.length) {
    while (isSpace(tag[i])) i++
    const start = i
    while (i < tag.length && !isSpace(tag[i]) && tag[i] !== '=') i++
    const attr = tag.slice(start, i)
    while (isSpace(tag[i])) i++
    if (tag[i] !== '=') {
      if (i === start) i++
      continue
    }
    i++
    while (isSpace(tag[i])) i++
    const quote = tag[i]
    if (quote !== '"' && quote !== "'") continue
    const close = tag.indexOf(quote, i + 1)
    if (close === -1) return undefined
    if (attr === name) return tag.slice(i + 1, close)
    i = close + 1
  }
  return undefined
}

/** True when the text holds `<prefix:Envelope` followed by white space or `>` (one pass). */
function hasEnvelope(text: string): boolean {
  for (let at = text.indexOf(':Envelope'); at !== -1; at = text.indexOf(':Envelope', at + 1)) {
    const after = text[at + ':Envelope'.length]
    if (after !== '>' && !(after !== undefined && /\s/.test(after))) continue
    let i = at
    while (i > 0 && /\w/.test(text[i - 1] as string)) i--
    if (i < at && text[i - 1] === '<') return true
  }
  return false
}

/**
 * The base64 blobs of the PSRP elements in XML text (see {@link blobKind}), in document order. One
 * pass: each `<` is visited once, and the `>` that ends a tag is searched for only past the last one
 * found, so the time is linear in the text whatever it holds (unterminated tags, long lines).
 */
function xmlBlobs(text: string): Blob[] {
  const out: Blob[] = []
  let gt = -1
  for (let lt = text.indexOf('<'); lt !== -1;) {
    const next = text.indexOf('<', lt + 1)
    if (gt <= lt) {
      gt = text.indexOf('>', lt + 1)
      if (gt === -1) break // no tag after here can end
    }
    // a tag ends at the first '>' before the next '<'; the data is the text up to that '<'
    if (next !== -1 && gt < next) {
      const tag = text.slice(lt + 1, gt)
      const closing = text.slice(next + 2, next + 6)
      const kind = blobKind(tag, text[next + 1] === '/' && text[next + 6] === '>' ? closing : '')
      if (kind !== undefined) {
        const b64 = text.slice(gt + 1, next).trim()
        if (b64 !== '') out.push({ ...kind, bytes: fromBase64(b64, kind.label) })
      }
    }
    lt = next
  }
  return out
}

function fromBase64(text: string, what: string): Uint8Array {
  const compact = text.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) {
    throw new InvalidArgumentError(`${what} is neither hex, base64 nor XML holding base64 PSRP data`)
  }
  return Uint8Array.from(Buffer.from(compact, 'base64'))
}

function fromHex(text: string): Uint8Array | undefined {
  const hex = text.replace(/^0x/i, '').replace(/[\s:]/g, '')
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) return undefined
  // Pure hex digits can also be valid base64 ("ABCD"): take hex when separators or lower-case
  // digits show it, or when base64 would be impossible.
  const looksHex = /[\s:]/.test(text.trim()) || /[a-f]/.test(hex) || hex.length % 4 !== 0 || /^0x/i.test(text)
  return looksHex || !/^[A-Za-z0-9+/]+$/.test(text.trim())
    ? Uint8Array.from(Buffer.from(hex, 'hex'))
    : undefined
}

/** Finds the PSRP byte blobs in the input text (XML with base64 elements, hex, or base64 lines). */
export function findBlobs(input: string): Blob[] {
  const text = input.trim()
  if (text.startsWith('<') || hasEnvelope(text)) {
    const out = xmlBlobs(text)
    if (out.length === 0) throw new InvalidArgumentError('no base64 PSRP data found in the XML input')
    return out
  }
  const hex = fromHex(text)
  if (hex !== undefined) return [{ label: 'hex input', direction: 'unknown', bytes: hex }]
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l, i) => ({
      label: 'base64 input',
      direction: 'unknown' as const,
      bytes: fromBase64(l, `line ${i + 1}`),
    }))
}

const errorText = (e: unknown): string => (e instanceof PsrpError ? `${e.code}: ${e.message}` : String(e))

/** Dissects the input. Throws {@link InvalidArgumentError} only when no PSRP data can be found at all. */
export function dissect(input: string, options: DissectOptions = {}): Dissection {
  const out: string[] = []
  const defrag = new Map<Blob['direction'], Defragmenter>()
  let messages = 0
  let errors = 0
  for (const blob of findBlobs(input)) {
    out.push(`== ${blob.label}: ${blob.bytes.length} bytes`)
    let d = defrag.get(blob.direction)
    if (d === undefined) defrag.set(blob.direction, (d = new Defragmenter()))
    let offset = 0
    while (offset < blob.bytes.length) {
      let r: ReturnType<typeof decodeFragment>
      try {
        r = decodeFragment(blob.bytes, offset)
      } catch (e) {
        errors++
        out.push(`   ! fragment at byte ${offset}: ${errorText(e)}; skipping the rest of this blob`)
        break
      }
      if (r === undefined) {
        out.push(`   (${blob.bytes.length - offset} trailing bytes: an incomplete fragment)`)
        break
      }
      const f = r.fragment
      const flags = [f.start ? 'start' : '', f.end ? 'end' : ''].filter((s) => s !== '').join('+') || 'middle'
      out.push(
        `-- fragment object=${f.objectId} fragment=${f.fragmentId} ${flags} blob=${f.data.length} bytes`,
      )
      let done: Uint8Array[] = []
      try {
        done = d.push(blob.bytes.subarray(offset, r.next))
      } catch (e) {
        errors++
        out.push(`   ! ${errorText(e)}; restarting reassembly for this direction`)
        defrag.set(blob.direction, (d = new Defragmenter()))
      }
      for (const raw of done) {
        messages++
        const lines = describeMessage(raw, options.bodies ?? true)
        if (lines.some((l) => l.startsWith('   ! '))) errors++
        out.push(...lines)
      }
      offset = r.next
    }
  }
  for (const [dir, d] of defrag) {
    if (d.incompleteObjects > 0)
      out.push(`(${dir}: ${d.incompleteObjects} message(s) incomplete; more fragments needed)`)
  }
  out.push(`${messages} message(s) decoded${errors > 0 ? `, ${errors} error(s)` : ''}`)
  return { text: out.join('\n'), errors, messages }
}

/** Renders the dissection of the input as text (see {@link dissect}). */
export function decodeToText(input: string): string {
  return dissect(input).text
}

function describeMessage(raw: Uint8Array, bodies: boolean): string[] {
  let msg: ReturnType<typeof decodeMessage>
  try {
    msg = decodeMessage(raw)
  } catch (e) {
    return [`   ! message of ${raw.length} bytes: ${errorText(e)}`]
  }
  const out = [
    `   message ${msg.typeName ?? 'UNKNOWN'} (0x${msg.type.toString(16).padStart(8, '0')}) to ${msg.destination}`,
    `   rpid=${msg.rpid} pid=${msg.pid}${msg.hasBom ? ' (BOM)' : ''}`,
  ]
  const rfcRpid = guidFromBytes(msg.rpidBytes, 0, 'be')
  const rfcPid = guidFromBytes(msg.pidBytes, 0, 'be')
  if (rfcRpid !== msg.rpid || rfcPid !== msg.pid) {
    out.push(`   (read as RFC 4122 bytes, as old recordings wrote them: rpid=${rfcRpid} pid=${rfcPid})`)
  }
  if (msg.data.trim() === '') out.push('   (empty body)')
  try {
    const summary = summarize(decodeMessageBody(msg.type, msg.data))
    if (summary !== '') out.push(`   = ${summary}`)
  } catch (e) {
    out.push(`   ! ${errorText(e)}`)
  }
  if (!bodies || msg.data.trim() === '') return out
  try {
    out.push(prettyClixml(msg.data).replace(/^/gm, '   | '))
  } catch {
    out.push(`   | ${msg.data}`)
  }
  return out
}

function scalar(v: unknown): string | undefined {
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v)
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return undefined
}

/** A one-line summary of the typed fields (scalars, state and host-method names, commands). */
export function summarize(d: DecodedMessageBody): string {
  const parts: string[] = []
  const fields = d.fields as unknown as Record<string, unknown>
  for (const [k, v] of Object.entries(fields)) {
    if (k === 'methodName') continue
    const s = scalar(v)
    if (s !== undefined) parts.push(`${k}=${s}`)
  }
  switch (d.type) {
    case 'RUNSPACEPOOL_STATE':
      parts.unshift(`${runspacePoolStateName(d.fields.state) ?? 'unknown state'}`)
      break
    case 'PIPELINE_STATE':
      parts.unshift(`${pipelineStateName(d.fields.state) ?? 'unknown state'}`)
      break
    case 'RUNSPACEPOOL_HOST_CALL':
    case 'PIPELINE_HOST_CALL':
      parts.unshift(`${d.fields.methodName ?? 'unknown method'}(${d.fields.parameters.length} argument(s))`)
      break
    case 'RUNSPACEPOOL_HOST_RESPONSE':
    case 'PIPELINE_HOST_RESPONSE':
      parts.unshift(
        `${hostMethodName(d.fields.methodId) ?? 'unknown method'} ${d.fields.error !== undefined ? 'failed' : 'returned'}`,
      )
      break
    case 'CREATE_PIPELINE':
      parts.unshift(
        d.fields.statements
          .map((s) =>
            s
              .map((c) => (c.isScript ? `{${c.command.split('\n')[0]?.slice(0, 40)}}` : c.command))
              .join(' | '),
          )
          .join('; '),
      )
      break
    default:
      break
  }
  return parts.join(', ')
}
