/**
 * The initiator side of SPNEGO (RFC 4178 §5, with the Windows behaviours of MS-SPNG) as a sans-IO
 * {@link SecurityContext}, over any mechanisms that are themselves security contexts (NTLM, later
 * Kerberos).
 *
 * Exchange, HTTP `Authorization: Negotiate`:
 * 1. NegTokenInit { mechTypes (preference order), mechToken = first token of the first mechanism
 *    that starts } in the RFC 2743 framing.
 * 2. The server's NegTokenResp names supportedMech. If it is not the mechanism of the optimistic
 *    token, that token is dropped and the chosen mechanism starts afresh (its first token goes in a
 *    NegTokenResp). `reject` → `AuthenticationError`.
 * 3. Tokens are relayed until the mechanism completes. mechListMIC (RFC 4178 §5)
 *    over the DER of mechTypes is sent when the mechanism asks for it (NTLM with a MIC in
 *    AUTHENTICATE: `micPresent`), when the server sends `request-mic`, when the server chose a
 *    mechanism other than our first, or when the server sent one; the server's mechListMIC is
 *    verified. For NTLM the RC4 handle of that direction is reset after each (outgoing after ours,
 *    incoming after the server's), so the mechListMIC and the first sealed message use the same key
 *    state (MS-SPNG 3.3.5.1) even when CredSSP seals pubKeyAuth between the two.
 * 4. As pyspnego and Windows do, an `accept-completed` without a server mechListMIC is accepted even
 *    when we sent one (`mechListMicVerified` then stays false); `requireServerMechListMic` makes
 *    that an `AuthenticationError`. A mechListMIC identical to responseToken (an old-Windows quirk)
 *    is ignored.
 *
 * Message sealing (`wrap`/`unwrap`) and plain GSS wrap tokens (`wrapGss`/`unwrapGss`, for CredSSP)
 * are delegated to the chosen mechanism.
 *
 * @module
 */
import {
  AuthenticationError,
  CryptoError,
  InvalidArgumentError,
  InvalidStateError,
  NotSupportedError,
  ProtocolError,
  PsrpError,
} from '../../errors.ts'
import { bytesEqual } from '../../internal/bytes.ts'
import type { SealedMessage, SecurityContext } from '../security-context.ts'
import { KERBEROS_OID, MS_KERBEROS_OID, mechanismName } from './oids.ts'
import {
  type NegState,
  type NegTokenResp,
  decodeSpnegoToken,
  encodeMechTypeList,
  encodeNegTokenInit,
  encodeNegTokenResp,
} from './tokens.ts'

/**
 * A mechanism context usable under SPNEGO: a {@link SecurityContext}, plus the optional integrity
 * hooks mechListMIC needs (NTLM's `NtlmContext` has them all).
 */
export interface NegotiateMechanismContext extends SecurityContext {
  /** gss_get_mic: a signature over `message` (advances the outgoing sequence). */
  sign?(message: Uint8Array): Uint8Array
  /** gss_verify_mic: throws (`CryptoError`) when `signature` does not verify. */
  verify?(message: Uint8Array, signature: Uint8Array): void
  /**
   * Called after a mechListMIC is produced (`outgoing` true, `incoming` false) or verified
   * (`outgoing` false, `incoming` true). NTLM re-initialises the RC4 handle of that direction only
   * (MS-SPNG 3.3.5.1; pyspnego `_reset_ntlm_crypto_state`), so a message sealed between the two
   * (CredSSP's pubKeyAuth) stays in step with the server.
   */
  resetCryptoState?(outgoing: boolean, incoming: boolean): void
  /** GSS_Wrap with confidentiality: one whole token (Kerberos: RFC 4121 Wrap token, RRC 0; NTLM: signature ‖ sealed). */
  wrapGss?(plaintext: Uint8Array): Uint8Array
  /** GSS_Unwrap of one whole token; throws (`CryptoError`) when it does not verify. */
  unwrapGss?(token: Uint8Array): Uint8Array
  /** NTLM: true when AUTHENTICATE carried a MIC, so SPNEGO must exchange mechListMIC. */
  readonly micPresent?: boolean
}

/** One mechanism SPNEGO may offer. */
export interface NegotiateMechanism {
  /** Its OID, e.g. `NTLM_OID` or `KERBEROS_OID`. */
  readonly oid: string
  /** Creates a fresh context for it (called at most once per {@link NegotiateContext}). */
  readonly create: () => NegotiateMechanismContext
  /**
   * Whether an error from starting this mechanism ends the negotiation instead of moving on to
   * the next mechanism. Kerberos uses it when the KDC refused the password: NTLM against the same
   * account would fail too and only add a failed logon toward lockout (Windows' Negotiate does not
   * fall back then either).
   */
  readonly isFinal?: (err: PsrpError) => boolean
}

/** Options of {@link NegotiateContext}. */
export interface NegotiateContextOptions {
  /** Mechanisms in preference order (e.g. Kerberos, then NTLM). */
  readonly mechanisms: readonly NegotiateMechanism[]
  /**
   * Refuse to complete when a mechListMIC was required but the server sent none (RFC 4178 §5
   * strictly). Default false: accept, as Windows clients and pyspnego do.
   */
  readonly requireServerMechListMic?: boolean
}

/** Where a {@link NegotiateContext} is. */
export type NegotiateState = 'initial' | 'in-progress' | 'complete' | 'failed'

interface Active {
  readonly oid: string
  readonly ctx: NegotiateMechanismContext
}

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/**
 * The two Kerberos OIDs name one mechanism (Windows lists both and may answer with either); a
 * server naming the other one is not a switch.
 */
function sameMechanism(a: string, b: string): boolean {
  if (a === b) return true
  const krb = (o: string): boolean => o === KERBEROS_OID || o === MS_KERBEROS_OID
  return krb(a) && krb(b)
}

/** A SPNEGO (HTTP `Negotiate`) client security context. */
export class NegotiateContext implements SecurityContext {
  readonly #mechanisms: readonly NegotiateMechanism[]
  readonly #requireServerMic: boolean
  #state: NegotiateState = 'initial'
  readonly #skipped: string[] = []
  #offered: string[] = []
  #mechTypesDer: Uint8Array = new Uint8Array(0)
  #active: Active | undefined
  #chosenOid: string | undefined
  #lastNegState: NegState | undefined
  #chosen = false
  #switched = false
  #micRequired = false
  #micSent = false
  #micVerified = false

  constructor(options: NegotiateContextOptions) {
    const mechs = options.mechanisms
    if (!Array.isArray(mechs) || mechs.length === 0) {
      throw new InvalidArgumentError('SPNEGO needs at least one mechanism')
    }
    const seen = new Set<string>()
    for (const m of mechs) {
      if (typeof m.oid !== 'string' || typeof m.create !== 'function') {
        throw new InvalidArgumentError('SPNEGO mechanism needs an oid and a create function')
      }
      if (seen.has(m.oid)) throw new InvalidArgumentError(`SPNEGO mechanism ${m.oid} listed twice`)
      seen.add(m.oid)
    }
    this.#mechanisms = [...mechs]
    this.#requireServerMic = options.requireServerMechListMic ?? false
  }

  /** `Negotiate` until the server has chosen, then the chosen mechanism (`NTLM` or `Kerberos`). */
  get mechanism(): SecurityContext['mechanism'] {
    if (!this.#chosen || this.#active === undefined) return 'Negotiate'
    const m = this.#active.ctx.mechanism
    return m === 'Negotiate' ? (mechanismName(this.#active.oid) ?? m) : m
  }

  /** True once the server accepted and every required mechListMIC was exchanged. */
  get complete(): boolean {
    return this.#state === 'complete'
  }

  /** The errors of the mechanisms that could not start and were left out (e.g. Kerberos without a KDC). */
  get skippedMechanisms(): readonly string[] {
    return this.#skipped
  }

  /** Where the exchange is. */
  get state(): NegotiateState {
    return this.#state
  }

  /** OID of the mechanism the server chose (its supportedMech), once known. */
  get negotiatedMechOid(): string | undefined {
    return this.#chosen ? this.#chosenOid : undefined
  }

  /** mechTypes as sent in NegTokenInit (after dropping mechanisms that could not start). */
  get mechTypes(): readonly string[] {
    return this.#offered
  }

  /** True when we sent a mechListMIC. */
  get mechListMicSent(): boolean {
    return this.#micSent
  }

  /** True when the server's mechListMIC was received and verified. */
  get mechListMicVerified(): boolean {
    return this.#micVerified
  }

  /** @inheritDoc */
  async step(input?: Uint8Array): Promise<Uint8Array | undefined> {
    switch (this.#state) {
      case 'initial':
        if (input !== undefined && input.length > 0) {
          // A server-initiated NegTokenInit2 (MS-SPNG 2.2.1) carries only hints; ignore it.
          const { token } = this.#decode(input)
          if (token.kind !== 'negTokenInit') {
            throw new ProtocolError('SPNEGO: the server sent a NegTokenResp before our NegTokenInit')
          }
        }
        return this.#guard(() => this.#start())
      case 'in-progress':
        return this.#guard(() => this.#continue(input))
      case 'complete':
        if (input !== undefined && input.length > 0) {
          throw new ProtocolError('SPNEGO: unexpected token after authentication completed')
        }
        return undefined
      case 'failed':
        throw new InvalidStateError('step', 'failed', 'SPNEGO: the context failed earlier')
    }
  }

  async #guard(run: () => Promise<Uint8Array | undefined>): Promise<Uint8Array | undefined> {
    try {
      return await run()
    } catch (err) {
      this.#state = 'failed'
      throw err
    }
  }

  #decode(input: Uint8Array): ReturnType<typeof decodeSpnegoToken> {
    return decodeSpnegoToken(input)
  }

  async #start(): Promise<Uint8Array> {
    const errors: PsrpError[] = []
    let mechToken: Uint8Array | undefined
    for (const m of this.#mechanisms) {
      if (this.#active !== undefined) {
        this.#offered.push(m.oid)
        continue
      }
      try {
        const ctx = m.create()
        mechToken = await ctx.step()
        this.#active = { oid: m.oid, ctx }
        this.#offered.push(m.oid)
      } catch (err) {
        // A mechanism that cannot start (no Kerberos ticket, …) is left out of mechTypes.
        if (!(err instanceof PsrpError) || m.isFinal?.(err) === true) throw err
        errors.push(err)
        this.#skipped.push(err.message)
      }
    }
    if (this.#active === undefined) {
      throw new AuthenticationError(
        `SPNEGO: no mechanism could start (${errors.map((e) => e.message).join('; ')})`,
        { cause: errors[0] },
      )
    }
    this.#mechTypesDer = encodeMechTypeList(this.#offered)
    this.#state = 'in-progress'
    return encodeNegTokenInit({
      mechTypes: this.#offered,
      ...(mechToken === undefined || mechToken.length === 0 ? {} : { mechToken }),
    })
  }

  async #continue(input: Uint8Array | undefined): Promise<Uint8Array | undefined> {
    if (input === undefined || input.length === 0) {
      throw new AuthenticationError('SPNEGO: the server answered without a Negotiate token')
    }
    const { token } = this.#decode(input)
    if (token.kind !== 'negTokenResp')
      throw new ProtocolError('SPNEGO: expected a NegTokenResp from the server')
    const resp: NegTokenResp = token
    let active = this.#active as Active
    // RFC 4178 §4.2.2: negState is mandatory only in the first reply; otherwise it carries over.
    const negState = resp.negState ?? this.#lastNegState
    this.#lastNegState = negState
    if (negState === 'reject') {
      // A rejecting token may carry the mechanism's error (e.g. KRB-ERROR); let it explain itself.
      let cause: unknown
      const sameMech = resp.supportedMech === undefined || sameMechanism(resp.supportedMech, active.oid)
      if (resp.responseToken !== undefined && sameMech && !active.ctx.complete) {
        try {
          await active.ctx.step(resp.responseToken)
        } catch (err) {
          cause = err
        }
      }
      throw new AuthenticationError(
        `SPNEGO: the server rejected the authentication${resp.supportedMech === undefined ? '' : ` (mechanism ${resp.supportedMech})`}${cause instanceof Error ? `: ${cause.message}` : ''}`,
        cause === undefined ? undefined : { cause },
      )
    }
    const responseToken = resp.responseToken
    let serverMic = resp.mechListMIC
    // As pyspnego does: some old Windows versions echo responseToken as mechListMIC.
    if (serverMic !== undefined && responseToken !== undefined && bytesEqual(serverMic, responseToken)) {
      serverMic = undefined
    }

    let out: Uint8Array | undefined
    let started = false
    if (!this.#chosen) {
      this.#chosen = true
      const chosen = resp.supportedMech ?? active.oid
      if (sameMechanism(chosen, active.oid)) {
        this.#chosenOid = chosen
      } else {
        const spec = this.#mechanisms.find((m) => m.oid === chosen)
        if (spec === undefined || !this.#offered.includes(chosen)) {
          throw new ProtocolError(`SPNEGO: the server chose ${chosen}, which we did not offer`)
        }
        if (responseToken !== undefined) {
          throw new ProtocolError('SPNEGO: responseToken for a mechanism whose first token was never sent')
        }
        // RFC 4178 §5: the optimistic token is discarded; the chosen mechanism starts now.
        const ctx = spec.create()
        active = { oid: chosen, ctx }
        this.#active = active
        this.#chosenOid = chosen
        this.#switched = true
        out = await ctx.step()
        started = true
      }
    } else if (resp.supportedMech !== undefined && !sameMechanism(resp.supportedMech, active.oid)) {
      throw new ProtocolError('SPNEGO: the server changed supportedMech mid-exchange')
    }
    if (negState === 'request-mic') this.#micRequired = true

    const mech = active.ctx
    if (!started) {
      if (responseToken !== undefined) out = await mech.step(responseToken)
      else if (!mech.complete) {
        if (negState === 'accept-completed') {
          throw new AuthenticationError('SPNEGO: the server completed but the mechanism did not')
        }
        throw new ProtocolError('SPNEGO: no responseToken for a mechanism that is not complete')
      }
    }
    if (mech.complete && mech.micPresent === true) this.#micRequired = true
    if (mech.complete && this.#switched && mech.sign !== undefined) this.#micRequired = true

    if (serverMic !== undefined) {
      if (!mech.complete) throw new ProtocolError('SPNEGO: mechListMIC before the mechanism completed')
      if (mech.verify === undefined) {
        throw new AuthenticationError('SPNEGO: the mechanism cannot verify the server mechListMIC')
      }
      try {
        mech.verify(this.#mechTypesDer, serverMic)
      } catch (err) {
        if (err instanceof CryptoError) {
          throw new AuthenticationError('SPNEGO: the server mechListMIC does not verify', { cause: err })
        }
        throw err
      }
      mech.resetCryptoState?.(false, true)
      this.#micVerified = true
      this.#micRequired = true
    }

    let outMic: Uint8Array | undefined
    if (mech.complete && this.#micRequired && !this.#micSent) {
      if (mech.sign === undefined) {
        throw new AuthenticationError('SPNEGO: a mechListMIC is required but the mechanism cannot sign')
      }
      outMic = mech.sign(this.#mechTypesDer)
      mech.resetCryptoState?.(true, false)
      this.#micSent = true
    }

    if (negState === 'accept-completed') {
      if (!mech.complete) {
        throw new AuthenticationError('SPNEGO: the server completed but the mechanism did not')
      }
      if (this.#requireServerMic && this.#micRequired && !this.#micVerified) {
        throw new AuthenticationError('SPNEGO: the server sent no mechListMIC')
      }
      this.#state = 'complete'
    }

    const hasOut = out !== undefined && out.length > 0
    if (!hasOut && outMic === undefined) {
      if (this.#state !== 'complete') {
        throw new ProtocolError('SPNEGO: the server expects more, but there is nothing to send')
      }
      return undefined
    }
    return encodeNegTokenResp({
      ...(hasOut ? { responseToken: out as Uint8Array } : {}),
      ...(outMic === undefined ? {} : { mechListMIC: outMic }),
    })
  }

  #mech(action: string): NegotiateMechanismContext {
    const active = this.#active
    if (active === undefined || !this.#chosen || !active.ctx.complete) {
      throw new InvalidStateError(
        action,
        this.#state,
        `SPNEGO: cannot ${action} before authentication completed`,
      )
    }
    return active.ctx
  }

  /** Seals with the chosen mechanism (allowed once it is complete). */
  wrap(plaintext: Uint8Array): SealedMessage {
    return this.#mech('wrap').wrap(plaintext)
  }

  /** Unseals with the chosen mechanism (`CryptoError` when it does not verify). */
  unwrap(message: SealedMessage): Uint8Array {
    return this.#mech('unwrap').unwrap(message)
  }

  /**
   * GSS_Wrap (with confidentiality) by the chosen mechanism: one whole token, as CredSSP carries in
   * pubKeyAuth and authInfo. `NotSupportedError` when the mechanism has no plain wrap.
   */
  wrapGss(plaintext: Uint8Array): Uint8Array {
    const mech = this.#mech('wrap')
    if (mech.wrapGss === undefined) {
      throw new NotSupportedError(`SPNEGO: the ${mech.mechanism} mechanism offers no GSS wrap`)
    }
    return mech.wrapGss(plaintext)
  }

  /** GSS_Unwrap by the chosen mechanism (`CryptoError` when the token does not verify). */
  unwrapGss(token: Uint8Array): Uint8Array {
    const mech = this.#mech('unwrap')
    if (mech.unwrapGss === undefined) {
      throw new NotSupportedError(`SPNEGO: the ${mech.mechanism} mechanism offers no GSS unwrap`)
    }
    return mech.unwrapGss(token)
  }

  /** Never shows secrets. */
  [INSPECT](): string {
    return `NegotiateContext { mechanism: '${this.mechanism}', state: '${this.#state}' }`
  }

  /** Never serialises secrets. */
  toJSON(): { mechanism: string; state: NegotiateState; mechTypes: readonly string[] } {
    return { mechanism: this.mechanism, state: this.#state, mechTypes: this.#offered }
  }
}
