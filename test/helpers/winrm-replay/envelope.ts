/**
 * WS-Man SOAP envelopes for the replay server: the parts of a request that matter for matching, the
 * PSRP payloads a request or response carries, response rewriting and SOAP faults.
 */
import { parseXml, localName, escapeXmlText, type XmlElement } from '../../../src/internal/xml.ts'
import { GUID_IN_TEXT, inCaseOf, type GuidOrder } from './guids.ts'
import { rewritePayload } from './psrp.ts'

/** Namespaces used in synthesized envelopes. */
export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  a: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  w: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  p: 'http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd',
  rsp: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell',
  f: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
} as const

/** Short names of the WS-Man actions seen in WinRM traffic. */
export function actionName(action: string): string {
  return action.replace(/^.*\//, '')
}

/** Where a PSRP payload sits in a request or response. */
export type PayloadKind =
  'creationXml' | 'connectXml' | 'Send' | 'Arguments' | 'Receive' | 'connectResponseXml'

/** A base64 payload of an envelope. */
export interface Payload {
  kind: PayloadKind
  /** Stream name (Send/Receive). */
  stream?: string | undefined
  /** CommandId attribute (Send/Receive streams), or the CommandLine's CommandId (Arguments). */
  commandId?: string | undefined
  /** The base64 text. */
  b64: string
}

/** The parts of a request envelope that matter. */
export interface ParsedEnvelope {
  raw: string
  root: XmlElement
  action: string
  resourceUri: string
  messageId: string | undefined
  relatesTo: string | undefined
  selectors: [string, string][]
  options: [string, string][]
  /** Header values kept for scenarios: OperationTimeout, MaxEnvelopeSize, Locale. */
  operationTimeout: string | undefined
  maxEnvelopeSize: string | undefined
  /** The first element of s:Body, or undefined when the body is empty. */
  body: XmlElement | undefined
  /** True when ResourceURI is a PowerShell (PSRP) endpoint. */
  psrp: boolean
  /** True when the body is a SOAP fault. */
  fault: boolean
}

const xmlError = (m: string, o: number): Error => new Error(`malformed SOAP envelope: ${m} at offset ${o}`)

/** Children by local name. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => localName(c.name) === name)
}

/** Descendants (depth-first) with a local name. */
export function descendants(el: XmlElement | undefined, name: string): XmlElement[] {
  const out: XmlElement[] = []
  const walk = (e: XmlElement): void => {
    for (const c of e.children) {
      if (localName(c.name) === name) out.push(c)
      walk(c)
    }
  }
  if (el !== undefined) walk(el)
  return out
}

/** An attribute by local name. */
export function attr(el: XmlElement | undefined, name: string): string | undefined {
  if (el === undefined) return undefined
  for (const [k, v] of Object.entries(el.attrs)) if (localName(k) === name) return v
  return undefined
}

/** Parses an envelope. */
export function parseEnvelope(xml: string): ParsedEnvelope {
  const root = parseXml(xml, { error: xmlError })
  if (localName(root.name) !== 'Envelope') throw new Error(`not a SOAP envelope: <${root.name}>`)
  const header = child(root, 'Header')
  const bodyEl = child(root, 'Body')
  const text = (name: string): string | undefined => child(header, name)?.text.trim()
  const resourceUri = text('ResourceURI') ?? ''
  const selectors = (child(header, 'SelectorSet')?.children ?? []).map((s): [string, string] => [
    s.attrs['Name'] ?? '',
    s.text.trim(),
  ])
  const options = (child(header, 'OptionSet')?.children ?? []).map((s): [string, string] => [
    s.attrs['Name'] ?? '',
    s.text.trim(),
  ])
  const body = bodyEl?.children[0]
  return {
    raw: xml,
    root,
    action: text('Action') ?? '',
    resourceUri,
    messageId: text('MessageID'),
    relatesTo: text('RelatesTo'),
    selectors,
    options,
    operationTimeout: text('OperationTimeout'),
    maxEnvelopeSize: text('MaxEnvelopeSize'),
    body,
    psrp: resourceUri.startsWith('http://schemas.microsoft.com/powershell/'),
    fault: body !== undefined && localName(body.name) === 'Fault',
  }
}

/** The ShellId a request addresses (selector, or the Create body's ShellId attribute). */
export function shellIdOf(env: ParsedEnvelope): string | undefined {
  const sel = env.selectors.find(([n]) => n === 'ShellId')?.[1]
  if (sel !== undefined) return sel
  return env.body !== undefined && localName(env.body.name) === 'Shell'
    ? attr(env.body, 'ShellId')
    : undefined
}

/** The PSRP payloads of a request (PowerShell resource URIs only). */
export function requestPayloads(env: ParsedEnvelope): Payload[] {
  if (!env.psrp || env.body === undefined) return []
  const out: Payload[] = []
  const body = env.body
  switch (localName(body.name)) {
    case 'Shell':
      for (const c of descendants(body, 'creationXml')) out.push({ kind: 'creationXml', b64: c.text.trim() })
      break
    case 'Connect':
      for (const c of descendants(body, 'connectXml')) out.push({ kind: 'connectXml', b64: c.text.trim() })
      break
    case 'Send':
      for (const c of descendants(body, 'Stream')) {
        out.push({
          kind: 'Send',
          stream: attr(c, 'Name'),
          commandId: attr(c, 'CommandId'),
          b64: c.text.trim(),
        })
      }
      break
    case 'CommandLine':
      for (const c of descendants(body, 'Arguments')) {
        out.push({ kind: 'Arguments', commandId: attr(body, 'CommandId'), b64: c.text.trim() })
      }
      break
  }
  return out.filter((p) => p.b64 !== '')
}

/** The PSRP payloads of a response to a PowerShell-resource request. */
export function responsePayloads(env: ParsedEnvelope): Payload[] {
  const out: Payload[] = []
  for (const c of descendants(env.body, 'Stream')) {
    if (c.text.trim() !== '') {
      out.push({
        kind: 'Receive',
        stream: attr(c, 'Name'),
        commandId: attr(c, 'CommandId'),
        b64: c.text.trim(),
      })
    }
  }
  for (const c of descendants(env.body, 'connectResponseXml')) {
    if (c.text.trim() !== '') out.push({ kind: 'connectResponseXml', b64: c.text.trim() })
  }
  return out
}

const PAYLOAD_ELEMENT =
  /(<(?:[\w-]+:)?(Stream|creationXml|connectXml|connectResponseXml|Arguments)(?:\s[^>]*)?>)([A-Za-z0-9+/=\s]+)(<\/(?:[\w-]+:)?\2>)/g

/**
 * Rewrites an envelope's GUIDs: every textual GUID through `map` (kept in its letter case), and, when
 * `psrp`, the header GUIDs and textual GUIDs inside its base64 PSRP payloads (read in `from` order,
 * written in `to` order).
 */
export function rewriteEnvelope(
  xml: string,
  map: (guid: string) => string,
  psrp: { from: GuidOrder; to: GuidOrder } | undefined,
): string {
  let out = xml.replace(GUID_IN_TEXT, (g) => inCaseOf(map(g.toLowerCase()), g))
  if (psrp !== undefined) {
    out = out.replace(PAYLOAD_ELEMENT, (_m, open: string, _tag: string, body: string, close: string) => {
      return `${open}${rewritePayload(body, map, psrp.from, psrp.to)}${close}`
    })
  }
  return out
}

/** Sets the text of the first `RelatesTo` header (adds none when absent). */
export function setRelatesTo(xml: string, messageId: string): string {
  return xml.replace(
    /(<(?:[\w-]+:)?RelatesTo(?:\s[^>]*)?>)[^<]*(<\/(?:[\w-]+:)?RelatesTo>)/,
    (_m, open: string, close: string) => `${open}${escapeXmlText(messageId)}${close}`,
  )
}

/** A WS-Man fault envelope as Windows shapes it, with our own explanation. */
export function faultEnvelope(
  relatesTo: string | undefined,
  subcode: string,
  reason: string,
  code = '2150858770',
): string {
  return (
    `<s:Envelope xml:lang="en-US" xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:w="${NS.w}" xmlns:f="${NS.f}">` +
    `<s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>` +
    `<a:MessageID>uuid:${globalThis.crypto.randomUUID().toUpperCase()}</a:MessageID>` +
    `<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>` +
    (relatesTo !== undefined ? `<a:RelatesTo>${escapeXmlText(relatesTo)}</a:RelatesTo>` : '') +
    `</s:Header><s:Body><s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:${subcode}</s:Value>` +
    `</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">${escapeXmlText(reason)}</s:Text></s:Reason>` +
    `<s:Detail><f:WSManFault Code="${code}" Machine="replay"><f:Message>${escapeXmlText(reason)}</f:Message>` +
    `</f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`
  )
}

/** The w:TimedOut fault Windows sends when a Receive has nothing to return within OperationTimeout. */
export function timedOutEnvelope(relatesTo: string | undefined): string {
  return faultEnvelope(
    relatesTo,
    'TimedOut',
    'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.',
    '2150858793',
  )
}

/** The w:InvalidSelectors fault for a request on a shell that no longer exists. */
export function invalidSelectorsEnvelope(relatesTo: string | undefined): string {
  return faultEnvelope(
    relatesTo,
    'InvalidSelectors',
    'The WS-Management service cannot process the request because the request contained invalid selectors for the resource.',
    '2150858843',
  )
}

/** A SendResponse envelope (synthesized when a client splits one recorded Send into several). */
export function sendResponseEnvelope(relatesTo: string | undefined): string {
  return (
    `<s:Envelope xml:lang="en-US" xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:rsp="${NS.rsp}">` +
    `<s:Header><a:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SendResponse</a:Action>` +
    `<a:MessageID>uuid:${globalThis.crypto.randomUUID().toUpperCase()}</a:MessageID>` +
    `<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>` +
    (relatesTo !== undefined ? `<a:RelatesTo>${escapeXmlText(relatesTo)}</a:RelatesTo>` : '') +
    `</s:Header><s:Body><rsp:SendResponse/></s:Body></s:Envelope>`
  )
}

/** A SignalResponse envelope (synthesized for a Signal on a finished command that the recording lacks). */
export function signalResponseEnvelope(relatesTo: string | undefined): string {
  return (
    `<s:Envelope xml:lang="en-US" xmlns:s="${NS.s}" xmlns:a="${NS.a}" xmlns:rsp="${NS.rsp}">` +
    `<s:Header><a:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/SignalResponse</a:Action>` +
    `<a:MessageID>uuid:${globalThis.crypto.randomUUID().toUpperCase()}</a:MessageID>` +
    `<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>` +
    (relatesTo !== undefined ? `<a:RelatesTo>${escapeXmlText(relatesTo)}</a:RelatesTo>` : '') +
    `</s:Header><s:Body><rsp:SignalResponse/></s:Body></s:Envelope>`
  )
}

/** True when a response body is a SOAP fault (sent with HTTP 500). */
export function isFault(xml: string): boolean {
  return /<(?:[\w-]+:)?Fault[\s>]/.test(xml)
}
