/**
 * The client side of NTLM (MS-NLMP 3.1.5.1, NTLMv2 only) as a sans-IO {@link SecurityContext}:
 * NEGOTIATE → CHALLENGE → AUTHENTICATE with extended session security, key exchange, 128-bit keys,
 * MIC, MsvAvTargetName and MsvAvChannelBindings, then WinRM message sealing (MS-WSMV 2.2.9.1.1,
 * signature = header).
 *
 * Wrong credentials cannot be detected here; the server answers 401 to the AUTHENTICATE_MESSAGE.
 *
 * @module
 */
import { AuthenticationError, InvalidArgumentError, InvalidStateError, ProtocolError } from '../../errors.ts'
import { fromHex, viewOf } from '../../internal/bytes.ts'
import { rc4 } from '../crypto/rc4.ts'
import type { SealedMessage, SecurityContext } from '../security-context.ts'
import { MIC_OFFSET, encodeAuthenticate } from './authenticate.ts'
import {
  AvFlags,
  AvId,
  type AvPair,
  type TargetInfo,
  describeTargetInfo,
  findAvPair,
  setAvPair,
  u32Value,
} from './av-pairs.ts'
import { type ChannelBindings, channelBindingsHash } from './channel-bindings.ts'
import { type ChallengeMessage, decodeChallenge } from './challenge.ts'
import { encodeClientChallenge } from './client-challenge.ts'
import { computeMic, computeNtlmv2Proof, lmv2Response, ntowfv1, ntowfv2 } from './crypto.ts'
import { DEFAULT_CLIENT_FLAGS, NegotiateFlags, hasFlag } from './flags.ts'
import { encodeNegotiate } from './negotiate.ts'
import { NtlmSessionSecurity, SIGNATURE_SIZE } from './session-security.ts'
import { utf16le } from './wire.ts'
import { DEFAULT_VERSION, type NtlmVersion } from './version.ts'

/** Options of {@link NtlmContext}. Give exactly one of `password` and `ntHash`. */
export interface NtlmContextOptions {
  /**
   * The user: `user`, `DOMAIN\user` (domain taken from the prefix) or the UPN `user@domain.tld`. A UPN
   * is sent whole as UserName with an empty DomainName, as Windows SSPI and pyspnego do; the server
   * resolves it.
   */
  readonly username: string
  /** The password. */
  readonly password?: string | undefined
  /** The NT hash (NTOWFv1, 16 bytes) instead of a password: bytes, 32 hex digits, or `LM:NT` hex. */
  readonly ntHash?: Uint8Array | string | undefined
  /** The domain when `username` has no `DOMAIN\` prefix. */
  readonly domain?: string | undefined
  /** The client's workstation name (default empty). */
  readonly workstation?: string | undefined
  /** The target SPN for MsvAvTargetName, e.g. `HTTP/server.example.com`; omitted when absent. */
  readonly spn?: string | undefined
  /** TLS channel bindings for MsvAvChannelBindings (HTTPS); 16 zero bytes are sent when absent. */
  readonly channelBindings?: ChannelBindings | undefined
  /**
   * Current time as a FILETIME, used only when the server sent no MsvAvTimestamp (every Windows
   * server since 2008 sends one). Without it such a server is refused with `AuthenticationError`.
   * `filetimeFromUnixMs(Date.now())` is a suitable implementation.
   */
  readonly now?: (() => bigint) | undefined
  /** Random bytes (client challenge, exported session key); defaults to `crypto.getRandomValues`. */
  readonly random?: ((n: number) => Uint8Array) | undefined
  /** VERSION sent in NEGOTIATE and AUTHENTICATE (default 10.0.17763, revision 15). */
  readonly version?: NtlmVersion | undefined
  /** NegotiateFlags to propose (default {@link DEFAULT_CLIENT_FLAGS}). */
  readonly flags?: number | undefined
}

/** Where an {@link NtlmContext} is in the exchange. */
export type NtlmState = 'initial' | 'negotiate-sent' | 'complete' | 'failed'

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

function defaultRandom(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n))
}

function parseNtHash(value: Uint8Array | string): Uint8Array {
  if (typeof value !== 'string') {
    if (value.length !== 16) throw new InvalidArgumentError('NTLM ntHash must be 16 bytes')
    return value.slice()
  }
  const nt = value.includes(':') ? value.slice(value.lastIndexOf(':') + 1) : value
  const bytes = fromHex(nt)
  if (bytes === undefined || bytes.length !== 16) {
    throw new InvalidArgumentError('NTLM ntHash must be 32 hex digits (or LM:NT)')
  }
  return bytes
}

/**
 * Splits a user name: `DOMAIN\user` gives the domain; `user@domain` stays whole (UPN, empty domain).
 */
export function splitUsername(username: string, domain?: string): { user: string; domain: string } {
  const slash = username.indexOf('\\')
  if (slash >= 0) return { domain: username.slice(0, slash), user: username.slice(slash + 1) }
  return { user: username, domain: domain ?? '' }
}

/** An NTLM client security context. */
export class NtlmContext implements SecurityContext {
  /** Always `NTLM`. */
  readonly mechanism = 'NTLM' as const
  /** UserName as sent. */
  readonly user: string
  /** DomainName as sent (empty for a UPN). */
  readonly domain: string
  /** Workstation as sent. */
  readonly workstation: string

  #ntHash: Uint8Array
  readonly #spn: string | undefined
  readonly #channelBindings: ChannelBindings | undefined
  readonly #now: (() => bigint) | undefined
  readonly #random: (n: number) => Uint8Array
  readonly #version: NtlmVersion
  readonly #requestFlags: number
  #state: NtlmState = 'initial'
  #negotiate: Uint8Array | undefined
  #flags: number | undefined
  #targetInfo: TargetInfo | undefined
  #micPresent = false
  #security: NtlmSessionSecurity | undefined

  constructor(options: NtlmContextOptions) {
    if (typeof options.username !== 'string' || options.username === '') {
      throw new InvalidArgumentError('NTLM needs a username')
    }
    const hasPassword = options.password !== undefined
    const hasHash = options.ntHash !== undefined
    if (hasPassword === hasHash)
      throw new InvalidArgumentError('NTLM needs exactly one of password and ntHash')
    const { user, domain } = splitUsername(options.username, options.domain)
    this.user = user
    this.domain = domain
    this.workstation = options.workstation ?? ''
    this.#ntHash =
      options.password !== undefined
        ? ntowfv1(options.password)
        : parseNtHash(options.ntHash as Uint8Array | string)
    this.#spn = options.spn
    this.#channelBindings = options.channelBindings
    this.#now = options.now
    this.#random = options.random ?? defaultRandom
    this.#version = options.version ?? DEFAULT_VERSION
    this.#requestFlags = (options.flags ?? DEFAULT_CLIENT_FLAGS) >>> 0
  }

  /** True once the AUTHENTICATE_MESSAGE has been produced. */
  get complete(): boolean {
    return this.#state === 'complete'
  }

  /** Where the exchange is. */
  get state(): NtlmState {
    return this.#state
  }

  /** The negotiated flags (from the CHALLENGE_MESSAGE), once known. */
  get negotiatedFlags(): number | undefined {
    return this.#flags
  }

  /** The server's TargetInfo, decoded, once the CHALLENGE_MESSAGE was received. */
  get serverTargetInfo(): TargetInfo | undefined {
    return this.#targetInfo
  }

  /** True when the AUTHENTICATE_MESSAGE carried a MIC (SPNEGO must then exchange mechListMIC). */
  get micPresent(): boolean {
    return this.#micPresent
  }

  /** @inheritDoc */
  async step(input?: Uint8Array): Promise<Uint8Array | undefined> {
    switch (this.#state) {
      case 'initial':
        if (input !== undefined && input.length > 0) {
          throw new ProtocolError('NTLM: the server sent a token before NEGOTIATE_MESSAGE')
        }
        return this.negotiate()
      case 'negotiate-sent':
        if (input === undefined || input.length === 0) {
          throw new AuthenticationError('NTLM: the server did not answer with a CHALLENGE_MESSAGE')
        }
        return this.authenticate(input)
      case 'complete':
        if (input !== undefined && input.length > 0) {
          throw new ProtocolError('NTLM: unexpected token after authentication completed')
        }
        return undefined
      case 'failed':
        throw new InvalidStateError('step', 'failed', 'NTLM: the context failed earlier')
    }
  }

  /** Synchronous first leg: the NEGOTIATE_MESSAGE (MS-NLMP 3.1.5.1.1). */
  negotiate(): Uint8Array {
    if (this.#state !== 'initial') throw new InvalidStateError('negotiate', this.#state)
    this.#negotiate = encodeNegotiate({ flags: this.#requestFlags, version: this.#version })
    this.#state = 'negotiate-sent'
    return this.#negotiate
  }

  /** Synchronous second leg: the AUTHENTICATE_MESSAGE for a CHALLENGE_MESSAGE (MS-NLMP 3.1.5.1.2). */
  authenticate(challengeBytes: Uint8Array): Uint8Array {
    if (this.#state !== 'negotiate-sent' || this.#negotiate === undefined) {
      throw new InvalidStateError('authenticate', this.#state)
    }
    try {
      const out = this.#authenticate(this.#negotiate, challengeBytes)
      this.#state = 'complete'
      return out
    } catch (err) {
      this.#state = 'failed'
      throw err
    } finally {
      this.#ntHash.fill(0)
    }
  }

  #authenticate(negotiate: Uint8Array, challengeBytes: Uint8Array): Uint8Array {
    const challenge: ChallengeMessage = decodeChallenge(challengeBytes)
    const flags = challenge.flags >>> 0
    if (!hasFlag(flags, NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY)) {
      throw new AuthenticationError('NTLM: the server did not accept extended session security (NTLMv2 only)')
    }
    if (!hasFlag(flags, NegotiateFlags.NEGOTIATE_UNICODE) && !hasFlag(flags, NegotiateFlags.NEGOTIATE_OEM)) {
      throw new ProtocolError('NTLM CHALLENGE_MESSAGE: neither Unicode nor OEM strings negotiated')
    }
    const info = describeTargetInfo(challenge.targetInfo)
    this.#targetInfo = info
    this.#flags = flags

    // MS-NLMP 3.1.5.1.2: with a server timestamp the client uses it, sends a MIC and a zero LM response.
    const serverTime = info.timestamp
    const mic = serverTime !== undefined
    let timestamp: bigint
    if (serverTime !== undefined) timestamp = serverTime
    else if (this.#now !== undefined) timestamp = this.#now()
    else {
      throw new AuthenticationError(
        'NTLM: the server sent no MsvAvTimestamp and no clock was given (NtlmContextOptions.now)',
      )
    }

    let pairs: AvPair[] = [...challenge.targetInfo]
    if (mic) {
      const existing = findAvPair(pairs, AvId.MsvAvFlags)
      const avFlags = existing === undefined ? 0 : viewOf(existing).getUint32(0, true)
      pairs = setAvPair(pairs, AvId.MsvAvFlags, u32Value(avFlags | AvFlags.MIC_PRESENT))
    }
    pairs = setAvPair(pairs, AvId.MsvAvChannelBindings, channelBindingsHash(this.#channelBindings))
    if (this.#spn !== undefined) pairs = setAvPair(pairs, AvId.MsvAvTargetName, utf16le(this.#spn))

    const clientChallenge = this.#randomBytes(8)
    const temp = encodeClientChallenge({ timestamp, challengeFromClient: clientChallenge, avPairs: pairs })
    const responseKey = ntowfv2(this.#ntHash, this.user, this.domain)
    const proof = computeNtlmv2Proof(responseKey, challenge.serverChallenge, temp)
    const lm = mic
      ? new Uint8Array(24)
      : lmv2Response(responseKey, challenge.serverChallenge, clientChallenge)
    responseKey.fill(0)

    // NTLMv2: KeyExchangeKey = SessionBaseKey (MS-NLMP 3.4.5.1).
    const keyExchangeKey = proof.sessionBaseKey
    let exportedSessionKey: Uint8Array
    let encryptedRandomSessionKey: Uint8Array
    if (hasFlag(flags, NegotiateFlags.NEGOTIATE_KEY_EXCH)) {
      exportedSessionKey = this.#randomBytes(16)
      encryptedRandomSessionKey = rc4(keyExchangeKey, exportedSessionKey)
    } else {
      exportedSessionKey = keyExchangeKey
      encryptedRandomSessionKey = new Uint8Array(0)
    }

    const auth = encodeAuthenticate({
      flags,
      lmChallengeResponse: lm,
      ntChallengeResponse: proof.ntChallengeResponse,
      domain: this.domain,
      user: this.user,
      workstation: this.workstation,
      encryptedRandomSessionKey,
      version: this.#version,
    })
    if (mic) auth.set(computeMic(exportedSessionKey, negotiate, challengeBytes, auth), MIC_OFFSET)
    this.#micPresent = mic
    this.#security = new NtlmSessionSecurity(exportedSessionKey, flags, 'client')
    exportedSessionKey.fill(0)
    return auth
  }

  #randomBytes(n: number): Uint8Array {
    const bytes = this.#random(n)
    if (bytes.length !== n) throw new InvalidArgumentError(`NTLM random(${n}) returned ${bytes.length} bytes`)
    return bytes.slice()
  }

  #session(action: string): NtlmSessionSecurity {
    if (this.#security === undefined)
      throw new InvalidStateError(
        action,
        this.#state,
        `NTLM: cannot ${action} before authentication completed`,
      )
    return this.#security
  }

  /** Seals a message for WinRM: header = 16-byte NTLMSSP_MESSAGE_SIGNATURE, data = RC4 ciphertext. */
  wrap(plaintext: Uint8Array): SealedMessage {
    return this.#session('wrap').seal(plaintext)
  }

  /** Unseals a message from the server and verifies its signature (`CryptoError` on mismatch). */
  unwrap(message: SealedMessage): Uint8Array {
    return this.#session('unwrap').unseal(message)
  }

  /** Signs without sealing (SPNEGO mechListMIC): a 16-byte signature; advances the outgoing sequence. */
  sign(message: Uint8Array): Uint8Array {
    return this.#session('sign').sign(message)
  }

  /** Verifies a server signature over `message` (SPNEGO mechListMIC); `CryptoError` on mismatch. */
  verify(message: Uint8Array, signature: Uint8Array): void {
    this.#session('verify').verify(message, signature)
  }

  /**
   * Re-initialises the RC4 handles, keeping sequence numbers (SPNEGO after a mechListMIC). Only the
   * asked directions are reset: SPNEGO resets the outgoing handle after signing its mechListMIC and
   * the incoming one after verifying the server's (pyspnego `_reset_ntlm_crypto_state(outgoing)`),
   * which matters when a message is sealed in between (CredSSP's pubKeyAuth).
   */
  resetCryptoState(outgoing = true, incoming = true): void {
    this.#session('reset crypto state').resetRc4(outgoing, incoming)
  }

  /**
   * GSS_Wrap for NTLM (MS-NLMP 3.4.3 with sealing): one token, signature ‖ sealed data — what
   * CredSSP puts in pubKeyAuth and authInfo.
   */
  wrapGss(plaintext: Uint8Array): Uint8Array {
    const sealed = this.#session('wrap').seal(plaintext)
    const out = new Uint8Array(sealed.header.length + sealed.data.length)
    out.set(sealed.header)
    out.set(sealed.data, sealed.header.length)
    return out
  }

  /** GSS_Unwrap for NTLM: opens signature ‖ sealed data (`CryptoError` when it does not verify). */
  unwrapGss(token: Uint8Array): Uint8Array {
    const session = this.#session('unwrap')
    if (token.length < SIGNATURE_SIZE) {
      throw new ProtocolError(`NTLM: a wrap token of ${token.length} bytes is shorter than its signature`)
    }
    return session.unseal({ header: token.subarray(0, SIGNATURE_SIZE), data: token.subarray(SIGNATURE_SIZE) })
  }

  /** Never shows the password, NT hash or keys. */
  [INSPECT](): string {
    const who = this.domain === '' ? this.user : `${this.domain}\\${this.user}`
    return `NtlmContext { user: ${JSON.stringify(who)}, state: '${this.#state}' }`
  }

  /** Never serialises secrets. */
  toJSON(): { mechanism: 'NTLM'; user: string; domain: string; state: NtlmState } {
    return { mechanism: 'NTLM', user: this.user, domain: this.domain, state: this.#state }
  }
}
