/**
 * Response envelopes: WinRM's reply text in, a typed {@link WSManResponse} union out.
 *
 * The kind follows the `wsa:Action` header (DSP0226; MS-WSMV 3.1.4.x response actions); an `s:Fault`
 * body is a fault whatever the action says. Bodies:
 *
 * - CreateResponse: `wxf:ResourceCreated` (address, ResourceURI, SelectorSet) and the `rsp:Shell`
 *   description (MS-WSMV 3.1.4.5.2, 2.2.4.37);
 * - CommandResponse: `rsp:CommandId` (3.1.4.11); ReceiveResponse (3.1.4.14, 2.2.4.27);
 * - ConnectResponse: streams and PowerShell's `connectResponseXml` (3.1.4.17, MS-PSRP 3.1.5.3.15);
 * - Enumerate/PullResponse: items, EnumerationContext and EndOfSequence (DSP0226 8.2-8.4);
 * - GetResponse/PutResponse: the resource representation;
 * - Send/Signal/Delete/Disconnect/Reconnect responses carry nothing of interest.
 *
 * A `w:TimedOut` fault (code 2150858793) becomes kind `timedOut`: for a Receive that is the normal
 * end of a long poll. Malformed XML or a structure that cannot be read is a {@link ProtocolError} with
 * side `remote`; this module never throws anything else for bad input.
 *
 * @module
 */
import { ProtocolError } from '../errors.ts'
import { fromBase64 } from '../internal/base64.ts'
import { readEnvelope } from './action-response.ts'
import { Namespace, WSManAction } from './constants.ts'
import type { SelectorSet } from './envelope.ts'
import { isTimedOutFault, type WSManFault } from './fault.ts'
import { liftStreams, type LiftedStreams } from './stream-lift.ts'
import {
  parseCommandResponse,
  parseShell,
  readReceiveResponse,
  type ReceiveResult,
  type ShellInfo,
} from './winrs.ts'
import { nsAttr, nsChild, nsChildren, type NsElement } from './xml-ns.ts'

export { faultToError, isTimedOutFault, parseFault, WSManFaultCode } from './fault.ts'
export type { ProviderFault, WmiError, WSManFault, WSManFaultErrorDetails } from './fault.ts'

/** Header facts every response carries. */
export interface ResponseHeader {
  /** `wsa:Action`. */
  readonly action: string
  /** `wsa:MessageID` as sent (e.g. `uuid:…`). */
  readonly messageId?: string
  /** `wsa:RelatesTo`: the MessageID of the request this answers. */
  readonly relatesTo?: string
}

/** CreateResponse. */
export interface CreatedResponse extends ResponseHeader {
  readonly kind: 'created'
  /** `wsa:Address` of the created resource's endpoint reference. */
  readonly address?: string
  /** `wsman:ResourceURI` of the endpoint reference. */
  readonly resourceUri?: string
  /** The endpoint reference's selectors (for a shell: `ShellId`). */
  readonly selectors: SelectorSet
  /** The ShellId: the `ShellId` selector, else `rsp:Shell/rsp:ShellId`. */
  readonly shellId?: string
  /** The `rsp:Shell` description, when the server sent one. */
  readonly shell?: ShellInfo
  /** Decoded `creationXml` in the `rsp:Shell`, when a PowerShell endpoint returned one. */
  readonly creationXml?: Uint8Array
}

/** CommandResponse. */
export interface CommandCreatedResponse extends ResponseHeader {
  readonly kind: 'commandCreated'
  readonly commandId: string
}

/** ReceiveResponse: stream chunks in order and, when the command changed state, its CommandState. */
export interface ReceiveResponse extends ResponseHeader, ReceiveResult {
  readonly kind: 'receive'
}

/** Responses with nothing to read: Send, Signal, Delete, Disconnect, Reconnect. */
export interface AckResponse extends ResponseHeader {
  readonly kind: 'sent' | 'signalled' | 'deleted' | 'disconnected' | 'reconnected'
}

/** ConnectResponse (MS-WSMV 3.1.4.17). */
export interface ConnectedResponse extends ResponseHeader {
  readonly kind: 'connected'
  readonly inputStreams: readonly string[]
  readonly outputStreams: readonly string[]
  /** Decoded `connectResponseXml` (PSRP fragments), when present. */
  readonly connectResponseXml?: Uint8Array
}

/** EnumerateResponse or PullResponse. */
export interface EnumerationResponse extends ResponseHeader {
  readonly kind: 'enumerated' | 'pulled'
  /** The item elements (e.g. `rsp:Shell`), namespace-resolved. */
  readonly items: readonly NsElement[]
  /** The context for the next Pull; absent or empty when the enumeration is complete. */
  readonly enumerationContext?: string
  /** `EndOfSequence` was present. */
  readonly endOfSequence: boolean
}

/** GetResponse or PutResponse: the first body element, if any. */
export interface RepresentationResponse extends ResponseHeader {
  readonly kind: 'get' | 'put'
  readonly body?: NsElement
}

/** A SOAP fault other than a timeout. */
export interface FaultResponse extends ResponseHeader {
  readonly kind: 'fault'
  readonly fault: WSManFault
}

/** The OperationTimeout expired (`w:TimedOut`); for a Receive, poll again. */
export interface TimedOutResponse extends ResponseHeader {
  readonly kind: 'timedOut'
  readonly fault: WSManFault
}

/** Every parsed response, discriminated by `kind`. */
export type WSManResponse =
  | CreatedResponse
  | CommandCreatedResponse
  | ReceiveResponse
  | AckResponse
  | ConnectedResponse
  | EnumerationResponse
  | RepresentationResponse
  | FaultResponse
  | TimedOutResponse

/** The `kind` of a {@link WSManResponse}. */
export type WSManResponseKind = WSManResponse['kind']

/** Options of {@link parseResponse}. */
export interface ParseResponseOptions {
  /**
   * The request's MessageID (with or without `uuid:`). When given, a response whose `wsa:RelatesTo`
   * differs is a {@link ProtocolError}.
   */
  readonly relatesTo?: string
  /**
   * Largest envelope accepted, in characters (UTF-16 code units); default
   * 64 Mi (`DEFAULT_MAX_RESPONSE_LENGTH`). Checked before parsing: a longer envelope is a
   * {@link ProtocolError} (`ERR_PROTOCOL`). All limits: docs/limits.md.
   */
  readonly maxLength?: number
}

/** Default of {@link ParseResponseOptions.maxLength}: 64 Mi characters. */
export const DEFAULT_MAX_RESPONSE_LENGTH = 64 * 1024 * 1024

const ACK_KINDS: Readonly<Record<string, AckResponse['kind']>> = {
  [WSManAction.SendResponse]: 'sent',
  [WSManAction.SignalResponse]: 'signalled',
  [WSManAction.DeleteResponse]: 'deleted',
  [WSManAction.DisconnectResponse]: 'disconnected',
  [WSManAction.ReconnectResponse]: 'reconnected',
}

/** Parses the SOAP envelope text of a WinRM response. */
export function parseResponse(xml: string, options: ParseResponseOptions = {}): WSManResponse {
  try {
    return parseEnvelope(xml, options)
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    // Anything else escaping the readers is still the peer's bad input, never a crash.
    throw new ProtocolError(`cannot read WS-Management response: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Parses a WinRM response from its UTF-8 bytes (a leading BOM is dropped): the same result as
 * {@link parseResponse} of their text, and the same {@link ProtocolError} for bytes that are not UTF-8
 * or not a response. A ReceiveResponse's large `rsp:Stream` contents are decoded from the bytes
 * directly, so a full response is never one long string.
 */
export function parseResponseBytes(body: Uint8Array, options: ParseResponseOptions = {}): WSManResponse {
  // A body within the length limit in bytes is within it in characters: the lift needs no count.
  if (body.length <= (options.maxLength ?? DEFAULT_MAX_RESPONSE_LENGTH)) {
    const lifted = liftStreams(body, strictUtf8)
    if (lifted !== undefined) {
      try {
        const parsed = parseEnvelope(lifted.text, options, lifted.streams)
        if (lifted.streams.complete) return parsed
      } catch {
        // read again from the whole text below: the answer, or an error that names the real offsets
      }
    }
  }
  return parseResponse(strictUtf8(body), options)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

function strictUtf8(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes)
  } catch (err) {
    throw new ProtocolError('response body is not valid utf-8', { cause: err })
  }
}

function parseEnvelope(xml: string, options: ParseResponseOptions, lifted?: LiftedStreams): WSManResponse {
  const { header: h, body, fault } = readEnvelope(xml, options)
  if (fault !== undefined) return { kind: isTimedOutFault(fault) ? 'timedOut' : 'fault', ...h, fault }
  const action = h.action

  const ack = ACK_KINDS[action]
  if (ack !== undefined) return { kind: ack, ...h }
  switch (action) {
    case WSManAction.CreateResponse:
      return parseCreated(h, body)
    case WSManAction.CommandResponse:
      return { kind: 'commandCreated', ...h, commandId: parseCommandResponse(body) }
    case WSManAction.ReceiveResponse:
      return { kind: 'receive', ...h, ...readReceiveResponse(body, lifted) }
    case WSManAction.ConnectResponse:
      return parseConnected(h, body)
    case WSManAction.EnumerateResponse:
      return parseEnumeration('enumerated', h, nsChild(body, Namespace.wsen, 'EnumerateResponse'))
    case WSManAction.PullResponse:
      return parseEnumeration('pulled', h, nsChild(body, Namespace.wsen, 'PullResponse'))
    case WSManAction.GetResponse:
    case WSManAction.PutResponse: {
      const first = body.children[0]
      return {
        kind: action === WSManAction.GetResponse ? 'get' : 'put',
        ...h,
        ...(first === undefined ? {} : { body: first }),
      }
    }
    default:
      throw new ProtocolError(
        action === '' ? 'response without a wsa:Action' : `unexpected response action ${action}`,
      )
  }
}

function readSelectors(set: NsElement | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const s of nsChildren(set, Namespace.wsman, 'Selector')) {
    const name = nsAttr(s, 'Name')
    if (name === undefined) throw new ProtocolError('wsman:Selector without a Name')
    out[name] = s.text.trim()
  }
  return out
}

function decodeB64(el: NsElement | undefined, what: string): Uint8Array | undefined {
  if (el === undefined) return undefined
  const bytes = fromBase64(el.text)
  if (bytes === undefined) throw new ProtocolError(`${what} holds invalid base64`)
  return bytes
}

function parseCreated(h: ResponseHeader, body: NsElement): CreatedResponse {
  const rc = nsChild(body, Namespace.wst, 'ResourceCreated')
  const refParams = nsChild(rc, Namespace.wsa, 'ReferenceParameters')
  const address = nsChild(rc, Namespace.wsa, 'Address')?.text.trim()
  const resourceUri = nsChild(refParams, Namespace.wsman, 'ResourceURI')?.text.trim()
  const selectors = readSelectors(nsChild(refParams, Namespace.wsman, 'SelectorSet'))
  const shellEl = nsChild(body, Namespace.rsp, 'Shell')
  const shell = shellEl === undefined ? undefined : parseShell(shellEl)
  const creationXml = decodeB64(nsChild(shellEl, Namespace.psrp, 'creationXml'), 'creationXml')
  const shellId = selectors['ShellId'] ?? shell?.shellId
  if (rc === undefined && shellEl === undefined)
    throw new ProtocolError('CreateResponse without ResourceCreated or Shell')
  return {
    kind: 'created',
    ...h,
    ...(address === undefined ? {} : { address }),
    ...(resourceUri === undefined ? {} : { resourceUri }),
    selectors,
    ...(shellId === undefined ? {} : { shellId }),
    ...(shell === undefined ? {} : { shell }),
    ...(creationXml === undefined ? {} : { creationXml }),
  }
}

function parseConnected(h: ResponseHeader, body: NsElement): ConnectedResponse {
  const cr = nsChild(body, Namespace.rsp, 'ConnectResponse')
  if (cr === undefined) throw new ProtocolError('ConnectResponse body missing')
  const list = (local: string): string[] =>
    (nsChild(cr, Namespace.rsp, local)?.text ?? '').split(/\s+/).filter((s) => s !== '')
  const xml = decodeB64(nsChild(cr, Namespace.psrp, 'connectResponseXml'), 'connectResponseXml')
  return {
    kind: 'connected',
    ...h,
    inputStreams: list('InputStreams'),
    outputStreams: list('OutputStreams'),
    ...(xml === undefined ? {} : { connectResponseXml: xml }),
  }
}

function parseEnumeration(
  kind: EnumerationResponse['kind'],
  h: ResponseHeader,
  resp: NsElement | undefined,
): EnumerationResponse {
  if (resp === undefined)
    throw new ProtocolError(`${kind === 'enumerated' ? 'Enumerate' : 'Pull'}Response body missing`)
  // Optimized Enumerate puts wsman:Items/wsman:EndOfSequence in the response; Pull uses the
  // WS-Enumeration elements. Accept either in both.
  const items = [
    ...nsChildren(resp, Namespace.wsman, 'Items'),
    ...nsChildren(resp, Namespace.wsen, 'Items'),
  ].flatMap((i) => i.children)
  const endOfSequence =
    nsChild(resp, Namespace.wsman, 'EndOfSequence') !== undefined ||
    nsChild(resp, Namespace.wsen, 'EndOfSequence') !== undefined
  const ctx = nsChild(resp, Namespace.wsen, 'EnumerationContext')?.text.trim()
  return {
    kind,
    ...h,
    items,
    ...(ctx === undefined || ctx === '' ? {} : { enumerationContext: ctx }),
    endOfSequence,
  }
}
