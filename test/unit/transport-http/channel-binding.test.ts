/**
 * tls-server-end-point (RFC 5929 §4.1): the certificate hash follows the signature algorithm, with
 * SHA-256 in place of MD5/SHA-1. Certificates are made with the openssl CLI for each digest.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { endpointHashAlgorithm, tlsServerEndPointHash } from '../../../src/transport/http/channel-binding.ts'
import { opensslSkip } from '../../helpers/peers.ts'

const skip = opensslSkip()

function certificate(digest: string, key: string[]): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'psrp-cbt-'))
  try {
    const r = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        ...key,
        '-nodes',
        `-${digest}`,
        '-keyout',
        'k.pem',
        '-out',
        'c.pem',
        '-days',
        '1',
        '-subj',
        '/CN=cbt',
      ],
      { cwd: dir, encoding: 'utf8' },
    )
    if (r.status !== 0) throw new Error(r.stderr)
    return new X509Certificate(readFileSync(join(dir, 'c.pem'))).raw
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
const RSA = ['-newkey', 'rsa:2048']

test('the hash follows the certificate signature digest; SHA-1 becomes SHA-256', { skip }, () => {
  for (const [digest, key, expected] of [
    ['sha1', RSA, 'sha256'],
    ['sha256', EC, 'sha256'],
    ['sha384', EC, 'sha384'],
    ['sha384', RSA, 'sha384'],
    ['sha512', RSA, 'sha512'],
    ['sha512', EC, 'sha512'],
  ] as const) {
    const der = certificate(digest, [...key])
    assert.equal(endpointHashAlgorithm(der), expected, `${digest} with ${key[1]}`)
    assert.deepEqual(Buffer.from(tlsServerEndPointHash(der)), createHash(expected).update(der).digest())
  }
})

test('bytes that are not a certificate fall back to SHA-256 instead of throwing', () => {
  for (const junk of [
    new Uint8Array(0),
    new Uint8Array([0x30]),
    new Uint8Array([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
  ]) {
    assert.equal(endpointHashAlgorithm(junk), 'sha256')
  }
})
