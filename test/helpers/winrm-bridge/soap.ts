/**
 * SOAP side of the WinRM bridge: reads request envelopes (with the project's own XML parser and
 * namespace resolver) and writes response envelopes and faults shaped like the ones Windows WinRM
 * returns (copied from the pypsrp recordings under `shared/corpus/pypsrp`): `a:`/`w:`/`x:`/`rsp:`/`p:`
 * prefixes, `xml:lang="en-US"` on the Envelope, `a:RelatesTo` = the request's MessageID, `a:To` =
 * the anonymous role, a fresh upper-case `uuid:` MessageID.
 */
import { randomUUID } from 'node:crypto'
import { parseXml } from '../../../src/internal/xml.ts'
import { Namespace } from '../../../src/wsman/constants.ts'
import { parseDuration } from '../../../src/wsman/duration.ts'
import { fromBase64 } from '../../../src/internal/base64.ts'
import type { LiftedBody } from '../../../src/wsman/stream-lift.ts'
import { el, renderXml, renderXmlBytes, type XmlChild, type XmlNode } from '../../../src/wsman/xml-node.ts'
import { nsAttr, nsChild, nsChildren, resolveNamespaces, type NsElement } from '../../../src/wsman/xml-ns.ts'

/** Namespaces Windows declares on response envelopes, by the prefix it uses. */
export const RESPONSE_NS = {
  s: Namespace.s,
  a: Namespace.wsa,
  x: Namespace.wst,
  e: 'http://schemas.xmlsoap.org/ws/2004/08/eventing',
  n: Namespace.wsen,
  w: Namespace.wsman,
  rsp: Namespace.rsp,
  p: Namespace.wsmv,
  f: Namespace.wsmanfault,
} as const

type Prefix = keyof typeof RESPONSE_NS

/** A parsed request envelope. */
export interface SoapRequest {
  readonly action: string
  /** `wsa:MessageID` as sent (e.g. `uuid:…`). */
  readonly messageId: string
  readonly resourceUri: string
  readonly to: string | undefined
  readonly selectors: Readonly<Record<string, string>>
  /** `wsman:Option` values by Name. */
  readonly options: ReadonlyMap<string, string>
  /** `wsman:OperationTimeout` in milliseconds, when present. */
  readonly operationTimeoutMs: number | undefined
  /** `wsman:MaxEnvelopeSize` in bytes, when present. */
  readonly maxEnvelopeSize: number | undefined
  /** The first element of `s:Body`, if any. */
  readonly body: NsElement | undefined
  /** Aborted when the client closed the connection before the answer (a long poll given up). */
  readonly cancelled?: AbortSignal
  /**
   * The decoded contents of the request's long `Stream` elements, by element: taken out of the raw
   * body before it was decoded to text (see {@link parseLiftedRequest}).
   */
  readonly streamData?: ReadonlyMap<NsElement, Uint8Array>
}

/**
 * The request in `raw`, read with its long `Stream` contents taken out by the client's own lift
 * (`liftStreams`, src/wsman/stream-lift.ts, which gave `lifted`), so that neither the body nor a Send's
 * payload (~150 KB) is ever one string over V8's 128 KiB large-object size (dear on this machine,
 * bench/README.md). Each `Stream` whose text is a marker gets its bytes in `streamData`. When a
 * marker is not the whole text of a `Stream` of the body, or the lifted text does not parse, the
 * whole body is parsed instead: the result is always what {@link parseRequest} of the text gives.
 */
export function parseLiftedRequest(raw: Buffer, lifted: LiftedBody | undefined): SoapRequest {
  if (lifted !== undefined) {
    try {
      const req = parseRequest(lifted.text)
      const streamData = new Map<NsElement, Uint8Array>()
      for (const stream of nsChildren(req.body, Namespace.rsp, 'Stream')) {
        const data = lifted.streams.take(stream.text)
        if (data !== undefined) streamData.set(stream, data)
      }
      if (lifted.streams.complete) return { ...req, streamData }
    } catch {
      // parsed again from the whole body below, for the error that names its offsets
    }
  }
  return parseRequest(raw.toString('utf8'))
}

/** The bytes of a `Stream` element of `req`: what {@link parseLiftedRequest} took out, or its text decoded. */
export function streamBytes(req: SoapRequest, stream: NsElement): Uint8Array | undefined {
  return req.streamData?.get(stream) ?? fromBase64(stream.text)
}

/** Thrown for envelopes the bridge cannot read; answered with a fault. */
export class BadRequestError extends Error {}

/** Parses a request envelope. Throws {@link BadRequestError} on anything malformed. */
export function parseRequest(xml: string): SoapRequest {
  let env: NsElement
  try {
    env = resolveNamespaces(
      parseXml(xml, { error: (message, offset) => new BadRequestError(`${message} at offset ${offset}`) }),
    )
  } catch (e) {
    throw e instanceof BadRequestError ? e : new BadRequestError((e as Error).message)
  }
  if (env.local !== 'Envelope' || env.ns !== Namespace.s) throw new BadRequestError('not a SOAP 1.2 Envelope')
  const header = nsChild(env, Namespace.s, 'Header')
  const bodyEl = nsChild(env, Namespace.s, 'Body')
  if (header === undefined || bodyEl === undefined) throw new BadRequestError('Envelope without Header/Body')
  const text = (ns: string, local: string): string | undefined => nsChild(header, ns, local)?.text.trim()
  const selectors: Record<string, string> = {}
  for (const s of nsChildren(nsChild(header, Namespace.wsman, 'SelectorSet'), Namespace.wsman, 'Selector')) {
    const name = nsAttr(s, 'Name')
    if (name !== undefined) selectors[name] = s.text.trim()
  }
  const options = new Map<string, string>()
  for (const o of nsChildren(nsChild(header, Namespace.wsman, 'OptionSet'), Namespace.wsman, 'Option')) {
    const name = nsAttr(o, 'Name')
    if (name !== undefined) options.set(name, o.text.trim())
  }
  const timeoutText = text(Namespace.wsman, 'OperationTimeout')
  const timeout = timeoutText === undefined ? undefined : parseDuration(timeoutText)
  const maxText = text(Namespace.wsman, 'MaxEnvelopeSize')
  const max = maxText === undefined || !/^\d+$/.test(maxText) ? undefined : Number(maxText)
  return {
    action: text(Namespace.wsa, 'Action') ?? '',
    messageId: text(Namespace.wsa, 'MessageID') ?? '',
    resourceUri: text(Namespace.wsman, 'ResourceURI') ?? '',
    to: text(Namespace.wsa, 'To'),
    selectors,
    options,
    operationTimeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000),
    maxEnvelopeSize: max,
    body: bodyEl.children[0],
  }
}

/** A new `uuid:` MessageID in Windows' upper-case form. */
export function newMessageId(): string {
  return `uuid:${randomUUID().toUpperCase()}`
}

/** A new upper-case GUID (ShellId, CommandId). */
export function newGuid(): string {
  return randomUUID().toUpperCase()
}

/** Writes a response envelope. `prefixes` are the namespaces declared on the Envelope, in order. */
export function envelope(
  action: string,
  relatesTo: string,
  prefixes: readonly Prefix[],
  ...body: XmlChild[]
): string {
  return renderXml(envelopeNode(action, relatesTo, prefixes, body))
}

/**
 * {@link envelope} as UTF-8 bytes, with `base64Text` children written straight into them: a Receive
 * response of 150 KB is then never one string (V8 strings over 128 KiB are dear, bench/README.md).
 */
export function envelopeBytes(
  action: string,
  relatesTo: string,
  prefixes: readonly Prefix[],
  ...body: XmlChild[]
): Buffer {
  return renderXmlBytes(envelopeNode(action, relatesTo, prefixes, body))
}

function envelopeNode(
  action: string,
  relatesTo: string,
  prefixes: readonly Prefix[],
  body: XmlChild[],
): XmlNode {
  const attrs: Record<string, string> = { 'xml:lang': 'en-US' }
  for (const p of prefixes) attrs[`xmlns:${p}`] = RESPONSE_NS[p]
  const header = el(
    's:Header',
    undefined,
    el('a:Action', undefined, action),
    el('a:MessageID', undefined, newMessageId()),
    el('a:To', undefined, 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous'),
    relatesTo === '' ? undefined : el('a:RelatesTo', undefined, relatesTo),
  )
  return el('s:Envelope', attrs, header, el('s:Body', undefined, ...body))
}

/** The namespace set Windows declares on ordinary shell responses. */
export const SHELL_PREFIXES: readonly Prefix[] = ['s', 'a', 'x', 'w', 'rsp', 'p']
/** The namespace set Windows declares on faults. */
export const FAULT_PREFIXES: readonly Prefix[] = ['s', 'a', 'x', 'e', 'n', 'w', 'p']

/** A WS-Management fault as WinRM writes it. */
export interface FaultSpec {
  /** `s:Sender` or `s:Receiver`. */
  readonly code: 'Sender' | 'Receiver'
  /** Subcode QName using the response prefixes, e.g. `w:TimedOut` or `a:ActionNotSupported`. */
  readonly subcode: string
  readonly reason: string
  /** `w:FaultDetail` URI. */
  readonly faultDetail?: string
  /** `f:WSManFault/@Code`. */
  readonly wsmanCode: number
  /** `f:Message` text. */
  readonly message: string
  /** Wrap the message in `f:ProviderFault` (as plug-in faults are). */
  readonly provider?: { readonly provider: string; readonly path: string; readonly nested?: boolean }
  /** The fault Action (default the WS-Management fault action). */
  readonly action?: string
}

/** Host name put in `f:WSManFault/@Machine`. */
export const MACHINE = '127.0.0.1'

/** Writes a fault envelope (sent with HTTP 500). */
export function faultEnvelope(relatesTo: string, f: FaultSpec): string {
  const wsmanFault = (message: XmlChild): XmlNode =>
    el(
      'f:WSManFault',
      { 'xmlns:f': RESPONSE_NS.f, Code: String(f.wsmanCode), Machine: MACHINE },
      el('f:Message', undefined, message),
    )
  let message: XmlChild = f.message
  if (f.provider !== undefined) {
    message = el(
      'f:ProviderFault',
      { provider: f.provider.provider, path: f.provider.path },
      f.provider.nested === true ? wsmanFault(f.message) : f.message,
    )
  }
  return envelope(
    f.action ?? 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
    relatesTo,
    FAULT_PREFIXES,
    el(
      's:Fault',
      undefined,
      el(
        's:Code',
        undefined,
        el('s:Value', undefined, `s:${f.code}`),
        el('s:Subcode', undefined, el('s:Value', undefined, f.subcode)),
      ),
      el('s:Reason', undefined, el('s:Text', { 'xml:lang': 'en-US' }, f.reason)),
      el(
        's:Detail',
        undefined,
        f.faultDetail !== undefined && el('w:FaultDetail', undefined, f.faultDetail),
        wsmanFault(message),
      ),
    ),
  )
}

const TIMED_OUT_TEXT =
  'The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  '
const INVALID_SELECTORS_TEXT =
  'The WS-Management service cannot process the request because the request contained invalid selectors for the resource. '

/** The faults the bridge sends, each as Windows sends it. */
export const Faults = {
  /** Receive long poll expired (test_psrp_long_running_cmdlet.yml, test_winrs_operation_timeout.yml). */
  timedOut: (): FaultSpec => ({
    code: 'Receiver',
    subcode: 'w:TimedOut',
    reason: TIMED_OUT_TEXT,
    wsmanCode: 2150858793,
    message: TIMED_OUT_TEXT,
  }),
  /** Unknown or deleted ShellId (test_psrp_is_alive_invalid_selectors.yml). */
  unknownShell: (): FaultSpec => ({
    code: 'Sender',
    subcode: 'w:InvalidSelectors',
    reason: INVALID_SELECTORS_TEXT,
    faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors',
    wsmanCode: 2150858843,
    message: INVALID_SELECTORS_TEXT,
    provider: { provider: 'Shell provider', path: '%systemroot%\\system32\\WsmSvc.dll', nested: true },
  }),
  /** Unknown CommandId (test_psrp_receive_failure.yml). */
  unknownCommand: (): FaultSpec => ({
    code: 'Sender',
    subcode: 'w:InvalidSelectors',
    reason: INVALID_SELECTORS_TEXT,
    faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors',
    wsmanCode: 2150858843,
    message:
      'The Windows Remote Shell received a request to perform an operation on a command identifier that does not exist. Either the command has completed execution or the client specified an invalid command identifier. ',
  }),
  /** ERROR_INVALID_PARAMETER from the cmd plug-in (test_winrs_fail_poll_process.yml). */
  invalidParameter: (): FaultSpec => ({
    code: 'Sender',
    subcode: 'w:InvalidParameter',
    reason: 'The parameter is incorrect. ',
    faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidValue',
    wsmanCode: 87,
    message: 'The parameter is incorrect. ',
    provider: { provider: 'Shell cmd plugin', path: '%systemroot%\\system32\\winrscmd.dll' },
  }),
  /** ERROR_OPERATION_ABORTED (995): a pending Receive whose shell went away. */
  aborted: (why: string): FaultSpec => ({
    code: 'Receiver',
    subcode: 'w:InternalError',
    reason: `The I/O operation has been aborted because of either a thread exit or an application request. ${why}`,
    wsmanCode: 995,
    message: `The I/O operation has been aborted because of either a thread exit or an application request. ${why}`,
  }),
  /** Plug-in failure (e.g. the pwsh process died or refused a packet). */
  providerFailure: (message: string): FaultSpec => ({
    code: 'Receiver',
    subcode: 'w:InternalError',
    reason: message,
    wsmanCode: 2150858755,
    message,
    provider: {
      provider: 'microsoft.powershell',
      path: 'C:\\Windows\\system32\\pwrshplugin.dll',
    },
  }),
  /** ERROR_WSMAN_ACTION_NOT_SUPPORTED (0x80338013). */
  actionNotSupported: (action: string): FaultSpec => ({
    action: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/fault',
    code: 'Sender',
    subcode: 'a:ActionNotSupported',
    reason: 'The WS-Management service does not support the specified action. ',
    faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/ActionMismatch',
    wsmanCode: 2150858771,
    message: `The WS-Management service does not support the action ${action} specified in the request. `,
  }),
  /** Unknown resource URI (a:DestinationUnreachable / InvalidResourceURI, ERROR_WSMAN_RESOURCE_NOT_FOUND). */
  unknownResource: (uri: string): FaultSpec => ({
    action: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/fault',
    code: 'Sender',
    subcode: 'a:DestinationUnreachable',
    reason:
      'The WS-Management service cannot process the request. The service cannot find the resource identified by the resource URI and selectors. ',
    faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI',
    wsmanCode: 2150858752,
    message: `The WS-Management service cannot process the request. The resource URI (${uri}) was not found in the WS-Management catalog. The catalog contains the metadata that describes resources, or logical endpoints. `,
  }),
  /** ERROR_WSMAN_ENCODING_LIMIT (0x80338035): the request is larger than the service accepts. */
  encodingLimit: (size: number, limit: number): FaultSpec => ({
    code: 'Sender',
    subcode: 'w:EncodingLimit',
    reason:
      'The WS-Management service cannot process the request because the encoding of the request exceeds an internal encoding limit. ',
    faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/ServiceEnvelopeLimit',
    wsmanCode: 2150858805,
    message: `The WS-Management service cannot process the request because the request of ${size} bytes exceeds the maximum envelope size of ${limit} bytes. Reconfigure the client to send messages which fit the encoding limits of the service. `,
  }),
  /** A request the bridge cannot read (wsman:InvalidBody / malformed). */
  badRequest: (why: string): FaultSpec => ({
    code: 'Sender',
    subcode: 'w:SchemaValidationError',
    reason: `The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry. ${why}`,
    wsmanCode: 2150858817,
    message: `The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry. ${why}`,
  }),
} as const

/** `PnDTnHnMnS` as Windows writes ShellRunTime / ShellInactivity. */
export function dayDuration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000))
  const d = Math.floor(s / 86400)
  s -= d * 86400
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  return `P${d}DT${h}H${m}M${s}S`
}

/** `PT7200.000S` as Windows writes IdleTimeOut. */
export function secondsDuration(seconds: number): string {
  return `PT${seconds.toFixed(3)}S`
}
