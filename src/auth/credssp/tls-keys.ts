/**
 * Traffic keys of an established TLS session, derived from the secrets OpenSSL reports in NSS key
 * log format (the `keylog` event of a Node TLS socket), so that the CredSSP tunnel can protect
 * records synchronously after the handshake (see `tls-record.ts`).
 *
 * * TLS 1.3 (RFC 8446 §7.1, §7.3): `key = HKDF-Expand-Label(secret, "key", "", key_length)`,
 *   `iv = HKDF-Expand-Label(secret, "iv", "", 12)` from CLIENT/SERVER_TRAFFIC_SECRET_0.
 * * TLS 1.2 (RFC 5246 §5, §6.3; RFC 5288 §3): `key_block = PRF(master_secret, "key expansion",
 *   server_random ‖ client_random)` split into client/server write keys and 4-byte implicit IVs.
 *
 * Only the AEAD suites Windows SChannel offers for CredSSP are supported: AES-128-GCM and
 * AES-256-GCM (with SHA-256 or SHA-384 as the PRF / HKDF hash).
 *
 * @module
 */
import { createHmac } from 'node:crypto'
import { NotSupportedError, ProtocolError } from '../../errors.ts'

/** The TLS versions the tunnel speaks. */
export type TlsVersion = 'TLSv1.2' | 'TLSv1.3'

/** An AEAD cipher suite the record layer implements. */
export interface TlsAeadSuite {
  /** Node cipher name for `createCipheriv`. */
  readonly algorithm: 'aes-128-gcm' | 'aes-256-gcm'
  /** Key length in bytes. */
  readonly keyLength: 16 | 32
  /** The suite's hash (HKDF in TLS 1.3, PRF in TLS 1.2). */
  readonly hash: 'sha256' | 'sha384'
}

/** One direction's keys: AEAD key, IV (12 bytes in TLS 1.3, 4-byte salt in TLS 1.2). */
export interface TlsDirectionKeys {
  readonly key: Uint8Array
  readonly iv: Uint8Array
}

/**
 * The AEAD suite of a negotiated cipher, from its OpenSSL or IANA name
 * (`ECDHE-RSA-AES256-GCM-SHA384`, `TLS_AES_128_GCM_SHA256`); `NotSupportedError` for others.
 */
export function aeadSuite(cipherName: string): TlsAeadSuite {
  const name = cipherName.toUpperCase()
  const hash = name.endsWith('SHA384') ? 'sha384' : name.endsWith('SHA256') ? 'sha256' : undefined
  const aes256 = /AES[-_]?256[-_]GCM/.test(name)
  const aes128 = /AES[-_]?128[-_]GCM/.test(name)
  if (hash === undefined || aes256 === aes128) {
    throw new NotSupportedError(`TLS cipher suite ${cipherName} is not supported by the CredSSP record layer`)
  }
  return aes256
    ? { algorithm: 'aes-256-gcm', keyLength: 32, hash }
    : { algorithm: 'aes-128-gcm', keyLength: 16, hash }
}

function hmac(hash: string, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac(hash, key)
  for (const p of parts) h.update(p)
  return new Uint8Array(h.digest())
}

/** HKDF-Expand (RFC 5869 §2.3). */
export function hkdfExpand(hash: string, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length)
  let t: Uint8Array = new Uint8Array(0)
  for (let i = 1, at = 0; at < length; i++) {
    if (i > 255) throw new ProtocolError('HKDF-Expand: output too long', { side: 'local' })
    t = hmac(hash, prk, t, info, Uint8Array.of(i))
    out.set(t.subarray(0, Math.min(t.length, length - at)), at)
    at += t.length
  }
  return out
}

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty or given context. */
export function hkdfExpandLabel(
  hash: string,
  secret: Uint8Array,
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array {
  const full = new TextEncoder().encode(`tls13 ${label}`)
  const info = new Uint8Array(2 + 1 + full.length + 1 + context.length)
  info[0] = length >> 8
  info[1] = length & 0xff
  info[2] = full.length
  info.set(full, 3)
  info[3 + full.length] = context.length
  info.set(context, 4 + full.length)
  return hkdfExpand(hash, secret, info, length)
}

/** The TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label ‖ seed) truncated to `length`. */
export function tls12Prf(
  hash: string,
  secret: Uint8Array,
  label: string,
  seed: Uint8Array,
  length: number,
): Uint8Array {
  const labelSeed = new Uint8Array([...new TextEncoder().encode(label), ...seed])
  const out = new Uint8Array(length)
  let a: Uint8Array = labelSeed
  for (let at = 0; at < length;) {
    a = hmac(hash, secret, a)
    const block = hmac(hash, secret, a, labelSeed)
    out.set(block.subarray(0, Math.min(block.length, length - at)), at)
    at += block.length
  }
  return out
}

/** TLS 1.3 application traffic keys from a traffic secret (RFC 8446 §7.3). */
export function tls13TrafficKeys(suite: TlsAeadSuite, secret: Uint8Array): TlsDirectionKeys {
  const empty = new Uint8Array(0)
  return {
    key: hkdfExpandLabel(suite.hash, secret, 'key', empty, suite.keyLength),
    iv: hkdfExpandLabel(suite.hash, secret, 'iv', empty, 12),
  }
}

/** TLS 1.2 AES-GCM keys (RFC 5246 §6.3 with RFC 5288 §3: no MAC keys, 4-byte implicit IVs). */
export function tls12TrafficKeys(
  suite: TlsAeadSuite,
  masterSecret: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
): { client: TlsDirectionKeys; server: TlsDirectionKeys } {
  if (masterSecret.length !== 48 || clientRandom.length !== 32 || serverRandom.length !== 32) {
    throw new ProtocolError('TLS 1.2 key expansion: bad master secret or randoms', { side: 'local' })
  }
  const k = suite.keyLength
  const block = tls12Prf(
    suite.hash,
    masterSecret,
    'key expansion',
    new Uint8Array([...serverRandom, ...clientRandom]),
    2 * k + 8,
  )
  const out = {
    client: { key: block.slice(0, k), iv: block.slice(2 * k, 2 * k + 4) },
    server: { key: block.slice(k, 2 * k), iv: block.slice(2 * k + 4, 2 * k + 8) },
  }
  block.fill(0)
  return out
}
