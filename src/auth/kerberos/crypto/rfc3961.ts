/**
 * The RFC 3961 framework pieces shared by the AES enctypes: key-usage constants (§5.3: usage as a
 * 32-bit big-endian number followed by 0x99 for Kc, 0xAA for Ke, 0x55 for Ki), the DR/DK key
 * derivation functions (§5.1) over a block cipher, the "simplified profile" encryption (§5.3:
 * confounder ‖ plaintext encrypted with Ke, followed by a truncated HMAC under Ki of the plaintext
 * side), and the profile's keyed checksum (HMAC under Kc, truncated).
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { CryptoError, InvalidArgumentError, ProtocolError } from '../../../errors.ts'
import { nfold } from './nfold.ts'
import { defaultRandom, type DerivedKeyKind, type EncryptionProfile, type EncryptOptions } from './types.ts'

const KIND_OCTET: Readonly<Record<DerivedKeyKind, number>> = { Kc: 0x99, Ke: 0xaa, Ki: 0x55 }

/**
 * The 5-byte well-known constant for a key usage and derived-key kind (RFC 3961 §5.3; the same
 * labels are used by RFC 8009 §5).
 */
export function usageConstant(usage: number, kind: DerivedKeyKind): Uint8Array {
  if (!Number.isInteger(usage) || usage < 0 || usage > 0xffffffff) {
    throw new InvalidArgumentError(`bad key usage ${usage}`)
  }
  const out = new Uint8Array(5)
  new DataView(out.buffer).setUint32(0, usage, false)
  out[4] = KIND_OCTET[kind]
  return out
}

/** Encrypts one cipher block with a key (the "E" of DR for a block cipher in CBC/CTS with zero IV). */
export type BlockEncrypt = (key: Uint8Array, block: Uint8Array) => Uint8Array

/**
 * DR(Key, Constant) of RFC 3961 §5.1: the constant is n-folded to the block size when it is not
 * already one block, then encrypted repeatedly (each output block is the next input) until
 * `outputBytes` bytes are collected.
 */
export function deriveRandom(
  encryptBlock: BlockEncrypt,
  blockSize: number,
  key: Uint8Array,
  constant: Uint8Array,
  outputBytes: number,
): Uint8Array {
  let block = constant.length === blockSize ? constant : nfold(constant, blockSize)
  const out = new Uint8Array(outputBytes)
  let filled = 0
  while (filled < outputBytes) {
    block = encryptBlock(key, block)
    const take = Math.min(block.length, outputBytes - filled)
    out.set(block.subarray(0, take), filled)
    filled += take
  }
  return out
}

/** Hash names as Node's crypto spells them. */
export type HashName = 'sha1' | 'sha256' | 'sha384'

/** HMAC of the concatenation of `parts`. */
export function hmac(hash: HashName, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac(hash, key)
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** Constant-time comparison of two MACs (false when the lengths differ). */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Checks a protocol key's length. */
export function checkKey(
  profile: { readonly name: string; readonly keySize: number },
  key: Uint8Array,
): void {
  if (key.length !== profile.keySize) {
    throw new InvalidArgumentError(`${profile.name} key must be ${profile.keySize} bytes, got ${key.length}`)
  }
}

/** Resolves the confounder of an encryption from its options. */
export function takeConfounder(size: number, options: EncryptOptions | undefined): Uint8Array {
  if (options?.confounder !== undefined) {
    if (options.confounder.length !== size) {
      throw new InvalidArgumentError(`confounder must be ${size} bytes, got ${options.confounder.length}`)
    }
    return options.confounder
  }
  const c = (options?.random ?? defaultRandom)(size)
  if (c.length !== size)
    throw new InvalidArgumentError(`random source returned ${c.length} bytes, wanted ${size}`)
  return c
}

/** What a simplified-profile enctype plugs into {@link simplifiedProfile}. */
export interface SimplifiedProfileSpec {
  /** Enctype number. */
  readonly enctype: number
  /** Enctype name. */
  readonly name: string
  /** Associated checksum type number. */
  readonly checksumType: number
  /** Protocol key size in bytes (random-to-key is the identity, so also the DR output size). */
  readonly keySize: number
  /** Cipher block size in bytes; also the confounder length. */
  readonly blockSize: number
  /** Default string-to-key iteration count. */
  readonly defaultIterations: number
  /** HMAC hash of the profile (SHA-1 for RFC 3962). */
  readonly hash: HashName
  /** Truncated HMAC length in bytes. */
  readonly macSize: number
  /** The cipher's single-block encryption, for DR. */
  readonly encryptBlock: BlockEncrypt
  /** Encryption of a whole message with zero initial state (CTS for AES). */
  readonly encryptMessage: (key: Uint8Array, data: Uint8Array) => Uint8Array
  /** Decryption of a whole message with zero initial state. */
  readonly decryptMessage: (key: Uint8Array, data: Uint8Array) => Uint8Array
  /** The enctype's string-to-key. */
  readonly stringToKey: EncryptionProfile['stringToKey']
}

/**
 * Builds an {@link EncryptionProfile} from the RFC 3961 §5.3 simplified profile: DK for key derivation
 * (random-to-key is the identity for AES), `E(Ke, conf ‖ plaintext) ‖ HMAC(Ki, conf ‖ plaintext)[0..h)`
 * for encryption (no padding: CTS needs none), and `HMAC(Kc, data)[0..h)` for the checksum.
 */
export function simplifiedProfile(spec: SimplifiedProfileSpec): EncryptionProfile {
  const { blockSize, macSize, hash } = spec
  const confounderSize = blockSize
  const deriveKey = (baseKey: Uint8Array, usage: number, kind: DerivedKeyKind): Uint8Array => {
    checkKey(spec, baseKey)
    return deriveRandom(spec.encryptBlock, blockSize, baseKey, usageConstant(usage, kind), spec.keySize)
  }
  const checksum = (baseKey: Uint8Array, usage: number, data: Uint8Array): Uint8Array =>
    hmac(hash, deriveKey(baseKey, usage, 'Kc'), data).subarray(0, macSize)
  return {
    enctype: spec.enctype,
    name: spec.name,
    checksumType: spec.checksumType,
    keySize: spec.keySize,
    blockSize,
    confounderSize,
    macSize,
    defaultIterations: spec.defaultIterations,
    stringToKey: spec.stringToKey,
    deriveKey,
    ciphertextLength: (n) => confounderSize + n + macSize,
    encrypt(baseKey, usage, plaintext, options) {
      const ke = deriveKey(baseKey, usage, 'Ke')
      const ki = deriveKey(baseKey, usage, 'Ki')
      const conf = takeConfounder(confounderSize, options)
      const inner = new Uint8Array(confounderSize + plaintext.length)
      inner.set(conf, 0)
      inner.set(plaintext, confounderSize)
      const c = spec.encryptMessage(ke, inner)
      const h = hmac(hash, ki, inner).subarray(0, macSize)
      const out = new Uint8Array(c.length + macSize)
      out.set(c, 0)
      out.set(h, c.length)
      return out
    },
    decrypt(baseKey, usage, ciphertext) {
      if (ciphertext.length < confounderSize + macSize) {
        throw new ProtocolError(
          `${spec.name} ciphertext too short: ${ciphertext.length} byte(s), needs at least ${confounderSize + macSize}`,
        )
      }
      const ke = deriveKey(baseKey, usage, 'Ke')
      const ki = deriveKey(baseKey, usage, 'Ki')
      const body = ciphertext.subarray(0, ciphertext.length - macSize)
      const tag = ciphertext.subarray(ciphertext.length - macSize)
      const inner = spec.decryptMessage(ke, body)
      if (!macEqual(hmac(hash, ki, inner).subarray(0, macSize), tag)) {
        throw new CryptoError(`${spec.name}: integrity check failed (wrong key or tampered ciphertext)`)
      }
      return inner.slice(confounderSize)
    },
    checksum,
    verifyChecksum: (baseKey, usage, data, mac) => macEqual(checksum(baseKey, usage, data), mac),
  }
}

/** UTF-8 bytes of a string, or the bytes themselves. */
export function utf8(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value
}

/** Largest PBKDF2 iteration count accepted from s2kparams (MIT krb5's limit, 2^24). */
export const MAX_ITERATIONS = 0x1000000

/**
 * Decodes AES s2kparams (RFC 3962 §4 / RFC 8009 §4: a 4-byte big-endian iteration count). Returns
 * undefined for empty params (use the enctype default); throws `ProtocolError` for malformed ones.
 */
export function parseS2kParams(params: Uint8Array | undefined): number | undefined {
  if (params === undefined || params.length === 0) return undefined
  if (params.length !== 4) throw new ProtocolError(`s2kparams must be 4 bytes, got ${params.length}`)
  return new DataView(params.buffer, params.byteOffset, 4).getUint32(0, false)
}

/** Validates an iteration count (0 means 2^32 in RFC 3962 and is refused, as are counts above 2^24). */
export function checkIterations(iterations: number): number {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new InvalidArgumentError(`unsupported string-to-key iteration count ${iterations}`)
  }
  return iterations
}
