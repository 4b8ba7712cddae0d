/**
 * The `tls-server-end-point` channel binding (RFC 5929 §4.1): a hash of the server's TLS certificate
 * that authentication tokens carry so a man in the middle with another certificate is refused.
 *
 * The hash function is the one of the certificate's signature algorithm, except that MD5 and SHA-1
 * are replaced by SHA-256.
 *
 * @module
 */
import { createHash } from 'node:crypto'

/** DER object identifiers (content bytes) of signature algorithms that hash with SHA-384 or SHA-512. */
const SHA384_OIDS = ['2a864886f70d01010c', '2a8648ce3d040303'] // sha384WithRSA, ecdsa-with-SHA384
const SHA512_OIDS = ['2a864886f70d01010d', '2a8648ce3d040304'] // sha512WithRSA, ecdsa-with-SHA512

/** Reads one DER TLV at `offset`: returns the content's start and end. */
function readTlv(der: Uint8Array, offset: number): { tag: number; start: number; end: number } | undefined {
  const tag = der[offset]
  let len = der[offset + 1]
  if (tag === undefined || len === undefined) return undefined
  let start = offset + 2
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0 || n > 4) return undefined
    len = 0
    for (let i = 0; i < n; i++) {
      const b = der[start + i]
      if (b === undefined) return undefined
      len = len * 256 + b
    }
    start += n
  }
  const end = start + len
  return end <= der.length ? { tag, start, end } : undefined
}

/** The hash RFC 5929 picks for this certificate: `sha256`, `sha384` or `sha512`. */
export function endpointHashAlgorithm(certificateDer: Uint8Array): 'sha256' | 'sha384' | 'sha512' {
  // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signature }
  const cert = readTlv(certificateDer, 0)
  const tbs = cert === undefined ? undefined : readTlv(certificateDer, cert.start)
  const alg = tbs === undefined ? undefined : readTlv(certificateDer, tbs.end)
  const oid = alg === undefined ? undefined : readTlv(certificateDer, alg.start)
  if (oid === undefined || oid.tag !== 0x06) return 'sha256'
  const hex = Buffer.from(certificateDer.subarray(oid.start, oid.end)).toString('hex')
  if (SHA384_OIDS.includes(hex)) return 'sha384'
  if (SHA512_OIDS.includes(hex)) return 'sha512'
  return 'sha256'
}

/** The `tls-server-end-point` certificate hash of a DER certificate. */
export function tlsServerEndPointHash(certificateDer: Uint8Array): Uint8Array {
  return createHash(endpointHashAlgorithm(certificateDer)).update(certificateDer).digest()
}
