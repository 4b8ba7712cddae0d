/**
 * The client side of the MS-PSRP session key exchange (MS-PSRP 3.1.4.1.1, 2.2.2.3, 2.2.2.4) and the
 * SecureString ciphers (2.2.5.1.24).
 *
 * - PUBLIC_KEY carries the client's RSA public key as a base64 CAPI `PUBLICKEYBLOB` (type 0x06,
 *   version 0x02, `CALG_RSA_KEYX`, magic `RSA1`, bit length, exponent, little-endian modulus).
 * - ENCRYPTED_SESSION_KEY carries a base64 `SIMPLEBLOB`: a 12-byte header then the RSA PKCS#1 v1.5
 *   ciphertext of the 32-byte AES key, byte-reversed.
 * - `<SS>` values are AES-256-CBC with a zero IV and PKCS7 padding over UTF-16LE text.
 * - From protocol 2.4 on both sides, `<SS>` is plain base64 of UTF-16LE and no key is exchanged.
 *
 * Pure computation on Node's crypto; key pairs and randomness come from the caller.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, privateDecrypt, constants, type KeyObject } from 'node:crypto'
import { CryptoError, ProtocolError } from '../errors.ts'
import type { SecureStringCipher } from '../clixml/index.ts'
import { fromBase64, toBase64 } from '../internal/base64.ts'

const PUBLICKEYBLOB = 0x06
const SIMPLEBLOB = 0x01
const CUR_BLOB_VERSION = 0x02
const CALG_RSA_KEYX = 0x0000a400
const CALG_AES_256 = 0x00006610
const RSA1 = 0x31415352

function b64urlToBytes(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'base64url'))
}

/** The base64 CAPI PUBLICKEYBLOB of an RSA public key, as PUBLIC_KEY carries it. */
export function encodePublicKeyBlob(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' })
  if (jwk.n === undefined || jwk.e === undefined) throw new CryptoError('not an RSA public key')
  const modulus = b64urlToBytes(jwk.n)
  const exponentBytes = b64urlToBytes(jwk.e)
  let exponent = 0
  for (const b of exponentBytes) exponent = exponent * 256 + b
  const out = new Uint8Array(20 + modulus.length)
  const view = new DataView(out.buffer)
  out[0] = PUBLICKEYBLOB
  out[1] = CUR_BLOB_VERSION
  view.setUint32(4, CALG_RSA_KEYX, true)
  view.setUint32(8, RSA1, true)
  view.setUint32(12, modulus.length * 8, true)
  view.setUint32(16, exponent, true)
  out.set(modulus.slice().reverse(), 20)
  return toBase64(out)
}

/** Decrypts the 32-byte AES session key from the base64 SIMPLEBLOB of ENCRYPTED_SESSION_KEY. */
export function decryptSessionKey(privateKey: KeyObject, encryptedSessionKey: string): Uint8Array {
  const blob = fromBase64(encryptedSessionKey)
  if (blob === undefined || blob.length < 12 + 16)
    throw new ProtocolError('ENCRYPTED_SESSION_KEY is not a valid SIMPLEBLOB')
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength)
  if (
    blob[0] !== SIMPLEBLOB ||
    blob[1] !== CUR_BLOB_VERSION ||
    view.getUint32(4, true) !== CALG_AES_256 ||
    view.getUint32(8, true) !== CALG_RSA_KEYX
  ) {
    throw new ProtocolError('ENCRYPTED_SESSION_KEY has an unexpected blob header')
  }
  const ciphertext = blob.slice(12).reverse()
  let raw: Uint8Array
  try {
    // RSA_NO_PADDING + our own PKCS#1 v1.5 unpadding: Node 20 refuses RSA_PKCS1_PADDING for private decryption.
    raw = new Uint8Array(privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, ciphertext))
  } catch (e) {
    throw new CryptoError('could not decrypt the session key with our private key', { cause: e })
  }
  return unpadPkcs1v15(raw)
}

/** Removes PKCS#1 v1.5 type 2 padding (`00 02 PS 00 M`). */
function unpadPkcs1v15(block: Uint8Array): Uint8Array {
  if (block[0] !== 0x00 || block[1] !== 0x02)
    throw new CryptoError('session key decryption failed (bad padding)')
  const sep = block.indexOf(0x00, 2)
  if (sep < 10) throw new CryptoError('session key decryption failed (bad padding)')
  const key = block.slice(sep + 1)
  if (key.length !== 32) throw new CryptoError(`session key has ${key.length} bytes, expected 32`)
  return key
}

/** AES-256-CBC, zero IV, PKCS7: the SecureString cipher of protocol 2.3 and below. */
export class AesSessionCipher implements SecureStringCipher {
  readonly #key: Uint8Array
  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new CryptoError('the PSRP session key must be 32 bytes')
    this.#key = key.slice()
  }
  encrypt(plain: Uint8Array): Uint8Array {
    const c = createCipheriv('aes-256-cbc', this.#key, new Uint8Array(16))
    return new Uint8Array(Buffer.concat([c.update(plain), c.final()]))
  }
  decrypt(data: Uint8Array): Uint8Array {
    try {
      const d = createDecipheriv('aes-256-cbc', this.#key, new Uint8Array(16))
      return new Uint8Array(Buffer.concat([d.update(data), d.final()]))
    } catch (e) {
      throw new CryptoError('SecureString decryption failed', { cause: e })
    }
  }
}

/** Protocol 2.4: SecureStrings travel as base64 of their UTF-16LE text (the transport protects them). */
export const plaintextSecureStringCipher: SecureStringCipher = {
  encrypt: (plain) => plain,
  decrypt: (data) => data,
}
