/**
 * `psrp decode`: a PSRP dissector. Reads base64 or hex of a creationXml, a WS-Man Receive/Send
 * stream, raw fragments, a whole SOAP envelope, or OutOfProc `<Data>` lines, and prints the
 * fragments, message headers, a one-line summary of the typed fields and the CLIXML bodies in
 * readable form. Bad data is reported where it occurs and dissection goes on.
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

const ATTR = `[^>]*`
const B64_ELEMENTS: [RegExp, Blob['direction'], string][] = [
  [/<(?:\w+:)?creationXml[^>]*>([^<]+)</g, 'client', 'creationXml'],
  [/<(?:\w+:)?connectXml[^>]*>([^<]+)</g, 'client', 'connectXml'],
  [/<(?:\w+:)?connectResponseXml[^>]*>([^<]+)</g, 'server', 'connectResponseXml'],
  [new RegExp(`<(?:\\w+:)?Stream${ATTR}Name=["']stdout["']${ATTR}>([^<]+)<`, 'g'), 'server', 'stdout stream'],
  [
    new RegExp(`<(?:\\w+:)?Stream${ATTR}Name=["'](?:stdin|pr)["']${ATTR}>([^<]+)<`, 'g'),
    'client',
    'stdin/pr stream',
  ],
  [/<(?:\w+:)?Arguments>([^<]+)</g, 'client', 'Command arguments'],
  [/<Data [^>]*>([^<]+)<\/Data>/g, 'unknown', 'OutOfProc Data packet'],
]

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
  if (text.startsWith('<') || /<\w+:Envelope[\s>]/.test(text)) {
    const out: Blob[] = []
    for (const [re, direction, label] of B64_ELEMENTS) {
      for (const m of text.matchAll(re)) {
        const b64 = (m[1] as string).trim()
        if (b64 !== '') out.push({ label, direction, bytes: fromBase64(b64, label) })
      }
    }
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
