/**
 * The response envelope of any WS-Management action, read without knowing the action: the SOAP 1.2
 * `s:Envelope` (SOAP 1.2 part 1, section 5), the WS-Addressing header blocks DSP0226 section 5
 * requires of a response (`wsa:Action`, `wsa:MessageID`, `wsa:RelatesTo`), and either an `s:Fault`
 * (DSP0226 section 14; MS-WSMV 2.2.4.43) or the body. {@link parseResponse} (`response.ts`) reads the
 * envelope with {@link readEnvelope} too and then gives the body of the actions it knows a type;
 * {@link parseActionResponse} hands any other body (a CIM method's `…_OUTPUT`, DSP0227 section 9) to
 * its caller as namespace-resolved elements.
 *
 * @module
 */
import { ProtocolError } from '../errors.ts'
import { parseXml } from '../internal/xml.ts'
import { Namespace, WSManAction } from './constants.ts'
import { isTimedOutFault, parseFault, type WSManFault } from './fault.ts'
import type { FaultResponse, ParseResponseOptions, ResponseHeader, TimedOutResponse } from './response.ts'
import { nsChild, resolveNamespaces, type NsElement } from './xml-ns.ts'

/** The parts of a response envelope. */
export interface EnvelopeParts {
  /** Action, MessageID and RelatesTo. */
  readonly header: ResponseHeader
  /** `s:Header`, when present. */
  readonly headerElement: NsElement | undefined
  /** `s:Body`. */
  readonly body: NsElement
  /** The `s:Fault` in the body, parsed. */
  readonly fault: WSManFault | undefined
}

function bareUuid(id: string): string {
  return id
    .trim()
    .replace(/^uuid:/i, '')
    .toLowerCase()
}

/**
 * Parses the envelope and checks `RelatesTo` against `options.relatesTo`. Malformed XML, a missing
 * Body or a fault action without a fault is a {@link ProtocolError} (side `remote`).
 */
export function readEnvelope(xml: string, options: ParseResponseOptions = {}): EnvelopeParts {
  const tree = parseXml(xml, {
    maxLength: options.maxLength ?? 64 * 1024 * 1024,
    error: (message, offset) =>
      new ProtocolError(`malformed WS-Management response: ${message} at offset ${offset}`),
  })
  const env = resolveNamespaces(tree)
  if (env.local !== 'Envelope' || env.ns !== Namespace.s) {
    throw new ProtocolError(`expected a SOAP 1.2 Envelope, got <${env.name}> (${env.ns || 'no namespace'})`)
  }
  const headerElement = nsChild(env, Namespace.s, 'Header')
  const body = nsChild(env, Namespace.s, 'Body')
  if (body === undefined) throw new ProtocolError('SOAP Envelope without a Body')
  const text = (local: string): string | undefined =>
    nsChild(headerElement, Namespace.wsa, local)?.text.trim()
  const action = text('Action') ?? ''
  const messageId = text('MessageID')
  const relatesTo = text('RelatesTo')
  if (
    options.relatesTo !== undefined &&
    relatesTo !== undefined &&
    bareUuid(relatesTo) !== bareUuid(options.relatesTo)
  ) {
    throw new ProtocolError(
      `response RelatesTo ${relatesTo} does not match request MessageID ${options.relatesTo}`,
    )
  }
  const header: ResponseHeader = {
    action,
    ...(messageId === undefined ? {} : { messageId }),
    ...(relatesTo === undefined ? {} : { relatesTo }),
  }
  const faultElement = nsChild(body, Namespace.s, 'Fault')
  const fault = faultElement === undefined ? undefined : parseFault(faultElement)
  if (fault === undefined && (action === WSManAction.Fault || action === WSManAction.AddressingFault)) {
    throw new ProtocolError(`fault action ${action} without an s:Fault body`)
  }
  return { header, headerElement, body, fault }
}

/** The answer to an action {@link parseActionResponse} does not interpret. */
export interface ActionResponse extends ResponseHeader {
  readonly kind: 'response'
  /** `s:Body`, namespace-resolved. */
  readonly body: NsElement
  /** The first element of the body (e.g. `p:StopService_OUTPUT`), if any. */
  readonly content?: NsElement
  /** `s:Header`, for header blocks beyond Action/MessageID/RelatesTo. */
  readonly header?: NsElement
}

/**
 * Parses the response to any action: a fault (or `w:TimedOut`) as in {@link parseResponse}, anything
 * else as its body. Bad input is a {@link ProtocolError}, never another exception.
 */
export function parseActionResponse(
  xml: string,
  options: ParseResponseOptions = {},
): ActionResponse | FaultResponse | TimedOutResponse {
  let parts: EnvelopeParts
  try {
    parts = readEnvelope(xml, options)
  } catch (err) {
    if (err instanceof ProtocolError) throw err
    throw new ProtocolError(`cannot read WS-Management response: ${(err as Error).message}`, { cause: err })
  }
  const { header, headerElement, body, fault } = parts
  if (fault !== undefined) return { kind: isTimedOutFault(fault) ? 'timedOut' : 'fault', ...header, fault }
  const content = body.children[0]
  return {
    kind: 'response',
    ...header,
    body,
    ...(content === undefined ? {} : { content }),
    ...(headerElement === undefined ? {} : { header: headerElement }),
  }
}
