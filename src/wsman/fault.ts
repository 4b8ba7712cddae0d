/**
 * SOAP 1.2 faults as WinRM sends them (MS-WSMV 2.2.4.43 `WSManFaultType`; DSP0226 section 14):
 *
 * ```xml
 * <s:Fault>
 *   <s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code>
 *   <s:Reason><s:Text xml:lang="en-US">…</s:Text></s:Reason>
 *   <s:Detail>
 *     <w:FaultDetail>…/faultDetail/UnexpectedSelectors</w:FaultDetail>
 *     <f:WSManFault Code="2150858793" Machine="host"><f:Message>… or <f:ProviderFault …>…</f:Message></f:WSManFault>
 *   </s:Detail>
 * </s:Fault>
 * ```
 *
 * WMI-backed resources put an `MSFT_WmiError` instance (with `Message` and `error_Code`) in the detail
 * instead of, or beside, `f:WSManFault`.
 *
 * @module
 */
import { ProtocolError, WSManFaultError, type WSManFaultDetails } from '../errors.ts'
import { Namespace } from './constants.ts'
import { deepText, nsAttr, nsChild, resolveQName, type NsElement } from './xml-ns.ts'

/** WinRM fault codes (`f:WSManFault/@Code`) this package gives meaning to. */
export const WSManFaultCode = {
  /** ERROR_INVALID_PARAMETER, e.g. a Receive for a command that was never started. */
  InvalidParameter: 87,
  /** ERROR_WSMAN_OPERATION_TIMEDOUT: the OperationTimeout expired (a Receive long-poll with no output). */
  OperationTimeout: 2150858793,
  /** ERROR_WSMAN_INVALID_SELECTORS: the shell or command does not exist (any more). */
  InvalidSelectors: 2150858843,
} as const

/** `f:ProviderFault` inside `f:Message`: the plug-in that failed. */
export interface ProviderFault {
  /** `provider` attribute, e.g. `Shell cmd plugin`. */
  readonly provider?: string
  /** `path` attribute, e.g. `%systemroot%\system32\winrscmd.dll`. */
  readonly path?: string
  /** The provider's message text (own text or a nested `f:WSManFault/f:Message`). */
  readonly message?: string
}

/** An `MSFT_WmiError` fault detail. */
export interface WmiError {
  readonly code?: number
  readonly message?: string
}

/** Everything a WS-Management fault says. */
export interface WSManFault {
  /** `s:Code/s:Value` as sent, e.g. `s:Receiver` (the prefix is the server's choice). */
  readonly code?: string
  /**
   * The code resolved against its namespace declarations: `{ ns: <SOAP 1.2 envelope>, local: 'Sender' |
   * 'Receiver' | 'MustUnderstand' | … }` whatever prefix the server chose (`s:`, `env:`, `SOAP-ENV:`).
   */
  readonly codeName?: { readonly ns: string; readonly local: string }
  /** `s:Code/s:Subcode/s:Value` as sent, e.g. `w:TimedOut`. */
  readonly subcode?: string
  /** The subcode resolved against its namespace declarations. */
  readonly subcodeName?: { readonly ns: string; readonly local: string }
  /** `s:Reason/s:Text` (trimmed). */
  readonly reason?: string
  /** `s:Detail/wsman:FaultDetail` URI. */
  readonly faultDetail?: string
  /** `f:WSManFault/@Code`, or the WMI `error_Code`. */
  readonly wsmanFaultCode?: number
  /** `f:WSManFault/@Machine` (left out when empty: Windows 2008 R2's WMIv1 plug-in sends `Machine=''`). */
  readonly machine?: string
  /**
   * `f:Message` text including nested provider messages (whitespace collapsed), or the WMI `Message`.
   * `f:ExtendedError` blocks (WMI `__ExtendedStatus` instances: operation, query, provider name) are
   * data, not message text, and are left out.
   */
  readonly message?: string
  /** `f:ProviderFault`, when the message came from a plug-in. */
  readonly providerFault?: ProviderFault
  /** `MSFT_WmiError` detail. */
  readonly wmiError?: WmiError
}

function clean(s: string | undefined): string | undefined {
  if (s === undefined) return undefined
  const t = s.replace(/\s+/g, ' ').trim()
  return t === '' ? undefined : t
}

function parseCode(text: string | undefined, what: string): number | undefined {
  const t = text?.trim()
  if (t === undefined || t === '') return undefined
  if (!/^-?\d+$/.test(t)) throw new ProtocolError(`${what} is not an integer: ${JSON.stringify(t)}`)
  return Number(t)
}

/** A QName-valued `s:Value` resolved against the namespaces in scope there (SOAP 1.2 part 1, 5.4.6). */
function qname(value: NsElement | undefined): { readonly ns: string; readonly local: string } | undefined {
  const t = clean(value?.text)
  return value === undefined || t === undefined ? undefined : resolveQName(value, t)
}

/**
 * The human-readable text of an `f:Message` or `f:ProviderFault` (MS-WSMV 2.2.4.43: both are mixed
 * content): own text, then nested provider faults' and WSManFaults' messages, each piece separated by a
 * space. `f:ExtendedError` (machine-readable provider data, e.g. a WMI `__ExtendedStatus` whose
 * Operation/ParameterInfo/ProviderName texts would otherwise run into the message) is skipped.
 */
function messageText(el: NsElement): string {
  const parts = [el.text]
  for (const c of el.children) {
    if (c.ns === Namespace.wsmanfault && c.local === 'ExtendedError') continue
    parts.push(c.ns === Namespace.wsmanfault ? messageText(c) : deepText(c))
  }
  return parts.join(' ')
}

/** Reads an `s:Fault` element. */
export function parseFault(fault: NsElement): WSManFault {
  const s = Namespace.s
  const codeEl = nsChild(fault, s, 'Code')
  const codeValue = nsChild(codeEl, s, 'Value')
  const subValue = nsChild(nsChild(codeEl, s, 'Subcode'), s, 'Value')
  const reason = nsChild(nsChild(fault, s, 'Reason'), s, 'Text')
  const detail = nsChild(fault, s, 'Detail')
  const out: Record<string, unknown> = {
    code: clean(codeValue?.text),
    codeName: qname(codeValue),
    subcode: clean(subValue?.text),
    subcodeName: qname(subValue),
    reason: clean(reason === undefined ? undefined : deepText(reason)),
    faultDetail: clean(nsChild(detail, Namespace.wsman, 'FaultDetail')?.text),
  }
  const wf = nsChild(detail, Namespace.wsmanfault, 'WSManFault')
  if (wf !== undefined) {
    out['wsmanFaultCode'] = parseCode(nsAttr(wf, 'Code'), 'WSManFault Code')
    out['machine'] = clean(nsAttr(wf, 'Machine'))
    const msg = nsChild(wf, Namespace.wsmanfault, 'Message')
    if (msg !== undefined) {
      out['message'] = clean(messageText(msg))
      const pf = nsChild(msg, Namespace.wsmanfault, 'ProviderFault')
      if (pf !== undefined) {
        const p: Record<string, unknown> = {
          provider: nsAttr(pf, 'provider'),
          path: nsAttr(pf, 'path'),
          message: clean(messageText(pf)),
        }
        for (const k of Object.keys(p)) if (p[k] === undefined) delete p[k]
        out['providerFault'] = p
      }
    }
  } else {
    // Some faults carry the message element directly in the detail.
    const bare = nsChild(detail, Namespace.wsmanfault, 'Message')
    if (bare !== undefined) out['message'] = clean(messageText(bare))
  }
  const wmi = detail?.children.find((c) => c.local === 'MSFT_WmiError')
  if (wmi !== undefined) {
    const child = (local: string): string | undefined => wmi.children.find((c) => c.local === local)?.text
    const w: Record<string, unknown> = {
      code: parseCode(child('error_Code'), 'MSFT_WmiError error_Code'),
      message: clean(child('Message')),
    }
    for (const k of Object.keys(w)) if (w[k] === undefined) delete w[k]
    out['wmiError'] = w
    out['wsmanFaultCode'] ??= w['code']
    out['message'] ??= w['message']
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k]
  return out as WSManFault
}

/**
 * True for the fault WinRM sends when `wsman:OperationTimeout` expires (subcode `w:TimedOut`, code
 * 2150858793). For a Receive this is normal flow: nothing arrived in time, poll again.
 */
export function isTimedOutFault(fault: WSManFault): boolean {
  if (fault.wsmanFaultCode === WSManFaultCode.OperationTimeout) return true
  const n = fault.subcodeName
  return n !== undefined && n.local === 'TimedOut' && (n.ns === Namespace.wsman || n.ns === '')
}

/** {@link WSManFaultDetails} plus the fault facts `errors.ts` has no field for yet. */
export interface WSManFaultErrorDetails extends WSManFaultDetails {
  /** `s:Detail/wsman:FaultDetail` URI. */
  faultDetail?: string
  /** The whole parsed fault. */
  details: WSManFault
}

/** Options of {@link faultToError}. */
export interface FaultToErrorOptions {
  /** The error's `cause`. */
  cause?: unknown
  /**
   * Applied to every text of the fault before it reaches the error (message and details): removes
   * material of our own request that a hostile server echoes back, such as our `Authorization`
   * header. The transport knows what it sent (`HttpPostResponse.redact`).
   */
  redact?: ((text: string) => string) | undefined
}

/** `value` with `redact` applied to every string in it (the fault is plain data: objects, strings, numbers). */
function redactAll<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T
  if (typeof value !== 'object' || value === null) return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactAll(v as unknown, redact)])) as T
}

/** Turns a parsed fault into the typed error to throw. */
export function faultToError(fault: WSManFault, options?: FaultToErrorOptions): WSManFaultError {
  if (options?.redact !== undefined) fault = redactAll(fault, options.redact)
  const text = fault.message ?? fault.reason ?? 'WS-Management fault'
  const facts = [
    fault.subcode ?? fault.code,
    fault.wsmanFaultCode === undefined ? undefined : `code ${fault.wsmanFaultCode}`,
    fault.machine === undefined ? undefined : `on ${fault.machine}`,
  ].filter((x) => x !== undefined)
  const details: WSManFaultErrorDetails = { details: fault }
  if (fault.code !== undefined) details.code = fault.code
  if (fault.subcode !== undefined) details.subcode = fault.subcode
  if (fault.reason !== undefined) details.reason = fault.reason
  if (fault.machine !== undefined) details.machine = fault.machine
  if (fault.wsmanFaultCode !== undefined) details.wsmanFaultCode = fault.wsmanFaultCode
  if (fault.message !== undefined) details.providerDetail = fault.message
  if (fault.faultDetail !== undefined) details.faultDetail = fault.faultDetail
  return new WSManFaultError(
    facts.length === 0 ? text : `${text} (${facts.join(', ')})`,
    details,
    options?.cause === undefined ? undefined : { cause: options.cause },
  )
}
