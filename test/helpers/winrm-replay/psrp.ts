/**
 * PSRP payloads inside WS-Man envelopes, for the replay server: decoding base64 fragment streams into
 * messages, a semantic (prefix-, RefId-, order- and whitespace-insensitive) form of CLIXML bodies and
 * a diff over it, and length-preserving GUID rewriting of fragment streams.
 */
import {
  decodeFragments,
  decodeMessage,
  encodeFragment,
  messageTypeName,
  MessageType,
  type PsrpMessage,
} from '../../../src/psrp/index.ts'
import { decodeClixmlString } from '../../../src/clixml/index.ts'
import { parseXml, type XmlElement } from '../../../src/internal/xml.ts'
import { asGuid, GUID_IN_TEXT, inCaseOf, readGuid, writeGuid, type GuidOrder } from './guids.ts'

/** Base64 of bytes. */
export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

/** Bytes of base64 text (whitespace ignored). */
export function unb64(text: string): Uint8Array {
  const b = Buffer.from(text.replace(/\s+/g, ''), 'base64')
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** A message with its header GUIDs read in a given byte order. */
export interface DecodedPsrpMessage {
  destination: 'client' | 'server'
  type: number
  typeName: string
  rpid: string
  pid: string
  /** CLIXML body (BOM removed). */
  data: string
}

/** Reads a reassembled message, with header GUIDs in `order`. */
export function readMessage(raw: Uint8Array, order: GuidOrder): DecodedPsrpMessage {
  const m: PsrpMessage = decodeMessage(raw)
  return {
    destination: m.destination,
    type: m.type,
    typeName: messageTypeName(m.type) ?? `0x${m.type.toString(16).padStart(8, '0')}`,
    rpid: readGuid(raw, 8, order),
    pid: readGuid(raw, 24, order),
    data: m.data,
  }
}

/**
 * Rewrites the GUIDs of a base64 fragment stream: the RPID/PID of every message header (read in
 * `from` order, written in `to` order) and textual GUIDs inside the blobs (length-preserving, so no
 * re-fragmenting is needed; a textual GUID split across two fragments is not rewritten). Returns the
 * input unchanged when it is not a fragment stream.
 */
export function rewritePayload(
  text: string,
  map: (guid: string) => string,
  from: GuidOrder,
  to: GuidOrder,
): string {
  const bytes = unb64(text)
  let frags
  try {
    frags = decodeFragments(bytes)
  } catch {
    return text
  }
  if (frags.length === 0) return text
  const out = Uint8Array.from(bytes)
  let offset = 0
  for (const f of frags) {
    const blobAt = offset + 21
    if (f.start && f.data.length >= 40) {
      for (const at of [8, 24]) {
        const g = readGuid(out, blobAt + at, from)
        writeGuid(out, blobAt + at, map(g), to)
      }
    }
    const blob = Buffer.from(out.buffer, out.byteOffset + blobAt, f.data.length)
    const latin = blob.toString('latin1')
    for (const m of latin.matchAll(GUID_IN_TEXT)) {
      const mapped = inCaseOf(map(m[0].toLowerCase()), m[0])
      blob.write(mapped, m.index, 'latin1')
    }
    offset = blobAt + f.data.length
  }
  return b64(out)
}

/**
 * Rewrites the call id (`ci`) of the RUNSPACE_AVAILABILITY messages of a base64 fragment stream through
 * `map` (recorded → actual; undefined keeps it). Only messages in a single fragment are rewritten
 * (the fragment length is adjusted); the input is returned unchanged when nothing changed.
 */
export function rewriteCallIds(text: string, map: (callId: string) => string | undefined): string {
  const bytes = unb64(text)
  let frags
  try {
    frags = decodeFragments(bytes)
  } catch {
    return text
  }
  let changed = false
  const parts = frags.map((f) => {
    if (!f.start || !f.end || f.data.length < 40) return encodeFragment(f)
    const type = Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).readUInt32LE(4)
    if (type !== MessageType.RUNSPACE_AVAILABILITY) return encodeFragment(f)
    const body = Buffer.from(f.data.subarray(40)).toString('utf8')
    const rewritten = body.replace(
      /(<I64 N="ci">)(-?\d+)(<\/I64>)/i,
      (m: string, open: string, ci: string, close: string) => {
        const actual = map(ci)
        return actual === undefined ? m : `${open}${actual}${close}`
      },
    )
    if (rewritten === body) return encodeFragment(f)
    changed = true
    const data = Buffer.concat([f.data.subarray(0, 40), Buffer.from(rewritten, 'utf8')])
    return encodeFragment({ ...f, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) })
  })
  return changed ? b64(Buffer.concat(parts)) : text
}

// ---------------------------------------------------------------------------------------------
// Semantic CLIXML

/** The semantic form of a CLIXML value: JSON data with tags. */
export type Canon = null | string | boolean | number | Canon[] | { [k: string]: Canon }

const xmlError = (m: string, o: number): Error => new Error(`${m} at ${o}`)

const INTEGER_TAGS = new Set(['I16', 'I32', 'I64', 'U16', 'U32', 'U64', 'By', 'SB'])
const FLOAT_TAGS = new Set(['Db', 'Sg', 'D'])

/** Options of {@link canonicalClixml}. */
export interface CanonOptions {
  /**
   * Keep what the semantic form drops: `<ToString>`, the type names of collections, enum objects
   * (the semantic form keeps only their value), and properties whose value is `<Nil>`. (Property
   * names are compared case-insensitively by {@link diffCanon} unless told otherwise.)
   */
  strict?: boolean
}

/**
 * The semantic form of a CLIXML document: tag, `N` and value tree. RefIds are resolved (`Ref`
 * becomes the object it names; `TNRef` the type names), `MS`/`Props` become maps by name (property
 * order does not matter), collections stay ordered, numbers and strings are compared by value (so
 * `_x000A_` and a literal line feed are the same).
 */
export function canonicalClixml(xml: string, options: CanonOptions = {}): Canon {
  const strict = options.strict === true
  const root = parseXml(xml, { error: xmlError })
  const objs = new Map<string, XmlElement>()
  const tns = new Map<string, string[]>()
  const canon = (el: XmlElement, depth: number): Canon => {
    if (depth > 200) return '<too deep>'
    const tag = el.name.replace(/^.*:/, '')
    switch (tag) {
      case 'Nil':
        return null
      case 'Ref': {
        const target = objs.get(el.attrs['RefId'] ?? '')
        return target === undefined ? { Ref: `unknown RefId ${el.attrs['RefId']}` } : canon(target, depth + 1)
      }
      case 'Obj':
        return canonObj(el, depth)
      case 'S':
      case 'C':
      case 'URI':
      case 'Version':
      case 'XD':
      case 'SBK':
        return { [tag]: decodeClixmlString(el.text) }
      case 'B':
        return { B: el.text.trim().toLowerCase() === 'true' }
      case 'G':
        return { G: asGuid(el.text) ?? el.text.trim() }
      case 'BA':
        return { BA: el.text.replace(/\s+/g, '') }
      case 'SS':
        return { SS: el.text.replace(/\s+/g, '') }
      default:
        if (INTEGER_TAGS.has(tag)) {
          try {
            return { [tag]: BigInt(el.text.trim()).toString() }
          } catch {
            return { [tag]: el.text.trim() }
          }
        }
        if (FLOAT_TAGS.has(tag)) {
          const n = Number(el.text.trim())
          return { [tag]: Number.isNaN(n) ? el.text.trim() : String(n) }
        }
        return {
          [tag]: el.children.length > 0 ? el.children.map((c) => canon(c, depth + 1)) : el.text.trim(),
        }
    }
  }
  const register = (el: XmlElement): void => {
    const tag = el.name.replace(/^.*:/, '')
    if (tag === 'Obj' && el.attrs['RefId'] !== undefined && !objs.has(el.attrs['RefId'])) {
      objs.set(el.attrs['RefId'], el)
    }
    if (tag === 'TN' && el.attrs['RefId'] !== undefined) {
      tns.set(
        el.attrs['RefId'],
        el.children.map((c) => c.text),
      )
    }
    for (const c of el.children) register(c)
  }
  const named = (children: XmlElement[], depth: number): { [k: string]: Canon } => {
    const out: { [k: string]: Canon } = {}
    children.forEach((c, i) => {
      const v = canon(c, depth + 1)
      // a property that is Nil is the same as an absent one, unless strict
      if (v !== null || strict) out[c.attrs['N'] ?? `#${i}`] = v
    })
    return sortKeys(out)
  }
  const canonObj = (el: XmlElement, depth: number): Canon => {
    const o: { [k: string]: Canon } = {}
    for (const c of el.children) {
      const tag = c.name.replace(/^.*:/, '')
      switch (tag) {
        case 'TN':
          o['TN'] = c.children.map((t) => t.text)
          break
        case 'TNRef':
          o['TN'] = tns.get(c.attrs['RefId'] ?? '') ?? [`unknown TNRef ${c.attrs['RefId']}`]
          break
        case 'ToString':
          if (strict) o['ToString'] = decodeClixmlString(c.text)
          break
        case 'MS':
        case 'Props': {
          // adapted (Props) and extended (MS) properties are one property set to PowerShell; pypsrp
          // writes as extended what PowerShell adapts (KeyInfo, Coordinates): merged unless strict
          const key = strict ? tag : 'MS'
          o[key] = sortKeys({
            ...(o[key] as { [k: string]: Canon } | undefined),
            ...named(c.children, depth),
          })
          break
        }
        case 'LST':
        case 'IE':
        case 'QUE':
        case 'STK':
          o[tag] = c.children.map((i) => canon(i, depth + 1))
          break
        case 'DCT':
          o['DCT'] = c.children.map((en) => {
            const k = en.children.find((x) => x.attrs['N'] === 'Key')
            const v = en.children.find((x) => x.attrs['N'] === 'Value')
            return [
              k === undefined ? null : canon(k, depth + 1),
              v === undefined ? null : canon(v, depth + 1),
            ]
          })
          break
        default:
          o['value'] = canon(c, depth + 1)
      }
    }
    if (!strict) {
      // .NET type names of enums and collections are serializer details (pypsrp writes
      // System.Management.Automation.Runspaces.ApartmentState and List`1, PowerShell
      // System.Threading.ApartmentState and Object[]): compare the value only
      const tn = o['TN']
      const collection = ['LST', 'IE', 'QUE', 'STK', 'DCT'].some((k) => k in o)
      if (collection) delete o['TN']
      // an enum is its value (pypsrp sends some enums as a bare <I32>)
      if (Array.isArray(tn) && tn.includes('System.Enum') && o['value'] !== undefined && !('MS' in o)) {
        return o['value'] as Canon
      }
    }
    return { Obj: sortKeys(o) }
  }
  register(root)
  return canon(root, 0)
}

function sortKeys(o: { [k: string]: Canon }): { [k: string]: Canon } {
  const out: { [k: string]: Canon } = {}
  for (const k of Object.keys(o).sort()) out[k] = o[k] as Canon
  return out
}

const CONTAINER_KEYS = new Set(['Obj', 'MS', 'Props', 'LST', 'IE', 'QUE', 'STK', 'DCT', 'value'])
const PRIMITIVE_TAGS = new Set([
  'S',
  'C',
  'B',
  'DT',
  'TS',
  'By',
  'SB',
  'U16',
  'I16',
  'U32',
  'I32',
  'U64',
  'I64',
  'Sg',
  'Db',
  'D',
  'BA',
  'G',
  'URI',
  'Version',
  'XD',
  'SBK',
  'SS',
  'PR',
])

function isRecord(v: Canon): v is { [k: string]: Canon } {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** Human path of a semantic-CLIXML position: property names and list indexes only. */
function step(path: string, key: string): string {
  if (/^\d+$/.test(key)) return `${path}[${key}]`
  if (CONTAINER_KEYS.has(key) || PRIMITIVE_TAGS.has(key)) return path
  return path === '' ? key : `${path}.${key}`
}

/**
 * Differences between two semantic values, as `path: expected …, got …` lines (at most `limit`).
 * `leaf` may decide string comparisons (GUID binding); `ignore` skips paths.
 */
export function diffCanon(
  expected: Canon,
  actual: Canon,
  options: {
    /** Decides a string comparison: null = equal, a string = the difference, undefined = not decided. */
    leaf?: (e: string, a: string, path: string) => string | null | undefined
    ignore?: (path: string) => boolean
    limit?: number
    /** Compare property names with their letter case (default: case-insensitively, as PowerShell does). */
    caseSensitive?: boolean
    /**
     * Decides a property the actual value has and the expected lacks: true when the addition is
     * allowed (e.g. a field of a later protocol version at its default value); the diff then omits it.
     */
    added?: (path: string, value: Canon, parent: { [k: string]: Canon }) => boolean
  } = {},
): string[] {
  const out: string[] = []
  const limit = options.limit ?? 8
  const show = (v: Canon): string => {
    const s = JSON.stringify(v)
    return s.length > 120 ? `${s.slice(0, 117)}...` : s
  }
  const walk = (e: Canon, a: Canon, path: string): void => {
    if (out.length >= limit) return
    if (options.ignore?.(path) === true) return
    if (typeof e === 'string' && typeof a === 'string') {
      if (e === a) return
      const r = options.leaf?.(e, a, path)
      if (r === null) return
      out.push(r ?? `${path || '(root)'}: expected ${show(e)}, got ${show(a)}`)
      return
    }
    if (Array.isArray(e) && Array.isArray(a)) {
      for (let i = 0; i < Math.max(e.length, a.length); i++) {
        if (i >= e.length) out.push(`${step(path, String(i))}: unexpected ${show(a[i] as Canon)}`)
        else if (i >= a.length) out.push(`${step(path, String(i))}: missing ${show(e[i] as Canon)}`)
        else walk(e[i] as Canon, a[i] as Canon, step(path, String(i)))
        if (out.length >= limit) return
      }
      return
    }
    if (isRecord(e) && isRecord(a)) {
      // property names are case-insensitive in PowerShell (pypsrp writes `CI` where PowerShell writes `ci`)
      const fold = (k: string): string => (options.caseSensitive === true ? k : k.toLowerCase())
      const ek = new Map(Object.keys(e).map((k) => [fold(k), k]))
      const ak = new Map(Object.keys(a).map((k) => [fold(k), k]))
      for (const f of new Set([...ek.keys(), ...ak.keys()])) {
        const ekey = ek.get(f)
        const akey = ak.get(f)
        const p = step(path, ekey ?? (akey as string))
        if (options.ignore?.(p) === true) continue
        if (akey === undefined) out.push(`${p}: missing (expected ${show(e[ekey as string] as Canon)})`)
        else if (ekey === undefined) {
          if (options.added?.(p, a[akey] as Canon, a) !== true)
            out.push(`${p}: unexpected ${show(a[akey] as Canon)}`)
        } else walk(e[ekey] as Canon, a[akey] as Canon, p)
        if (out.length >= limit) return
      }
      return
    }
    if (e !== a) out.push(`${path || '(root)'}: expected ${show(e)}, got ${show(a)}`)
  }
  walk(expected, actual, '')
  return out
}
