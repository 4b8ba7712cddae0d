/**
 * WS-Enumeration as WS-Management uses it (DSP0226 section 8; MS-WSMV 3.1.4.8 Enumerate, 3.1.4.9 Pull,
 * and Release as in MS-WSMAN 3.1.4.10):
 *
 * ```xml
 * <wsen:Enumerate>                                         (DSP0226 8.2)
 *   <wsman:OptimizeEnumeration/>                           (8.2.3: first items in the response)
 *   <wsman:MaxElements>32000</wsman:MaxElements>
 *   <wsman:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">select …</wsman:Filter>   (8.2.1)
 * </wsen:Enumerate>
 * <wsen:Pull><wsen:EnumerationContext>…</wsen:EnumerationContext><wsman:MaxElements>…</wsman:MaxElements></wsen:Pull>
 * <wsen:Release><wsen:EnumerationContext>…</wsen:EnumerationContext></wsen:Release>
 * ```
 *
 * A WQL filter (MS-WSMV: the service processes `Filter` with the WQL dialect on a CIM/WMI resource
 * URI; MS-WMI 2.2.1 defines WQL) goes with the resource URI of the namespace's every class,
 * `…/wmi/root/cimv2/*`, since the query names the class. Each response carries items and a new
 * EnumerationContext until `EndOfSequence`; a client that stops early sends Release so the server can
 * drop the context. {@link EnumerationCursor} keeps that state, sans-IO: it says which request to send
 * next and takes each response.
 *
 * @module
 */
import { InvalidStateError, ProtocolError } from '../errors.ts'
import type {
  CustomRequest,
  EnumerateRequest,
  EnumerationFilter,
  PullRequest,
  RequestCommon,
} from './envelope.ts'
import type { EnumerationResponse, WSManResponse } from './response.ts'
import { el } from './xml-node.ts'
import type { NsElement } from './xml-ns.ts'

/** Dialect URI of a WQL filter (MS-WSMV; MS-WMI 2.2.1). */
export const WQL_DIALECT = 'http://schemas.microsoft.com/wbem/wsman/1/WQL'

/** Action URI of WS-Enumeration Release. */
export const RELEASE_ACTION = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release'
/** Action URI of the answer to Release. */
export const RELEASE_RESPONSE_ACTION = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/ReleaseResponse'

/** A WQL filter for {@link EnumerateRequest.filter}. */
export function wqlFilter(query: string): EnumerationFilter {
  return { dialect: WQL_DIALECT, text: query }
}

/** The Release request for an enumeration context. */
export function releaseRequest(common: RequestCommon, enumerationContext: string): CustomRequest {
  return {
    ...common,
    action: 'custom',
    actionUri: RELEASE_ACTION,
    body: el('wsen:Release', undefined, el('wsen:EnumerationContext', undefined, enumerationContext)),
  }
}

/** Options of {@link EnumerationCursor}. */
export interface EnumerationOptions extends RequestCommon {
  /** `wsman:Filter` (e.g. {@link wqlFilter}). */
  readonly filter?: EnumerationFilter | undefined
  /** `wsman:MaxElements` of the Enumerate and each Pull (default 32000). */
  readonly maxElements?: number | undefined
  /** Ask for the first items in the Enumerate response (DSP0226 8.2.3; default true). */
  readonly optimize?: boolean | undefined
  /** Most responses followed before the enumeration is a {@link ProtocolError} (default 100 000). */
  readonly maxResponses?: number | undefined
}

/**
 * One enumeration's state: `next()` is the request to send (Enumerate first, then Pull with the
 * latest context) or undefined once the server said EndOfSequence; `receive(response)` takes the
 * answer and returns its items; `release()` is the Release request to send when the caller stops
 * early (undefined when there is nothing to release).
 */
export class EnumerationCursor {
  readonly #options: EnumerationOptions
  #context: string | undefined
  #started = false
  #ended = false
  #awaiting = false
  #responses = 0

  constructor(options: EnumerationOptions) {
    this.#options = options
  }

  /** True once EndOfSequence arrived (or the server ended the context). */
  get ended(): boolean {
    return this.#ended
  }

  /** The request to send next, or undefined when the enumeration is complete. */
  next(): EnumerateRequest | PullRequest | undefined {
    if (this.#ended) return undefined
    if (this.#awaiting)
      throw new InvalidStateError('send the next enumeration request', 'awaiting a response')
    const { filter, maxElements, optimize, maxResponses: _, ...common } = this.#options
    this.#awaiting = true
    if (!this.#started) {
      this.#started = true
      return {
        ...common,
        action: 'enumerate',
        ...(filter === undefined ? {} : { filter }),
        ...(maxElements === undefined ? {} : { maxElements }),
        optimize: optimize !== false,
      }
    }
    return {
      ...common,
      action: 'pull',
      enumerationContext: this.#context as string,
      ...(maxElements === undefined ? {} : { maxElements }),
    }
  }

  /** Takes the response to the request {@link next} gave and returns its items, in order. */
  receive(response: WSManResponse): readonly NsElement[] {
    if (!this.#awaiting) throw new InvalidStateError('receive an enumeration response', 'no request sent')
    this.#awaiting = false
    const expected = this.#responses === 0 ? 'enumerated' : 'pulled'
    if (response.kind !== expected) {
      throw new ProtocolError(
        `the server answered ${expected === 'enumerated' ? 'Enumerate' : 'Pull'} with ${response.kind}`,
      )
    }
    const r = response as EnumerationResponse
    this.#responses++
    if (this.#responses > (this.#options.maxResponses ?? 100_000)) {
      throw new ProtocolError(`the server never ended the enumeration (${this.#responses - 1} responses)`)
    }
    if (r.enumerationContext !== undefined) this.#context = r.enumerationContext
    if (r.endOfSequence || r.enumerationContext === undefined) {
      this.#ended = true
      this.#context = undefined
    }
    return r.items
  }

  /** The Release request for an enumeration stopped before its end, else undefined. */
  release(): CustomRequest | undefined {
    if (this.#ended || this.#context === undefined) return undefined
    const { filter: _f, maxElements: _m, optimize: _o, maxResponses: _r, ...common } = this.#options
    const request = releaseRequest(common, this.#context)
    this.#ended = true
    this.#context = undefined
    return request
  }
}
