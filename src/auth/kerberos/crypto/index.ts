/**
 * Kerberos cryptography (RFC 3961 framework, RFC 3962 AES-SHA1 and RFC 8009 AES-SHA2 enctypes):
 * a registry of encryption profiles by enctype number and key-object conveniences on top of them.
 * Everything is synchronous and deterministic given the injected randomness.
 *
 * @module
 */
import { CryptoError, NotSupportedError } from '../../../errors.ts'
import { parseS2kParams } from './rfc3961.ts'
import { aes128CtsHmacSha196, aes256CtsHmacSha196 } from './rfc3962.ts'
import { aes128CtsHmacSha256128, aes256CtsHmacSha384192 } from './rfc8009.ts'
import type { EncryptionProfile, EncryptOptions, KerberosKey } from './types.ts'

export { aesCtsDecrypt, aesCtsEncrypt, AES_BLOCK_SIZE } from './aes-cts.ts'
export { KeyUsage, type KeyUsageNumber } from './key-usage.ts'
export { nfold } from './nfold.ts'
export { deriveRandom, MAX_ITERATIONS, parseS2kParams, usageConstant } from './rfc3961.ts'
export { aes128CtsHmacSha196, aes256CtsHmacSha196 } from './rfc3962.ts'
export { aes128CtsHmacSha256128, aes256CtsHmacSha384192, kdfHmacSha2 } from './rfc8009.ts'
export {
  ChecksumType,
  defaultRandom,
  EncType,
  type DerivedKeyKind,
  type EncryptionProfile,
  type EncryptOptions,
  type EncTypeNumber,
  type KerberosKey,
  type RandomSource,
} from './types.ts'

const PROFILES: ReadonlyMap<number, EncryptionProfile> = new Map(
  [aes256CtsHmacSha196, aes128CtsHmacSha196, aes256CtsHmacSha384192, aes128CtsHmacSha256128].map((p) => [
    p.enctype,
    p,
  ]),
)

/** The enctypes implemented here, strongest of each family first: 18, 17, 20, 19. */
export const SUPPORTED_ENCTYPES: readonly number[] = [...PROFILES.keys()]

/** The profile of an enctype; throws `NotSupportedError` for enctypes not implemented (e.g. 23, rc4-hmac). */
export function getProfile(enctype: number): EncryptionProfile {
  const p = PROFILES.get(enctype)
  if (p === undefined) throw new NotSupportedError(`Kerberos enctype ${enctype} is not supported`)
  return p
}

/**
 * The default salt of a principal (RFC 4120 §4): the realm followed by the name components, with no
 * separators (`ATHENA.MIT.EDU` + `raeburn` → `ATHENA.MIT.EDUraeburn`). KDCs may send a different salt
 * in ETYPE-INFO2, which then takes precedence.
 */
export function principalSalt(realm: string, components: readonly string[]): string {
  return realm + components.join('')
}

/**
 * string-to-key for an enctype. `s2kparams` is what ETYPE-INFO2 carries (4-byte big-endian
 * iteration count); without it the enctype's default count is used.
 */
export function stringToKey(
  enctype: number,
  password: string | Uint8Array,
  salt: string | Uint8Array,
  s2kparams?: Uint8Array,
): KerberosKey {
  const p = getProfile(enctype)
  return { enctype, value: p.stringToKey(password, salt, parseS2kParams(s2kparams) ?? p.defaultIterations) }
}

/** Encrypts `plaintext` under `key` for a key usage (confounder from `options`). */
export function encrypt(
  key: KerberosKey,
  usage: number,
  plaintext: Uint8Array,
  options?: EncryptOptions,
): Uint8Array {
  return getProfile(key.enctype).encrypt(key.value, usage, plaintext, options)
}

/** Verifies and decrypts; `CryptoError` on integrity failure, `ProtocolError` when too short. */
export function decrypt(key: KerberosKey, usage: number, ciphertext: Uint8Array): Uint8Array {
  return getProfile(key.enctype).decrypt(key.value, usage, ciphertext)
}

/** A keyed checksum as RFC 4120 carries it (Checksum ::= { cksumtype, checksum }). */
export interface KerberosChecksum {
  /** Checksum type number (15, 16, 19 or 20). */
  readonly checksumType: number
  /** The checksum bytes. */
  readonly checksum: Uint8Array
}

/** The keyed checksum of `data` with the checksum type associated with the key's enctype. */
export function makeChecksum(key: KerberosKey, usage: number, data: Uint8Array): KerberosChecksum {
  const p = getProfile(key.enctype)
  return { checksumType: p.checksumType, checksum: p.checksum(key.value, usage, data) }
}

/**
 * Verifies a keyed checksum; throws `CryptoError` when the checksum type does not belong to the key's
 * enctype or the checksum does not match.
 */
export function verifyChecksum(
  key: KerberosKey,
  usage: number,
  data: Uint8Array,
  cksum: KerberosChecksum,
): void {
  const p = getProfile(key.enctype)
  if (cksum.checksumType !== p.checksumType) {
    throw new CryptoError(`checksum type ${cksum.checksumType} does not match enctype ${p.name}`)
  }
  if (!p.verifyChecksum(key.value, usage, data, cksum.checksum)) {
    throw new CryptoError(`${p.name}: checksum verification failed`)
  }
}
