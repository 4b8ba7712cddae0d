/**
 * The public-key binding of CredSSP (MS-CSSP 3.1.5, steps 3 and 4 of the protocol): the client
 * proves that the TLS server it talks to is the one the inner (NTLM/Kerberos) authentication
 * reached, by GSS-wrapping the server certificate's SubjectPublicKey (or, from version 5, a hash of
 * it with a nonce), and checks the server's answer.
 *
 * ```text
 * v2–v4  client: SubjectPublicKey                       server: SubjectPublicKey with byte 0 + 1
 * v5+    client: SHA256("CredSSP Client-To-Server Binding Hash\0" ‖ nonce ‖ SubjectPublicKey)
 *        server: SHA256("CredSSP Server-To-Client Binding Hash\0" ‖ nonce ‖ SubjectPublicKey)
 * ```
 *
 * SubjectPublicKey is the content of the BIT STRING in the certificate's SubjectPublicKeyInfo
 * (RFC 5280 §4.1): for RSA the PKCS#1 RSAPublicKey DER, for EC the encoded point.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import { ProtocolError } from '../../errors.ts'
import { DerReader, TagClass } from '../asn1/index.ts'

/** The first CredSSP version that hashes the public key with a client nonce (CVE-2018-0886 fix). */
export const NONCE_MIN_VERSION = 5

const CLIENT_MAGIC = new TextEncoder().encode('CredSSP Client-To-Server Binding Hash\0')
const SERVER_MAGIC = new TextEncoder().encode('CredSSP Server-To-Client Binding Hash\0')

/**
 * The SubjectPublicKey (BIT STRING contents) of a DER X.509 certificate (RFC 5280 §4.1).
 * `ProtocolError` when the certificate is malformed.
 */
export function subjectPublicKey(certificateDer: Uint8Array): Uint8Array {
  const top = new DerReader(certificateDer, 'X.509 certificate')
  const cert = top.sequence()
  top.end()
  const tbs = cert.sequence()
  if (tbs.nextIs(TagClass.context, 0, true)) tbs.any() // version
  for (let i = 0; i < 5; i++) tbs.any() // serialNumber, signature, issuer, validity, subject
  const spki = tbs.sequence()
  spki.sequence() // algorithm
  const key = spki.bitString()
  spki.end()
  if (key.unusedBits !== 0) tbs.fail('subjectPublicKey has unused bits')
  return key.bytes
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256')
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

function checkNonce(version: number, nonce: Uint8Array | undefined): Uint8Array | undefined {
  if (version < NONCE_MIN_VERSION) return undefined
  if (nonce === undefined || nonce.length !== 32) {
    throw new ProtocolError(`CredSSP v${version} needs a 32-byte client nonce`, { side: 'local' })
  }
  return nonce
}

/**
 * The value the client wraps into pubKeyAuth for the negotiated `version` (MS-CSSP 3.1.5):
 * the hash with `nonce` from version 5, the key itself before.
 */
export function clientPubKeyAuthValue(
  version: number,
  publicKey: Uint8Array,
  nonce?: Uint8Array,
): Uint8Array {
  const n = checkNonce(version, nonce)
  return n === undefined ? publicKey.slice() : sha256(CLIENT_MAGIC, n, publicKey)
}

/**
 * The value the server must return in pubKeyAuth (MS-CSSP 3.1.5): the server hash with `nonce`
 * from version 5; before that the key with its first byte incremented by one.
 */
export function serverPubKeyAuthValue(
  version: number,
  publicKey: Uint8Array,
  nonce?: Uint8Array,
): Uint8Array {
  const n = checkNonce(version, nonce)
  if (n !== undefined) return sha256(SERVER_MAGIC, n, publicKey)
  const out = publicKey.slice()
  if (out.length > 0) out[0] = ((out[0] as number) + 1) & 0xff
  return out
}
