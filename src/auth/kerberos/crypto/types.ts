/**
 * Shared types of the Kerberos crypto layer: encryption and checksum type numbers (RFC 3961 §8,
 * RFC 3962 §7, RFC 8009 §6), keys, the injectable randomness source, and the interface every
 * encryption profile implements (the operations RFC 3961 §3 and §4 require of an enctype).
 *
 * @module
 */
import { randomBytes } from 'node:crypto'

/** Encryption type numbers implemented here (IANA "Kerberos Encryption Type Numbers"). */
export const EncType = {
  /** aes128-cts-hmac-sha1-96 (RFC 3962). */
  AES128_CTS_HMAC_SHA1_96: 17,
  /** aes256-cts-hmac-sha1-96 (RFC 3962). */
  AES256_CTS_HMAC_SHA1_96: 18,
  /** aes128-cts-hmac-sha256-128 (RFC 8009). */
  AES128_CTS_HMAC_SHA256_128: 19,
  /** aes256-cts-hmac-sha384-192 (RFC 8009). */
  AES256_CTS_HMAC_SHA384_192: 20,
} as const

/** One of the {@link EncType} numbers. */
export type EncTypeNumber = (typeof EncType)[keyof typeof EncType]

/** Checksum type numbers of the keyed checksums that go with the enctypes above. */
export const ChecksumType = {
  /** hmac-sha1-96-aes128 (RFC 3962). */
  HMAC_SHA1_96_AES128: 15,
  /** hmac-sha1-96-aes256 (RFC 3962). */
  HMAC_SHA1_96_AES256: 16,
  /** hmac-sha256-128-aes128 (RFC 8009). */
  HMAC_SHA256_128_AES128: 19,
  /** hmac-sha384-192-aes256 (RFC 8009). */
  HMAC_SHA384_192_AES256: 20,
} as const

/** A Kerberos key: the enctype it belongs to and its protocol-key bytes (RFC 4120 EncryptionKey). */
export interface KerberosKey {
  /** Encryption type number (e.g. 18 for aes256-cts-hmac-sha1-96). */
  readonly enctype: number
  /** The key bytes (16 or 32 for the AES enctypes). */
  readonly value: Uint8Array
}

/** Returns `length` random bytes. Inject a deterministic one in tests. */
export type RandomSource = (length: number) => Uint8Array

/** Default randomness: Node's CSPRNG (`crypto.randomBytes`). */
export const defaultRandom: RandomSource = (length) => new Uint8Array(randomBytes(length))

/** Options of an encryption: where the confounder comes from. */
export interface EncryptOptions {
  /** Use exactly this confounder (must be the profile's confounder length); for test vectors. */
  readonly confounder?: Uint8Array
  /** Randomness source for the confounder (default {@link defaultRandom}). */
  readonly random?: RandomSource
}

/** Which of the three keys RFC 3961 §5.3 / RFC 8009 §5 derive from a base key and a usage. */
export type DerivedKeyKind = 'Kc' | 'Ke' | 'Ki'

/**
 * An encryption type: the RFC 3961 §3 operations (string-to-key, encrypt, decrypt) and its associated
 * keyed checksum (RFC 3961 §4). Keys are raw protocol-key bytes of {@link keySize} length.
 */
export interface EncryptionProfile {
  /** Enctype number. */
  readonly enctype: number
  /** Enctype name as registered (also the RFC 8009 salt prefix). */
  readonly name: string
  /** The associated checksum type number. */
  readonly checksumType: number
  /** Protocol key size in bytes. */
  readonly keySize: number
  /** Cipher block size in bytes (16). */
  readonly blockSize: number
  /** Confounder length in bytes (16). */
  readonly confounderSize: number
  /** Length of the integrity tag / checksum in bytes (12, 16 or 24). */
  readonly macSize: number
  /** Iteration count used when the KDC sends no s2kparams. */
  readonly defaultIterations: number
  /**
   * string-to-key: derives the long-term key from a password and salt. `iterations` defaults to
   * {@link defaultIterations}; counts of zero or above 2^24 are refused (as MIT krb5 does).
   */
  stringToKey(password: string | Uint8Array, salt: string | Uint8Array, iterations?: number): Uint8Array
  /** Derives Kc, Ke or Ki for a key usage from a base key. */
  deriveKey(baseKey: Uint8Array, usage: number, kind: DerivedKeyKind): Uint8Array
  /** Encrypts with integrity: confounder, cipher, truncated HMAC. Output is {@link ciphertextLength} long. */
  encrypt(baseKey: Uint8Array, usage: number, plaintext: Uint8Array, options?: EncryptOptions): Uint8Array
  /**
   * Verifies and decrypts. Throws `CryptoError` when the integrity check fails and `ProtocolError`
   * when the ciphertext is too short to be one.
   */
  decrypt(baseKey: Uint8Array, usage: number, ciphertext: Uint8Array): Uint8Array
  /** Length of the ciphertext {@link encrypt} produces for a plaintext of `plaintextLength` bytes. */
  ciphertextLength(plaintextLength: number): number
  /** The keyed checksum (get_mic) of `data` under Kc for `usage`, {@link macSize} bytes. */
  checksum(baseKey: Uint8Array, usage: number, data: Uint8Array): Uint8Array
  /** Constant-time verification of a checksum made by {@link checksum}. */
  verifyChecksum(baseKey: Uint8Array, usage: number, data: Uint8Array, checksum: Uint8Array): boolean
}
