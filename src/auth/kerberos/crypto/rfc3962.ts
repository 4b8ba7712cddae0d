/**
 * RFC 3962: aes128-cts-hmac-sha1-96 (enctype 17, checksum 15) and aes256-cts-hmac-sha1-96
 * (enctype 18, checksum 16). Simplified profile (RFC 3961 §5.3) with AES-CTS (§5, zero IV),
 * HMAC-SHA1 truncated to 96 bits, DK key derivation, and string-to-key (§4):
 * `DK(random-to-key(PBKDF2-HMAC-SHA1(password, salt, iterations, keylength)), "kerberos")`, with a
 * default of 4096 iterations. The salt is normally realm ‖ principal components (RFC 4120 §4) or
 * whatever the KDC sends in ETYPE-INFO2.
 *
 * @module
 */
import { pbkdf2Sync } from 'node:crypto'
import { aesCtsDecrypt, aesCtsEncrypt, aesEncryptBlock, AES_BLOCK_SIZE } from './aes-cts.ts'
import { checkIterations, deriveRandom, simplifiedProfile, utf8 } from './rfc3961.ts'
import { ChecksumType, EncType, type EncryptionProfile } from './types.ts'

const KERBEROS = new TextEncoder().encode('kerberos')

function makeProfile(
  enctype: number,
  name: string,
  checksumType: number,
  keySize: number,
): EncryptionProfile {
  return simplifiedProfile({
    enctype,
    name,
    checksumType,
    keySize,
    blockSize: AES_BLOCK_SIZE,
    defaultIterations: 4096,
    hash: 'sha1',
    macSize: 12,
    encryptBlock: aesEncryptBlock,
    encryptMessage: (key, data) => aesCtsEncrypt(key, data),
    decryptMessage: (key, data) => aesCtsDecrypt(key, data),
    stringToKey(password, salt, iterations = 4096) {
      const tkey = new Uint8Array(
        pbkdf2Sync(utf8(password), utf8(salt), checkIterations(iterations), keySize, 'sha1'),
      )
      // random-to-key is the identity for AES; DK(tkey, "kerberos") = DR(tkey, n-fold("kerberos", 128)).
      return deriveRandom(aesEncryptBlock, AES_BLOCK_SIZE, tkey, KERBEROS, keySize)
    },
  })
}

/** aes128-cts-hmac-sha1-96 (RFC 3962). */
export const aes128CtsHmacSha196: EncryptionProfile = makeProfile(
  EncType.AES128_CTS_HMAC_SHA1_96,
  'aes128-cts-hmac-sha1-96',
  ChecksumType.HMAC_SHA1_96_AES128,
  16,
)

/** aes256-cts-hmac-sha1-96 (RFC 3962). */
export const aes256CtsHmacSha196: EncryptionProfile = makeProfile(
  EncType.AES256_CTS_HMAC_SHA1_96,
  'aes256-cts-hmac-sha1-96',
  ChecksumType.HMAC_SHA1_96_AES256,
  32,
)
