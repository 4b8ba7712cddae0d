/**
 * NTLM session security with extended session security (MS-NLMP 3.4.2–3.4.4.2): signing and
 * sealing with per-direction keys, sequence numbers and RC4 handles that persist across messages.
 *
 * ```
 * NTLMSSP_MESSAGE_SIGNATURE (2.2.2.9.1) = Version (u32 = 1) ‖ Checksum (8) ‖ SeqNum (u32)
 * Checksum = HMAC_MD5(SigningKey, SeqNum ‖ Message)[0..8], then RC4(handle, Checksum) with KEY_EXCH
 * SEAL: Sealed = RC4(handle, Message); Signature = MAC(handle, SigningKey, SeqNum, Message)
 * ```
 *
 * The checksum is encrypted with the same RC4 handle right after the message, so sealing order
 * matters. After a verification failure the keystreams are out of step: discard the context.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto'
import { CryptoError, NotSupportedError } from '../../errors.ts'
import { viewOf } from '../../internal/bytes.ts'
import { Rc4 } from '../crypto/rc4.ts'
import { type NtlmDirection, hmacMd5, sealKey, signKey } from './crypto.ts'
import { NegotiateFlags, hasFlag } from './flags.ts'

/** Size of NTLMSSP_MESSAGE_SIGNATURE. */
export const SIGNATURE_SIZE = 16

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

class Direction {
  readonly signKey: Uint8Array
  readonly sealKey: Uint8Array
  handle: Rc4
  seq = 0

  constructor(exportedSessionKey: Uint8Array, flags: number, direction: NtlmDirection) {
    this.signKey = signKey(exportedSessionKey, direction)
    this.sealKey = sealKey(exportedSessionKey, flags, direction)
    this.handle = new Rc4(this.sealKey)
  }

  [INSPECT](): string {
    return `Direction { seq: ${this.seq} }`
  }
}

/** A sealed message: the 16-byte signature and the encrypted data. */
export interface NtlmSealed {
  readonly header: Uint8Array
  readonly data: Uint8Array
}

/**
 * Per-context NTLM signing and sealing state for one side. A client uses `role: 'client'` (outgoing
 * keys client-to-server); a server, or a test playing one, uses `role: 'server'`.
 */
export class NtlmSessionSecurity {
  readonly #flags: number
  readonly #out: Direction
  readonly #in: Direction
  #broken = false

  /**
   * @param exportedSessionKey the 16-byte ExportedSessionKey
   * @param flags the negotiated flags (must include extended session security)
   * @param role which side this object plays
   */
  constructor(exportedSessionKey: Uint8Array, flags: number, role: NtlmDirection) {
    if (!hasFlag(flags, NegotiateFlags.NEGOTIATE_EXTENDED_SESSIONSECURITY)) {
      throw new NotSupportedError('NTLM session security without extended session security is not supported')
    }
    this.#flags = flags
    const other: NtlmDirection = role === 'client' ? 'server' : 'client'
    this.#out = new Direction(exportedSessionKey, flags, role)
    this.#in = new Direction(exportedSessionKey, flags, other)
  }

  /** The negotiated flags. */
  get flags(): number {
    return this.#flags
  }

  /** Next outgoing sequence number. */
  get outgoingSequence(): number {
    return this.#out.seq
  }

  /** Next expected incoming sequence number. */
  get incomingSequence(): number {
    return this.#in.seq
  }

  #mac(dir: Direction, message: Uint8Array): Uint8Array {
    const seq = new Uint8Array(4)
    viewOf(seq).setUint32(0, dir.seq, true)
    let checksum = hmacMd5(dir.signKey, seq, message).subarray(0, 8)
    if (hasFlag(this.#flags, NegotiateFlags.NEGOTIATE_KEY_EXCH)) checksum = dir.handle.update(checksum)
    const sig = new Uint8Array(SIGNATURE_SIZE)
    const view = viewOf(sig)
    view.setUint32(0, 1, true)
    sig.set(checksum, 4)
    view.setUint32(12, dir.seq, true)
    dir.seq = (dir.seq + 1) >>> 0
    return sig
  }

  #check(): void {
    if (this.#broken) throw new CryptoError('NTLM session security failed earlier; the context is unusable')
  }

  #verify(dir: Direction, message: Uint8Array, signature: Uint8Array, what: string): void {
    const expected = this.#mac(dir, message)
    if (signature.length !== SIGNATURE_SIZE || !timingSafeEqual(expected, signature)) {
      this.#broken = true
      throw new CryptoError(`NTLM ${what}: message signature does not verify`)
    }
  }

  /** MAC of `message` for sending (a 16-byte NTLMSSP_MESSAGE_SIGNATURE); advances the sequence. */
  sign(message: Uint8Array): Uint8Array {
    this.#check()
    return this.#mac(this.#out, message)
  }

  /** Verifies a received signature over `message`; throws `CryptoError` when it does not match. */
  verify(message: Uint8Array, signature: Uint8Array): void {
    this.#check()
    this.#verify(this.#in, message, signature, 'verify')
  }

  /** Seals `message` for sending: RC4-encrypted data and its signature. */
  seal(message: Uint8Array): NtlmSealed {
    this.#check()
    if (!hasFlag(this.#flags, NegotiateFlags.NEGOTIATE_SEAL)) {
      throw new NotSupportedError('NTLM sealing was not negotiated (no NTLMSSP_NEGOTIATE_SEAL)')
    }
    const data = this.#out.handle.update(message)
    const header = this.#mac(this.#out, message)
    return { header, data }
  }

  /** Unseals a received message and verifies its signature; throws `CryptoError` when it does not verify. */
  unseal(sealed: NtlmSealed): Uint8Array {
    this.#check()
    if (!hasFlag(this.#flags, NegotiateFlags.NEGOTIATE_SEAL)) {
      throw new NotSupportedError('NTLM sealing was not negotiated (no NTLMSSP_NEGOTIATE_SEAL)')
    }
    if (sealed.header.length !== SIGNATURE_SIZE) {
      this.#broken = true
      throw new CryptoError(
        `NTLM unseal: signature is ${sealed.header.length} bytes, expected ${SIGNATURE_SIZE}`,
      )
    }
    const plaintext = this.#in.handle.update(sealed.data)
    this.#verify(this.#in, plaintext, sealed.header, 'unseal')
    return plaintext
  }

  /**
   * Re-initialises the RC4 handles from the sealing keys, keeping the sequence numbers. SPNEGO does
   * this after the mechListMIC exchange (pyspnego `_reset_ntlm_crypto_state`, MS-SPNG 3.3.5.1).
   */
  resetRc4(outgoing = true, incoming = true): void {
    if (outgoing) this.#out.handle = new Rc4(this.#out.sealKey)
    if (incoming) this.#in.handle = new Rc4(this.#in.sealKey)
  }

  /** Never shows keys. */
  [INSPECT](): string {
    return `NtlmSessionSecurity { outgoingSequence: ${this.#out.seq}, incomingSequence: ${this.#in.seq} }`
  }
}
