/**
 * Request envelopes: a typed {@link WSManRequest} value in, the SOAP 1.2 envelope text out.
 *
 * The header carries the WS-Addressing and WS-Management blocks every WinRM request needs (DSP0226
 * section 5 and 6; MS-WSMV 3.1.4.1): `wsa:To`, `wsa:ReplyTo` (anonymous), `wsa:Action`,
 * `wsa:MessageID` (`uuid:` + upper-case GUID), `wsman:ResourceURI`, `wsman:SelectorSet`,
 * `wsman:OptionSet` (with `MustComply` per option), `wsman:OperationTimeout`,
 * `wsman:MaxEnvelopeSize` (mustUnderstand), `wsman:Locale` and `wsmv:DataLocale` (mustUnderstand
 * false, MS-WSMV 3.1.4.1) and `wsmv:SessionId` (MS-WSMV 3.1.4.1.37).
 *
 * Bodies: WS-Transfer Create/Put carry a caller-built element (a WinRS `rsp:Shell` from
 * `winrs.ts`/`psrp-shell.ts`, or any resource representation), Get/Delete have an empty body,
 * WS-Enumeration Enumerate/Pull bodies are built here, and the WinRS operations (Command, Send,
 * Receive, Signal, Connect, Disconnect, Reconnect; MS-WSMV 3.1.4.11-3.1.4.17) carry the `rsp:` element
 * their builders made. A custom action (a CIM method, DSP0227 section 9; WS-Enumeration Release)
 * carries the element its caller built (`cim.ts`, `enumeration.ts`).
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'
import { normalizeGuid, randomGuid, type GuidSource } from '../internal/guid.ts'
import { ANONYMOUS_ADDRESS, Namespace, SELECTOR_FILTER_DIALECT, WSManAction } from './constants.ts'
import { formatDuration } from './duration.ts'
import { el, renderXml, renderXmlBytes, usedPrefixes, type XmlChild, type XmlNode } from './xml-node.ts'

/** Selector name → value (`wsman:SelectorSet`, DSP0226 7.2), written in insertion order. */
export type SelectorSet = Readonly<Record<string, string>>

/** One `wsman:Option` of a `wsman:OptionSet` (DSP0226 6.4). */
export interface WSManOption {
  /** The `Name` attribute, e.g. `WINRS_CODEPAGE`. */
  readonly name: string
  /** The option value as text. */
  readonly value: string
  /** `MustComply="true"`: the service must fault rather than ignore the option. */
  readonly mustComply?: boolean
}

/** Fields every request has. */
export interface RequestCommon {
  /** `wsman:ResourceURI`. */
  readonly resourceUri: string
  /** `wsman:SelectorSet` (omitted when empty). */
  readonly selectors?: SelectorSet
  /** `wsman:OptionSet` (omitted when empty); always sent with `s:mustUnderstand="true"`. */
  readonly options?: readonly WSManOption[]
  /** `wsman:OperationTimeout` in seconds for this request; overrides {@link EnvelopeOptions.operationTimeout}. */
  readonly operationTimeout?: number
}

/** WS-Transfer Create (MS-WSMV 3.1.4.5): `body` is the representation to create, e.g. `rsp:Shell`. */
export interface CreateRequest extends RequestCommon {
  readonly action: 'create'
  readonly body: XmlNode
}

/** WS-Transfer Put (MS-WSMV 3.1.4.3): `body` is the replacement representation. */
export interface PutRequest extends RequestCommon {
  readonly action: 'put'
  readonly body: XmlNode
}

/** WS-Transfer Get (MS-WSMV 3.1.4.2) or Delete: empty body, the resource is named by URI and selectors. */
export interface TransferRequest extends RequestCommon {
  readonly action: 'get' | 'delete'
}

/**
 * A WinRS shell operation (MS-WSMV 3.1.4.11-3.1.4.17). `body` is the `rsp:` element built by
 * `winrs.ts` or `psrp-shell.ts`; only Reconnect may have no body.
 */
export interface ShellRequest extends RequestCommon {
  readonly action: 'command' | 'send' | 'receive' | 'signal' | 'connect' | 'disconnect' | 'reconnect'
  readonly body?: XmlNode
}

/** A `wsman:Filter` of an Enumerate. */
export type EnumerationFilter =
  /** A DSP0226 selector filter: only instances whose selectors match. */
  | { readonly selectors: SelectorSet }
  /** Any other dialect (e.g. WQL), with the filter expression as text. */
  | { readonly dialect: string; readonly text: string }

/** WS-Enumeration Enumerate (DSP0226 8.2) with the WS-Management extensions. */
export interface EnumerateRequest extends RequestCommon {
  readonly action: 'enumerate'
  /** Send `wsman:OptimizeEnumeration` so the first items come back in the response (default true). */
  readonly optimize?: boolean
  /** `wsman:MaxElements` (default 32000, the WinRM `MaxBatchItems` default). */
  readonly maxElements?: number
  /** `wsman:Filter`. */
  readonly filter?: EnumerationFilter
}

/** WS-Enumeration Pull with the context from the previous Enumerate/Pull response. */
export interface PullRequest extends RequestCommon {
  readonly action: 'pull'
  readonly enumerationContext: string
  /** `wsman:MaxElements` (default 32000). */
  readonly maxElements?: number
}

/**
 * Any other action (a CIM method such as `…/Win32_Service/StopService`, WS-Enumeration Release, a
 * plug-in's own action): `actionUri` is sent as `wsa:Action`, `body` (if any) as the `s:Body` child.
 */
export interface CustomRequest extends RequestCommon {
  readonly action: 'custom'
  readonly actionUri: string
  readonly body?: XmlNode | undefined
}

/** Every request {@link buildEnvelope} can write, discriminated by `action`. */
export type WSManRequest =
  CreateRequest | PutRequest | TransferRequest | ShellRequest | EnumerateRequest | PullRequest | CustomRequest

/** The action name of a {@link WSManRequest}. */
export type WSManRequestAction = WSManRequest['action']

const ACTION_URI: Readonly<Record<Exclude<WSManRequestAction, 'custom'>, string>> = {
  create: WSManAction.Create,
  put: WSManAction.Put,
  get: WSManAction.Get,
  delete: WSManAction.Delete,
  enumerate: WSManAction.Enumerate,
  pull: WSManAction.Pull,
  command: WSManAction.Command,
  send: WSManAction.Send,
  receive: WSManAction.Receive,
  signal: WSManAction.Signal,
  connect: WSManAction.Connect,
  disconnect: WSManAction.Disconnect,
  reconnect: WSManAction.Reconnect,
}

/** Per-connection header values. */
export interface EnvelopeOptions {
  /** `wsa:To`: the endpoint URL, e.g. `https://win1:5986/wsman`. */
  readonly to: string
  /** The MessageID GUID (with or without `uuid:`); by default a new one from {@link newGuid}. */
  readonly messageId?: string
  /** GUID source for the MessageID (default `crypto.randomUUID`); inject a fixed one in tests. */
  readonly newGuid?: GuidSource
  /** `wsmv:SessionId` GUID; omitted when undefined. */
  readonly sessionId?: string
  /** `wsman:OperationTimeout` in seconds (default 20). */
  readonly operationTimeout?: number
  /** `wsman:MaxEnvelopeSize` in bytes (default 153600, WinRM's 150 KiB default). */
  readonly maxEnvelopeSize?: number
  /** `wsman:Locale` `xml:lang` (default `en-US`). */
  readonly locale?: string
  /** `wsmv:DataLocale` `xml:lang` (default: {@link locale}). */
  readonly dataLocale?: string
}

/** Default `wsman:OperationTimeout` in seconds. */
export const DEFAULT_OPERATION_TIMEOUT = 20
/** Default `wsman:MaxEnvelopeSize` in bytes. */
export const DEFAULT_MAX_ENVELOPE_SIZE = 153_600
/** Default `wsman:MaxElements` of Enumerate and Pull. */
export const DEFAULT_MAX_ELEMENTS = 32_000

const PREFIX_NS: Readonly<Record<string, string>> = {
  s: Namespace.s,
  wsa: Namespace.wsa,
  wsman: Namespace.wsman,
  wsmv: Namespace.wsmv,
  rsp: Namespace.rsp,
  wsen: Namespace.wsen,
  wst: Namespace.wst,
}

/** `uuid:` + the upper-case GUID, as WinRM writes MessageID and SessionId. */
export function uuidUri(guid: string, what = 'GUID'): string {
  const bare = guid.startsWith('uuid:') ? guid.slice(5) : guid
  try {
    return `uuid:${normalizeGuid(bare).toUpperCase()}`
  } catch {
    throw new InvalidArgumentError(`${what} is not a GUID: ${JSON.stringify(guid)}`)
  }
}

/**
 * Writes the SOAP envelope of a request. Deterministic for a given `options.messageId` (or GUID
 * source). Throws {@link InvalidArgumentError} for values that cannot be put on the wire (empty URIs,
 * bad GUIDs, characters XML cannot carry, out-of-range numbers).
 */
export function buildEnvelope(request: WSManRequest, options: EnvelopeOptions): string {
  return renderXml(envelopeNode(request, options))
}

/**
 * The envelope of {@link buildEnvelope} as UTF-8 bytes, the same text. The base64 of a Send's payload
 * ({@link XmlBase64}) is encoded straight into them, a piece at a time, so that a large payload
 * never becomes one large string.
 */
export function buildEnvelopeBytes(request: WSManRequest, options: EnvelopeOptions): Buffer {
  return renderXmlBytes(envelopeNode(request, options))
}

/** The envelope's element tree, namespaces declared. */
function envelopeNode(request: WSManRequest, options: EnvelopeOptions): XmlNode {
  if (options.to === '') throw new InvalidArgumentError('wsa:To must not be empty')
  if (request.resourceUri === '') throw new InvalidArgumentError('ResourceURI must not be empty')
  if (request.action === 'custom' && request.actionUri === '')
    throw new InvalidArgumentError('the action URI must not be empty')
  const maxEnvelopeSize = options.maxEnvelopeSize ?? DEFAULT_MAX_ENVELOPE_SIZE
  if (!Number.isSafeInteger(maxEnvelopeSize) || maxEnvelopeSize < 1) {
    throw new InvalidArgumentError(`MaxEnvelopeSize must be a positive integer, got ${maxEnvelopeSize}`)
  }
  const timeout = request.operationTimeout ?? options.operationTimeout ?? DEFAULT_OPERATION_TIMEOUT
  if (!(timeout > 0)) throw new InvalidArgumentError(`OperationTimeout must be > 0 seconds, got ${timeout}`)
  const messageId = uuidUri(options.messageId ?? (options.newGuid ?? randomGuid)(), 'MessageID')
  const locale = options.locale ?? 'en-US'
  const dataLocale = options.dataLocale ?? locale
  const mu = { 's:mustUnderstand': 'true' }
  const notMu = { 's:mustUnderstand': 'false' }

  const header = el(
    's:Header',
    undefined,
    el('wsa:To', undefined, options.to),
    el('wsa:ReplyTo', undefined, el('wsa:Address', mu, ANONYMOUS_ADDRESS)),
    el('wsa:Action', mu, request.action === 'custom' ? request.actionUri : ACTION_URI[request.action]),
    el('wsa:MessageID', undefined, messageId),
    el('wsman:ResourceURI', mu, request.resourceUri),
    selectorSet(request.selectors),
    optionSet(request.options),
    el('wsman:OperationTimeout', undefined, formatDuration(timeout, 'OperationTimeout')),
    el('wsman:MaxEnvelopeSize', mu, String(maxEnvelopeSize)),
    el('wsman:Locale', { 'xml:lang': locale, ...notMu }),
    el('wsmv:DataLocale', { 'xml:lang': dataLocale, ...notMu }),
    options.sessionId === undefined
      ? undefined
      : el('wsmv:SessionId', notMu, uuidUri(options.sessionId, 'SessionId')),
  )
  const body = el('s:Body', undefined, bodyOf(request))
  const envelope = el('s:Envelope', undefined, header, body)
  const attrs: Record<string, string> = {}
  for (const prefix of [...usedPrefixes(envelope)].sort()) {
    const ns = PREFIX_NS[prefix]
    if (ns === undefined)
      throw new InvalidArgumentError(`undeclared namespace prefix "${prefix}" in request body`)
    attrs[`xmlns:${prefix}`] = ns
  }
  return { name: 's:Envelope', attrs, children: envelope.children ?? [] }
}

/** A `wsman:SelectorSet` element, or undefined when there are no selectors. */
export function selectorSet(selectors: SelectorSet | undefined): XmlNode | undefined {
  const entries = Object.entries(selectors ?? {})
  if (entries.length === 0) return undefined
  return el(
    'wsman:SelectorSet',
    undefined,
    ...entries.map(([name, value]) => el('wsman:Selector', { Name: name }, value)),
  )
}

function optionSet(options: readonly WSManOption[] | undefined): XmlNode | undefined {
  if (options === undefined || options.length === 0) return undefined
  return el(
    'wsman:OptionSet',
    { 's:mustUnderstand': 'true' },
    ...options.map((o) =>
      el('wsman:Option', { Name: o.name, MustComply: o.mustComply === true ? 'true' : undefined }, o.value),
    ),
  )
}

function maxElementsOf(n: number | undefined): string {
  const v = n ?? DEFAULT_MAX_ELEMENTS
  if (!Number.isSafeInteger(v) || v < 1)
    throw new InvalidArgumentError(`MaxElements must be a positive integer, got ${v}`)
  return String(v)
}

function bodyOf(request: WSManRequest): XmlChild {
  switch (request.action) {
    case 'create':
    case 'put':
      return request.body
    case 'get':
    case 'delete':
      return undefined
    case 'custom':
      return request.body
    case 'command':
    case 'send':
    case 'receive':
    case 'signal':
    case 'connect':
    case 'disconnect':
    case 'reconnect':
      if (request.body === undefined && request.action !== 'reconnect') {
        throw new InvalidArgumentError(`a ${request.action} request needs a body`)
      }
      return request.body
    case 'enumerate': {
      const f = request.filter
      let filter: XmlNode | undefined
      if (f !== undefined) {
        filter =
          'selectors' in f
            ? el('wsman:Filter', { Dialect: SELECTOR_FILTER_DIALECT }, selectorSet(f.selectors))
            : el('wsman:Filter', { Dialect: f.dialect }, f.text)
      }
      return el(
        'wsen:Enumerate',
        undefined,
        request.optimize !== false && el('wsman:OptimizeEnumeration'),
        el('wsman:MaxElements', undefined, maxElementsOf(request.maxElements)),
        filter,
      )
    }
    case 'pull':
      if (request.enumerationContext === '')
        throw new InvalidArgumentError('EnumerationContext must not be empty')
      return el(
        'wsen:Pull',
        undefined,
        el('wsen:EnumerationContext', undefined, request.enumerationContext),
        el('wsman:MaxElements', undefined, maxElementsOf(request.maxElements)),
      )
    default: {
      const unhandled: never = request
      throw new InvalidArgumentError(
        `unknown request action ${JSON.stringify((unhandled as { action: unknown }).action)}`,
      )
    }
  }
}
