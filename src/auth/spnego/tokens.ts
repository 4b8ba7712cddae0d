/**
 * SPNEGO token codecs (RFC 4178 §4.2, with the MS-SPNG 2.2.1 NegTokenInit2 extension):
 *
 * ```
 * NegotiationToken ::= CHOICE { negTokenInit [0] NegTokenInit, negTokenResp [1] NegTokenResp }
 * NegTokenInit  ::= SEQUENCE { mechTypes [0] MechTypeList, reqFlags [1] ContextFlags OPTIONAL,
 *                              mechToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL, ... }
 * NegTokenInit2 ::= SEQUENCE { mechTypes [0], reqFlags [1], mechToken [2],
 *                              negHints [3] NegHints OPTIONAL, mechListMIC [4] OCTET STRING OPTIONAL, ... }
 * NegHints      ::= SEQUENCE { hintName [0] GeneralString OPTIONAL, hintAddress [1] OCTET STRING OPTIONAL }
 * NegTokenResp  ::= SEQUENCE { negState [0] ENUMERATED OPTIONAL, supportedMech [1] MechType OPTIONAL,
 *                              responseToken [2] OCTET STRING OPTIONAL, mechListMIC [3] OCTET STRING OPTIONAL, ... }
 * MechTypeList  ::= SEQUENCE OF MechType (OBJECT IDENTIFIER)
 * ```
 *
 * The initial token is wrapped in the RFC 2743 §3.1 framing with thisMech = SPNEGO (0x60 …); later
 * tokens are bare NegotiationTokens. Decoding is strict DER; malformed tokens are a `ProtocolError`.
 * `[3]` of a NegTokenInit is told apart by content: a SEQUENCE is NegHints (NegTokenInit2), an OCTET
 * STRING the RFC 4178 mechListMIC. Unknown extension fields (higher tags) are skipped.
 *
 * @module
 */
import { ProtocolError } from '../../errors.ts'
import {
  type BitString,
  type DerNode,
  DerReader,
  TagClass,
  decodeGssInitialContextToken,
  derBitString,
  derEnumerated,
  derField,
  derGeneralString,
  derOctetString,
  derOid,
  derOptionalField,
  derSequence,
  encodeDer,
  encodeGssInitialContextToken,
  isGssInitialContextToken,
} from '../asn1/index.ts'
import { SPNEGO_OID } from './oids.ts'

/** negState values (RFC 4178 §4.2.2). */
export type NegState = 'accept-completed' | 'accept-incomplete' | 'reject' | 'request-mic'

const NEG_STATES: readonly NegState[] = ['accept-completed', 'accept-incomplete', 'reject', 'request-mic']

/** ContextFlags bits (RFC 4178 §4.2.1), numbered from the first (high) bit of the BIT STRING. */
export const ContextFlag = {
  deleg: 0,
  mutual: 1,
  replay: 2,
  sequence: 3,
  anon: 4,
  conf: 5,
  integ: 6,
} as const

/** NegHints of a NegTokenInit2 (MS-SPNG 2.2.1); Windows sends `not_defined_in_RFC4178@please_ignore`. */
export interface NegHints {
  /** hintName. */
  readonly hintName?: string
  /** hintAddress. */
  readonly hintAddress?: Uint8Array
}

/** NegTokenInit (RFC 4178 §4.2.1), or NegTokenInit2 (MS-SPNG 2.2.1) when `negHints` is present. */
export interface NegTokenInit {
  /** mechTypes in the initiator's preference order (dotted OIDs). */
  readonly mechTypes: readonly string[]
  /** reqFlags (ContextFlags BIT STRING) as sent; rarely used. */
  readonly reqFlags?: BitString
  /** mechToken: the optimistic token of the first mechanism. */
  readonly mechToken?: Uint8Array
  /** negHints: present only in a NegTokenInit2 (then mechListMIC is field [4]). */
  readonly negHints?: NegHints
  /** mechListMIC. */
  readonly mechListMIC?: Uint8Array
}

/** NegTokenResp (RFC 4178 §4.2.2). */
export interface NegTokenResp {
  /** negState; mandatory in the acceptor's first reply. */
  readonly negState?: NegState
  /** supportedMech: the mechanism the acceptor chose (first reply only). */
  readonly supportedMech?: string
  /** responseToken: the mechanism token. */
  readonly responseToken?: Uint8Array
  /** mechListMIC. */
  readonly mechListMIC?: Uint8Array
}

/** NegotiationToken CHOICE, tagged with which alternative it is. */
export type NegotiationToken =
  ({ readonly kind: 'negTokenInit' } & NegTokenInit) | ({ readonly kind: 'negTokenResp' } & NegTokenResp)

/** A decoded SPNEGO token and whether it came in the RFC 2743 initial-token framing. */
export interface DecodedSpnegoToken {
  /** The NegotiationToken. */
  readonly token: NegotiationToken
  /** True when wrapped as `0x60 … 1.3.6.1.5.5.2 …` (the initial token). */
  readonly framed: boolean
}

const WHAT = 'SPNEGO'

function skipExtensions(r: DerReader, lastKnown: number): void {
  while (!r.done) {
    const e = r.any()
    if (e.tagClass !== TagClass.context || !e.constructed || e.tag <= lastKnown) {
      r.fail('unexpected or out-of-order field')
    }
  }
}

function decodeNegHints(r: DerReader): NegHints {
  const seq = r.sequence()
  const hintName = seq.optionalField(0, (x) => x.generalString())
  const hintAddress = seq.optionalField(1, (x) => x.octetString().slice())
  skipExtensions(seq, 1)
  return {
    ...(hintName === undefined ? {} : { hintName }),
    ...(hintAddress === undefined ? {} : { hintAddress }),
  }
}

function decodeInit(r: DerReader): NegTokenInit {
  const seq = r.sequence()
  if (!seq.nextIs(TagClass.context, 0, true)) seq.fail('NegTokenInit without mechTypes')
  const mechTypes = seq.field(0, (x) => x.sequenceOf((y) => y.oid()))
  const reqFlags = seq.optionalField(1, (x) => {
    const b = x.bitString()
    return { bytes: b.bytes.slice(), unusedBits: b.unusedBits }
  })
  const mechToken = seq.optionalField(2, (x) => x.octetString().slice())
  let negHints: NegHints | undefined
  let mechListMIC: Uint8Array | undefined
  let last = 2
  if (seq.nextIs(TagClass.context, 3, true)) {
    const inner = seq.explicit(3)
    if (inner.nextIs(TagClass.universal, 16, true)) negHints = decodeNegHints(inner)
    else mechListMIC = inner.octetString().slice()
    inner.end()
    last = 3
  }
  if (negHints !== undefined && seq.nextIs(TagClass.context, 4, true)) {
    mechListMIC = seq.field(4, (x) => x.octetString().slice())
    last = 4
  }
  skipExtensions(seq, last)
  return {
    mechTypes,
    ...(reqFlags === undefined ? {} : { reqFlags }),
    ...(mechToken === undefined ? {} : { mechToken }),
    ...(negHints === undefined ? {} : { negHints }),
    ...(mechListMIC === undefined ? {} : { mechListMIC }),
  }
}

function decodeResp(r: DerReader): NegTokenResp {
  const seq = r.sequence()
  const state = seq.optionalField(0, (x) => x.enumerated())
  let negState: NegState | undefined
  if (state !== undefined) {
    negState = NEG_STATES[state]
    if (negState === undefined) seq.fail(`unknown negState ${state}`)
  }
  const supportedMech = seq.optionalField(1, (x) => x.oid())
  const responseToken = seq.optionalField(2, (x) => x.octetString().slice())
  const mechListMIC = seq.optionalField(3, (x) => x.octetString().slice())
  skipExtensions(seq, 3)
  return {
    ...(negState === undefined ? {} : { negState }),
    ...(supportedMech === undefined ? {} : { supportedMech }),
    ...(responseToken === undefined ? {} : { responseToken }),
    ...(mechListMIC === undefined ? {} : { mechListMIC }),
  }
}

function decodeChoice(bytes: Uint8Array): NegotiationToken {
  const r = new DerReader(bytes, WHAT)
  let token: NegotiationToken
  if (r.nextIs(TagClass.context, 0, true)) token = { kind: 'negTokenInit', ...r.field(0, decodeInit) }
  else if (r.nextIs(TagClass.context, 1, true)) token = { kind: 'negTokenResp', ...r.field(1, decodeResp) }
  else throw new ProtocolError('SPNEGO: not a NegotiationToken (expected [0] or [1])')
  r.end()
  return token
}

/**
 * Decodes a SPNEGO token: either the framed initial token (`0x60`, thisMech must be SPNEGO) or a bare
 * NegotiationToken (`0xA0` / `0xA1`).
 */
export function decodeSpnegoToken(bytes: Uint8Array): DecodedSpnegoToken {
  if (isGssInitialContextToken(bytes)) {
    const { mech, innerToken } = decodeGssInitialContextToken(bytes)
    if (mech !== SPNEGO_OID)
      throw new ProtocolError(`SPNEGO: initial token for mechanism ${mech}, not SPNEGO`)
    return { token: decodeChoice(innerToken), framed: true }
  }
  return { token: decodeChoice(bytes), framed: false }
}

/** Decodes a token that must be a NegTokenResp (bare or framed). */
export function decodeNegTokenResp(bytes: Uint8Array): NegTokenResp {
  const { token } = decodeSpnegoToken(bytes)
  if (token.kind !== 'negTokenResp') throw new ProtocolError('SPNEGO: expected a NegTokenResp')
  const { kind: _kind, ...resp } = token
  return resp
}

function initNode(t: NegTokenInit): DerNode {
  const micTag = t.negHints === undefined ? 3 : 4
  const hints =
    t.negHints === undefined
      ? undefined
      : derSequence([
          derOptionalField(
            0,
            t.negHints.hintName === undefined ? undefined : derGeneralString(t.negHints.hintName),
          ),
          derOptionalField(
            1,
            t.negHints.hintAddress === undefined ? undefined : derOctetString(t.negHints.hintAddress),
          ),
        ])
  return derSequence([
    derField(0, mechTypeListNode(t.mechTypes)),
    derOptionalField(
      1,
      t.reqFlags === undefined ? undefined : derBitString(t.reqFlags.bytes, t.reqFlags.unusedBits),
    ),
    derOptionalField(2, t.mechToken === undefined ? undefined : derOctetString(t.mechToken)),
    derOptionalField(3, hints),
    derOptionalField(micTag, t.mechListMIC === undefined ? undefined : derOctetString(t.mechListMIC)),
  ])
}

function respNode(t: NegTokenResp): DerNode {
  if (t.negState !== undefined && !NEG_STATES.includes(t.negState)) {
    throw new ProtocolError(`SPNEGO: bad negState ${String(t.negState)}`, { side: 'local' })
  }
  return derSequence([
    derOptionalField(0, t.negState === undefined ? undefined : derEnumerated(NEG_STATES.indexOf(t.negState))),
    derOptionalField(1, t.supportedMech === undefined ? undefined : derOid(t.supportedMech)),
    derOptionalField(2, t.responseToken === undefined ? undefined : derOctetString(t.responseToken)),
    derOptionalField(3, t.mechListMIC === undefined ? undefined : derOctetString(t.mechListMIC)),
  ])
}

function mechTypeListNode(mechTypes: readonly string[]): DerNode {
  return derSequence(mechTypes.map((m) => derOid(m)))
}

/**
 * Encodes a NegotiationToken; `framed` adds the RFC 2743 initial-token framing (use it for the first
 * token, a NegTokenInit).
 */
export function encodeSpnegoToken(token: NegotiationToken, framed: boolean): Uint8Array {
  const inner = encodeDer(
    token.kind === 'negTokenInit' ? derField(0, initNode(token)) : derField(1, respNode(token)),
  )
  return framed ? encodeGssInitialContextToken(SPNEGO_OID, inner) : inner
}

/** The initiator's first token: a framed NegTokenInit (RFC 4178 §4.2.1). */
export function encodeNegTokenInit(init: NegTokenInit): Uint8Array {
  return encodeSpnegoToken({ kind: 'negTokenInit', ...init }, true)
}

/** A bare NegTokenResp (RFC 4178 §4.2.2), as sent after the first token. */
export function encodeNegTokenResp(resp: NegTokenResp): Uint8Array {
  return encodeSpnegoToken({ kind: 'negTokenResp', ...resp }, false)
}

/** DER of MechTypeList: the bytes the mechListMIC covers (RFC 4178 §5). */
export function encodeMechTypeList(mechTypes: readonly string[]): Uint8Array {
  return encodeDer(mechTypeListNode(mechTypes))
}
