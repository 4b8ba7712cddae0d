/**
 * Reads pypsrp's recorded WinRM traffic (`corpus/pypsrp/**\/*.yml`; format in shared/notes/replay.md)
 * and pulls the base64 PSRP payloads out of the SOAP envelopes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** One HTTP round trip of a recording. */
export interface Exchange {
  request: string
  response: string | undefined
  flags: Record<string, string>
}

/** Parses the small YAML subset the recordings use (plain scalars folded over indented lines). */
export function parseRecording(text: string): Exchange[] {
  const out: Exchange[] = []
  let current: Exchange | undefined
  let key: string | undefined
  const finish = (): void => {
    if (current !== undefined) out.push(current)
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '')
    if (line.startsWith('#') || line.trim() === '' || line === 'messages:') continue
    let m: RegExpExecArray | null
    if ((m = /^- (\w+): ?(.*)$/.exec(line)) !== null) {
      finish()
      current = { request: '', response: undefined, flags: {} }
      key = m[1]
      set(current, key as string, m[2] as string)
    } else if ((m = /^ {2}(\w+): ?(.*)$/.exec(line)) !== null && current !== undefined) {
      key = m[1]
      set(current, key as string, m[2] as string)
    } else if (line.startsWith('    ') && current !== undefined && key !== undefined) {
      // folded continuation of a plain scalar, or a nested mapping of a flag
      const cont = line.trim()
      if (key === 'request' || key === 'response') set(current, key, `${get(current, key)} ${cont}`)
      else current.flags[key] = `${current.flags[key] ?? ''} ${cont}`.trim()
    }
  }
  finish()
  return out
}

function get(e: Exchange, key: string): string {
  return key === 'request' ? e.request : (e.response ?? '')
}

function set(e: Exchange, key: string, value: string): void {
  if (key === 'request') e.request = value
  else if (key === 'response') e.response = value
  else e.flags[key] = value
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
  const m = /<wsman:Selector Name="ShellId">([^<]+)<\/wsman:Selector>/.exec(request) ?? /<rsp:Shell ShellId="([^"]+)"/.exec(request)
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
