/**
 * The OutOfProc packet codec: the eight line types PowerShell exchanges over `pwsh -s`, `-sshs`, named
 * pipes and Hyper-V sockets (`OutOfProcessUtils` in PowerShell's `OutOfProcTransportManager.cs`; see
 * `notes/transports.md` §1.1-1.3).
 *
 * The encoder writes exactly PowerShell's format (`<Data Stream='Default' PSGuid='…'>BASE64</Data>`,
 * `<Command PSGuid='…' />`, lower-case "D" GUIDs). The decoder accepts what PowerShell's `XmlReader`
 * accepts for the same line (either quote style, any attribute order, extra whitespace, any GUID case,
 * `{…}` GUIDs, a trailing `\r`) and rejects the rest with a {@link ProtocolError} (side `remote`).
 *
 * @module
 */
import { ProtocolError } from '../errors.ts'
import { fromBase64, toBase64 } from '../internal/base64.ts'

/** The all-zero GUID that addresses the runspace pool / session in OutOfProc packets. */
export const SESSION_GUID = '00000000-0000-0000-0000-000000000000'

/**
 * Largest payload PowerShell puts in one `<Data>` packet (`BaseTransportManager.DefaultFragmentSize`,
 * 32 KiB including the 21-byte fragment header).
 */
export const MAX_PACKET_DATA = 32_768

/**
 * Payload of the `<Data>` packets this client sends unless told otherwise: 31 KiB, 1 KiB under
 * {@link MAX_PACKET_DATA}.
 *
 * pwsh reads each packet as a line (one string) and takes its base64 out as a second string. .NET
 * allocates any object of 85,000 bytes or more on its large-object heap, which only a full (gen 2)
 * collection frees, and a string of n characters takes about 2n + 22 bytes. At 32 KiB the base64 is
 * 43,692 characters, so both strings were large objects, two per packet. At 31 KiB it is 42,328 and
 * the longest line (`Stream='PromptResponse'`, 83 characters of markup) 42,411: both stay in the
 * young generation. Measured copying 50 MiB over `pwsh -s`: pwsh's background-GC thread 0.8 → 0.5 s
 * of CPU per copy, and the copy 5–15% faster.
 */
export const DEFAULT_PACKET_DATA = 31 * 1024

/** Which server receive buffer a `<Data>` packet feeds: `Stream='Default'` or `Stream='PromptResponse'`. */
export type OutOfProcStream = 'default' | 'promptResponse'

/** `<Data Stream='…' PSGuid='…'>base64</Data>`: PSRP fragment bytes for the pool or one pipeline. */
export interface DataPacket {
  readonly kind: 'data'
  /** Lower-case GUID; {@link SESSION_GUID} for the pool. */
  readonly guid: string
  readonly stream: OutOfProcStream
  /** The decoded payload (never empty). */
  readonly data: Uint8Array
}

/** A packet that carries only a `PSGuid` attribute. */
export interface GuidPacket<K extends GuidPacketKind> {
  readonly kind: K
  /** Lower-case GUID; {@link SESSION_GUID} for the pool. */
  readonly guid: string
}

/** Kinds of the seven packets that carry only a GUID. */
export type GuidPacketKind =
  'dataAck' | 'command' | 'commandAck' | 'signal' | 'signalAck' | 'close' | 'closeAck'

/** One OutOfProc packet (one line on the wire). */
export type OutOfProcPacket =
  | DataPacket
  | GuidPacket<'dataAck'>
  | GuidPacket<'command'>
  | GuidPacket<'commandAck'>
  | GuidPacket<'signal'>
  | GuidPacket<'signalAck'>
  | GuidPacket<'close'>
  | GuidPacket<'closeAck'>

/**
 * A server error line: `__NamedPipeError__:` (`-sshs`, named pipes) or `__HyperVSocketError__:`
 * followed by the server's error text.
 */
export interface ServerErrorLine {
  readonly kind: 'serverError'
  /** The prefix without the colon, e.g. `__NamedPipeError__`. */
  readonly prefix: ServerErrorPrefix
  /** The error text after the prefix. */
  readonly message: string
}

/** Prefixes PowerShell puts before in-band error text. */
export type ServerErrorPrefix = '__NamedPipeError__' | '__HyperVSocketError__'

/** What one decoded line is: a packet or a server error line. */
export type OutOfProcLine = OutOfProcPacket | ServerErrorLine

const ELEMENT_OF_KIND = {
  data: 'Data',
  dataAck: 'DataAck',
  command: 'Command',
  commandAck: 'CommandAck',
  signal: 'Signal',
  signalAck: 'SignalAck',
  close: 'Close',
  closeAck: 'CloseAck',
} as const satisfies Record<OutOfProcPacket['kind'], string>

const KIND_OF_ELEMENT: ReadonlyMap<string, OutOfProcPacket['kind']> = new Map(
  Object.entries(ELEMENT_OF_KIND).map(([k, v]) => [v, k as OutOfProcPacket['kind']]),
)

const STREAM_NAME = { default: 'Default', promptResponse: 'PromptResponse' } as const

const SERVER_ERROR_PREFIXES: readonly ServerErrorPrefix[] = ['__NamedPipeError__', '__HyperVSocketError__']

const D_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

/**
 * Canonical GUID text for OutOfProc packets (lower case, "D" format). Accepts any case and an optional
 * `{…}` wrapper, like .NET `new Guid(string)` does for the forms PowerShell could send; returns
 * `undefined` for anything else.
 *
 * (Private to this folder until `src/internal/guid.ts` settles; it has the same rules.)
 */
export function canonicalGuid(text: string): string | undefined {
  let g = text.trim().toLowerCase()
  if (g.startsWith('{') && g.endsWith('}')) g = g.slice(1, -1)
  return D_GUID.test(g) ? g : undefined
}

function guidForEncoding(guid: string): string {
  const g = canonicalGuid(guid)
  if (g === undefined) throw new ProtocolError(`not a GUID: ${JSON.stringify(guid)}`, { side: 'local' })
  return g
}

/**
 * Encodes one packet as PowerShell writes it, without the line terminator.
 *
 * @throws {ProtocolError} (side `local`) for a bad GUID or an empty or oversized `data` payload.
 */
export function encodePacket(packet: OutOfProcPacket): string {
  const guid = guidForEncoding(packet.guid)
  if (packet.kind === 'data') {
    if (packet.data.length === 0) throw new ProtocolError('a Data packet cannot be empty', { side: 'local' })
    if (packet.data.length > MAX_PACKET_DATA) {
      throw new ProtocolError(
        `a Data packet holds at most ${MAX_PACKET_DATA} bytes, got ${packet.data.length}`,
        {
          side: 'local',
        },
      )
    }
    return `<Data Stream='${STREAM_NAME[packet.stream]}' PSGuid='${guid}'>${toBase64(packet.data)}</Data>`
  }
  return `<${ELEMENT_OF_KIND[packet.kind]} PSGuid='${guid}' />`
}

/** {@link encodePacket} plus the `\n` line terminator pwsh expects (`\n` is accepted on every OS). */
export function encodePacketLine(packet: OutOfProcPacket): string {
  return `${encodePacket(packet)}\n`
}

/** Shortens untrusted text for an error message. */
function excerpt(text: string, max = 120): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text)
}

function fail(message: string, line: string): never {
  throw new ProtocolError(`malformed OutOfProc packet: ${message}: ${excerpt(line)}`, { side: 'remote' })
}

const NAME = /[A-Za-z_][\w.-]*/y
const WS = /[ \t\r\n]*/y
const ATTR_VALUE_SINGLE = /'([^'<]*)'/y
const ATTR_VALUE_DOUBLE = /"([^"<]*)"/y

/** Minimal XML entity decoding for attribute values (GUIDs never need it, but XmlReader allows it). */
function decodeEntities(value: string, line: string): string {
  if (!value.includes('&')) return value
  return value.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|apos|quot);|&/g, (m, ent: string | undefined) => {
    if (ent === undefined) fail('bare "&" in attribute value', line)
    if (ent === 'lt') return '<'
    if (ent === 'gt') return '>'
    if (ent === 'amp') return '&'
    if (ent === 'apos') return "'"
    if (ent === 'quot') return '"'
    const code = ent.startsWith('#x') ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10)
    if (!(code > 0 && code <= 0x10ffff)) fail(`bad character reference ${m}`, line)
    return String.fromCodePoint(code)
  })
}

/** The start of every `<Data>` line pwsh writes (`OOPTM` `CreateDataPacket`; servers send `Default` only). */
const CANONICAL_DATA_START = "<Data Stream='Default' PSGuid='"
const CANONICAL_DATA_END = '</Data>'
const GUID_LENGTH = 36
/** The PSGuid of the last canonical line: a pipeline's packets repeat it, so it is checked once. */
let lastCanonicalGuid = ''

/**
 * The fast path of {@link decodeLine} for a `<Data>` line exactly as PowerShell formats it
 * (`<Data Stream='Default' PSGuid='…'>base64</Data>`, a lower-case GUID, no terminator): fixed offsets
 * instead of the general tokenizer, and the GUID text of the previous line reused when it repeats.
 * Returns `undefined` for anything else, which then takes the general path (and gets its exact error).
 */
function decodeCanonicalDataLine(line: string): DataPacket | undefined {
  const guidAt = CANONICAL_DATA_START.length
  const textAt = guidAt + GUID_LENGTH + 2
  const textEnd = line.length - CANONICAL_DATA_END.length
  if (textEnd <= textAt || !line.startsWith(CANONICAL_DATA_START)) return undefined
  if (line.charCodeAt(textAt - 2) !== 0x27 || line.charCodeAt(textAt - 1) !== 0x3e) return undefined
  if (!line.endsWith(CANONICAL_DATA_END)) return undefined
  let guid = lastCanonicalGuid
  if (guid === '' || !line.startsWith(guid, guidAt)) {
    guid = line.slice(guidAt, guidAt + GUID_LENGTH)
    if (!D_GUID.test(guid)) return undefined
    lastCanonicalGuid = guid
  }
  const data = fromBase64(line.slice(textAt, textEnd))
  if (data === undefined || data.length === 0) return undefined
  return { kind: 'data', guid, stream: 'default', data }
}

/**
 * Decodes one received line (without or with its `\n`/`\r\n` terminator).
 *
 * @returns the packet, or a {@link ServerErrorLine} for `__NamedPipeError__:`/`__HyperVSocketError__:`
 *   lines.
 * @throws {ProtocolError} (side `remote`) for an unknown element, a wrong attribute count or name, a bad
 *   GUID or `Stream`, missing/invalid base64 content, trailing text, or anything that is not a packet.
 */
export function decodeLine(rawLine: string): OutOfProcLine {
  const canonical = decodeCanonicalDataLine(rawLine)
  if (canonical !== undefined) return canonical
  const line = rawLine.replace(/\r?\n$|\r$/, '')
  for (const prefix of SERVER_ERROR_PREFIXES) {
    if (line.startsWith(`${prefix}:`)) {
      return { kind: 'serverError', prefix, message: line.slice(prefix.length + 1) }
    }
  }

  let pos = 0
  const skipWs = (): void => {
    WS.lastIndex = pos
    WS.exec(line)
    pos = WS.lastIndex
  }
  const name = (): string | undefined => {
    NAME.lastIndex = pos
    const m = NAME.exec(line)
    if (m === null) return undefined
    pos = NAME.lastIndex
    return m[0]
  }

  skipWs()
  if (line[pos] !== '<') fail('not an XML element', line)
  pos++
  const element = name()
  if (element === undefined) fail('missing element name', line)
  const kind = KIND_OF_ELEMENT.get(element)
  if (kind === undefined) fail(`unknown element <${element}>`, line)

  // attributes
  const attrs = new Map<string, string>()
  let selfClosing = false
  for (;;) {
    const before = pos
    skipWs()
    const c = line[pos]
    if (c === '/' && line[pos + 1] === '>') {
      selfClosing = true
      pos += 2
      break
    }
    if (c === '>') {
      pos++
      break
    }
    if (c === undefined) fail('unterminated start tag', line)
    if (pos === before) fail('expected whitespace before attribute', line)
    const attr = name()
    if (attr === undefined) fail('bad attribute', line)
    skipWs()
    if (line[pos] !== '=') fail(`attribute ${attr} has no value`, line)
    pos++
    skipWs()
    const re = line[pos] === '"' ? ATTR_VALUE_DOUBLE : ATTR_VALUE_SINGLE
    re.lastIndex = pos
    const m = re.exec(line)
    if (m === null) fail(`bad value for attribute ${attr}`, line)
    pos = re.lastIndex
    if (attrs.has(attr)) fail(`duplicate attribute ${attr}`, line)
    attrs.set(attr, decodeEntities(m[1] ?? '', line))
  }

  const expected = kind === 'data' ? 2 : 1
  if (attrs.size !== expected) {
    fail(
      `<${element}> must have exactly ${expected} attribute${expected === 1 ? '' : 's'}, got ${attrs.size}`,
      line,
    )
  }
  const guidText = attrs.get('PSGuid')
  if (guidText === undefined) fail(`<${element}> has no PSGuid attribute`, line)
  const guid = canonicalGuid(guidText)
  if (guid === undefined) fail(`bad PSGuid ${excerpt(guidText, 60)}`, line)

  if (kind !== 'data') {
    if (!selfClosing) {
      // `<Command PSGuid='…'></Command>` is the same element to XmlReader.
      const close = `</${element}`
      if (!line.startsWith(close, pos)) fail(`<${element}> must be empty`, line)
      pos += close.length
      skipWs()
      if (line[pos] !== '>') fail(`bad end tag for <${element}>`, line)
      pos++
    }
    skipWs()
    if (pos !== line.length) fail('unexpected text after the element', line)
    return { kind, guid }
  }

  const streamText = attrs.get('Stream')
  if (streamText === undefined) fail('<Data> has no Stream attribute', line)
  // PowerShell compares the stream name case-insensitively.
  const lower = streamText.toLowerCase()
  const stream: OutOfProcStream | undefined =
    lower === 'default' ? 'default' : lower === 'promptresponse' ? 'promptResponse' : undefined
  if (stream === undefined) fail(`unknown Stream ${excerpt(streamText, 40)}`, line)
  if (selfClosing) fail('<Data> has no content', line)
  const end = line.indexOf('<', pos)
  if (end < 0) fail('<Data> is not closed', line)
  const text = line.slice(pos, end)
  pos = end
  if (!line.startsWith('</Data', pos)) fail('<Data> may contain only base64 text', line)
  pos += '</Data'.length
  skipWs()
  if (line[pos] !== '>') fail('bad end tag for <Data>', line)
  pos++
  skipWs()
  if (pos !== line.length) fail('unexpected text after the element', line)
  if (text.trim() === '') fail('<Data> has no content', line)
  const data = fromBase64(text)
  if (data === undefined) fail('<Data> content is not valid base64', line)
  if (data.length === 0) fail('<Data> has no content', line)
  return { kind: 'data', guid, stream, data }
}
