/**
 * RFC 8009: aes128-cts-hmac-sha256-128 (enctype 19, checksum 19) and aes256-cts-hmac-sha384-192
 * (enctype 20, checksum 20). Not the RFC 3961 simplified profile: keys are derived with
 * KDF-HMAC-SHA2 (§3, NIST SP 800-108 counter mode, one iteration), encryption is encrypt-then-MAC
 * (§5: `C = AES-CTS(Ke, N ‖ plaintext)` with zero IV and a random 16-byte confounder N, then
 * `H = HMAC(Ki, IV ‖ C)` truncated), the checksum is `HMAC(Kc, data)` truncated, and string-to-key
 * (§4) is PBKDF2-HMAC-SHA256/384 over the salt `enctype-name ‖ 0x00 ‖ salt` (default 32768
 * iterations) followed by `KDF-HMAC-SHA2(tkey, "kerberos", keylength)`.
 *
 * @module
 */
import { pbkdf2Sync } from 'node:crypto'
import { CryptoError, ProtocolError } from '../../../errors.ts'
import { aesCtsDecrypt, aesCtsEncrypt, AES_BLOCK_SIZE } from './aes-cts.ts'
import {
  checkIterations,
  checkKey,
  hmac,
  macEqual,
  takeConfounder,
  usageConstant,
  utf8,
  type HashName,
} from './rfc3961.ts'
import { ChecksumType, EncType, type DerivedKeyKind, type EncryptionProfile } from './types.ts'

const ZERO_IV = new Uint8Array(AES_BLOCK_SIZE)
const ZERO_OCTET = new Uint8Array(1)

/**
 * KDF-HMAC-SHA2(key, label, [context,] k) of RFC 8009 §3: the first `k` bits of
 * `HMAC-SHA2(key, 0x00000001 ‖ label ‖ 0x00 ‖ context ‖ k)`, with `k` the output length in bits as a
 * 4-byte big-endian number (the SP 800-108 fixed-input layout; the context is empty except for the PRF).
 *
 * @param hash `sha256` for enctype 19, `sha384` for enctype 20
 * @param bits output length in bits (a multiple of 8, at most the hash length)
 */
export function kdfHmacSha2(
  hash: HashName,
  key: Uint8Array,
  label: Uint8Array,
  bits: number,
  context: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const counter = Uint8Array.of(0, 0, 0, 1)
  const k = new Uint8Array(4)
  new DataView(k.buffer).setUint32(0, bits, false)
  return hmac(hash, key, counter, label, ZERO_OCTET, context, k).subarray(0, bits / 8)
}

interface Sha2Spec {
  readonly enctype: number
  readonly name: string
  readonly checksumType: number
  readonly keySize: number
  readonly hash: 'sha256' | 'sha384'
  readonly macSize: number
}

const KERBEROS = new TextEncoder().encode('kerberos')

function makeProfile(spec: Sha2Spec): EncryptionProfile {
  const { hash, macSize, keySize, name } = spec
  const confounderSize = AES_BLOCK_SIZE
  const deriveKey = (baseKey: Uint8Array, usage: number, kind: DerivedKeyKind): Uint8Array => {
    checkKey(spec, baseKey)
    // Ke is a full AES key; Kc and Ki are the MAC length (128 or 192 bits).
    const bits = kind === 'Ke' ? keySize * 8 : macSize * 8
    return kdfHmacSha2(hash, baseKey, usageConstant(usage, kind), bits)
  }
  const checksum = (baseKey: Uint8Array, usage: number, data: Uint8Array): Uint8Array =>
    hmac(hash, deriveKey(baseKey, usage, 'Kc'), data).subarray(0, macSize)
  const saltPrefix = new TextEncoder().encode(`${name}\0`)
  return {
    enctype: spec.enctype,
    name,
    checksumType: spec.checksumType,
    keySize,
    blockSize: AES_BLOCK_SIZE,
    confounderSize,
    macSize,
    defaultIterations: 32768,
    stringToKey(password, salt, iterations = 32768) {
      const s = utf8(salt)
      const saltp = new Uint8Array(saltPrefix.length + s.length)
      saltp.set(saltPrefix, 0)
      saltp.set(s, saltPrefix.length)
      const tkey = new Uint8Array(
        pbkdf2Sync(utf8(password), saltp, checkIterations(iterations), keySize, hash),
      )
      return kdfHmacSha2(hash, tkey, KERBEROS, keySize * 8)
    },
    deriveKey,
    ciphertextLength: (n) => confounderSize + n + macSize,
    encrypt(baseKey, usage, plaintext, options) {
      const ke = deriveKey(baseKey, usage, 'Ke')
      const ki = deriveKey(baseKey, usage, 'Ki')
      const conf = takeConfounder(confounderSize, options)
      const inner = new Uint8Array(confounderSize + plaintext.length)
      inner.set(conf, 0)
      inner.set(plaintext, confounderSize)
      const c = aesCtsEncrypt(ke, inner, ZERO_IV)
      const h = hmac(hash, ki, ZERO_IV, c).subarray(0, macSize)
      const out = new Uint8Array(c.length + macSize)
      out.set(c, 0)
      out.set(h, c.length)
      return out
    },
    decrypt(baseKey, usage, ciphertext) {
      if (ciphertext.length < confounderSize + macSize) {
        throw new ProtocolError(
          `${name} ciphertext too short: ${ciphertext.length} byte(s), needs at least ${confounderSize + macSize}`,
        )
      }
      const ke = deriveKey(baseKey, usage, 'Ke')
      const ki = deriveKey(baseKey, usage, 'Ki')
      const c = ciphertext.subarray(0, ciphertext.length - macSize)
      const tag = ciphertext.subarray(ciphertext.length - macSize)
      // Encrypt-then-MAC: verify before decrypting.
      if (!macEqual(hmac(hash, ki, ZERO_IV, c).subarray(0, macSize), tag)) {
        throw new CryptoError(`${name}: integrity check failed (wrong key or tampered ciphertext)`)
      }
      return aesCtsDecrypt(ke, c, ZERO_IV).slice(confounderSize)
    },
    checksum,
    verifyChecksum: (baseKey, usage, data, mac) => macEqual(checksum(baseKey, usage, data), mac),
  }
}

/** aes128-cts-hmac-sha256-128 (RFC 8009). */
export const aes128CtsHmacSha256128: EncryptionProfile = makeProfile({
  enctype: EncType.AES128_CTS_HMAC_SHA256_128,
  name: 'aes128-cts-hmac-sha256-128',
  checksumType: ChecksumType.HMAC_SHA256_128_AES128,
  keySize: 16,
  hash: 'sha256',
  macSize: 16,
})

/** aes256-cts-hmac-sha384-192 (RFC 8009). */
export const aes256CtsHmacSha384192: EncryptionProfile = makeProfile({
  enctype: EncType.AES256_CTS_HMAC_SHA384_192,
  name: 'aes256-cts-hmac-sha384-192',
  checksumType: ChecksumType.HMAC_SHA384_192_AES256,
  keySize: 32,
  hash: 'sha384',
  macSize: 24,
})
