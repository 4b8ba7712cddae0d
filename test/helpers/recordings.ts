/**
 * Reads recorded WinRM traffic (pypsrp's YAML recordings, `corpus/pypsrp/**\/*.yml` and the
 * project's own under `test/recordings/`; format in shared/notes/replay.md) and pulls the base64 PSRP
 * payloads out of the SOAP envelopes.
 *
 * The YAML is read with the `yaml` package, so every form a recorder may write is accepted: plain
 * scalars folded over lines, single- and double-quoted scalars, literal and folded block scalars, and
 * Python tags such as `!!python/unicode` (read as plain strings). A file that is not a recording
 * throws a {@link RecordingFormatError} naming what is wrong.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseDocument, type ScalarTag } from 'yaml'

/** One HTTP round trip of a recording. */
export interface Exchange {
  request: string
  response: string | undefined
  /**
   * Every other key of the exchange (`transport_error`, `http_error`, `timeout`, `overrides`, …).
   * Scalars are kept as their text (`yes`, `1`); mappings and lists are flattened to `key: value`
   * text as the old reader did, and the parsed value is in {@link Exchange.flagValues}.
   */
  flags: Record<string, string>
  /** The parsed value of every flag, as YAML gave it. */
  flagValues: Record<string, unknown>
}

/** A recording that cannot be read: not YAML, or not `messages: [{request, response, …}]`. */
export class RecordingFormatError extends Error {
  override name = 'RecordingFormatError'
}

/** Python's string tags (`!!python/unicode 'text'`, `!!python/str`) are read as plain strings. */
const pythonStringTags: ScalarTag[] = ['python/unicode', 'python/str', 'python/bytes'].map((t) => ({
  tag: `tag:yaml.org,2002:${t}`,
  resolve: (s: string): string => s,
}))

/** Flag values as text: `{protocol: http, code: 500}` becomes `protocol: http code: 500`. */
function flagText(v: unknown): string {
  if (v === null || v === undefined) return ''
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  if (typeof v !== 'object') return String(v)
  if (Array.isArray(v)) return v.map(flagText).join(' ')
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k}: ${flagText(x)}`)
    .join(' ')
}

/** Parses a recording's text. */
export function parseRecording(text: string): Exchange[] {
  const doc = parseDocument(text, { customTags: pythonStringTags, uniqueKeys: false })
  if (doc.errors.length > 0) {
    throw new RecordingFormatError(`not valid YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`)
  }
  const root: unknown = doc.toJS({ maxAliasCount: 100 })
  const messages = (root as { messages?: unknown } | null)?.messages
  if (!Array.isArray(messages)) throw new RecordingFormatError('no `messages:` list at the top level')
  return messages.map((m: unknown, i: number): Exchange => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      throw new RecordingFormatError(`messages[${i}] is not a mapping`)
    }
    const { request, response, ...rest } = m as Record<string, unknown>
    if (typeof request !== 'string') throw new RecordingFormatError(`messages[${i}] has no request text`)
    if (response !== undefined && response !== null && typeof response !== 'string') {
      throw new RecordingFormatError(`messages[${i}].response is not text`)
    }
    const flags: Record<string, string> = {}
    for (const [k, v] of Object.entries(rest)) flags[k] = flagText(v)
    return {
      request,
      response: typeof response === 'string' && response !== '' ? response : undefined,
      flags,
      flagValues: rest,
    }
  })
}

/** Every `.yml` recording under a folder, sorted. */
export function listRecordings(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else if (name.endsWith('.yml') && !name.startsWith('_')) out.push(p)
    }
  }
  walk(dir)
  return out
}

/** Reads and parses one recording. */
export function readRecording(path: string): Exchange[] {
  return parseRecording(readFileSync(path, 'utf8'))
}

/** True when the envelope targets a PowerShell (PSRP) resource URI rather than WinRS cmd. */
export function isPsrpEnvelope(request: string): boolean {
  return /<wsman:ResourceURI[^>]*>http:\/\/schemas\.microsoft\.com\/powershell\//.test(request)
}

/** The ShellId selector of a request, or the ShellId attribute of a Create. */
export function shellIdOf(request: string): string | undefined {
  const m =
    /<wsman:Selector Name="ShellId">([^<]+)<\/wsman:Selector>/.exec(request) ??
    /<rsp:Shell ShellId="([^"]+)"/.exec(request)
  return m?.[1]?.toLowerCase()
}

/** The base64 PSRP payloads in a request (creationXml, connectXml, Send streams, Command arguments). */
export function requestPayloads(request: string): string[] {
  const out: string[] = []
  for (const re of [
    /<creationXml[^>]*>([^<]+)<\/creationXml>/g,
    /<connectXml[^>]*>([^<]+)<\/connectXml>/g,
    /<rsp:Stream[^>]*>([^<]+)<\/rsp:Stream>/g,
    /<rsp:Arguments>([^<]+)<\/rsp:Arguments>/g,
  ]) {
    for (const m of request.matchAll(re)) out.push(m[1] as string)
  }
  return out
}

/** The base64 PSRP payloads in a response (Receive streams, connectResponseXml). */
export function responsePayloads(response: string): string[] {
  const out: string[] = []
  for (const re of [
    /<rsp:Stream[^>]*>([^<]+)<\/rsp:Stream>/g,
    /<(?:\w+:)?connectResponseXml[^>]*>([^<]+)<\/(?:\w+:)?connectResponseXml>/g,
  ]) {
    for (const m of response.matchAll(re)) out.push(m[1] as string)
  }
  return out
}
