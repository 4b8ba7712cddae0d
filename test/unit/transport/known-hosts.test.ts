/**
 * known_hosts parsing and lookup: plain, wildcard, negated, `[host]:port` and hashed (`|1|`) host
 * fields, `@revoked`/`@cert-authority` markers, corrupt lines, and OpenSSH fingerprints (checked
 * against ssh-keygen's output for a fixed key).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  blobKeyType,
  checkHostKey,
  entryMatchesHost,
  fingerprintMatches,
  hashHostName,
  knownKeyTypes,
  md5Fingerprint,
  parseKnownHosts,
  sha256Fingerprint,
} from '../../../src/transport/known-hosts.ts'

// ssh-keygen -t ed25519 keys; fingerprints from `ssh-keygen -l -f` and `ssh-keygen -l -E md5 -f`
const KEY_A = 'AAAAC3NzaC1lZDI1NTE5AAAAIKH0zywLSWYRkfjv+SknTvClNVuVLAEfPmRUUd4aFoJ3'
const FP_A = 'SHA256:YLYE6wgeFiaRL+x8nhFvZR3UHldyfABUpZ9ShhXQVvE'
const MD5_A = 'MD5:a0:8c:3a:da:ef:ef:39:71:5d:6b:80:b9:29:07:12:6e'
const KEY_B = 'AAAAC3NzaC1lZDI1NTE5AAAAII+ao3YTyBzx4XUr07AaPuvENf47XQ6QhEys3f++nX/e'
const KEY_RSA =
  'AAAAB3NzaC1yc2EAAAADAQABAAAAgQC6XbQ/8rrKDplMhgRUZM+QWiGUL4j6TzXQO8ZalB3PCbaRHB0wFZ3OXtNOtyPtY0jVyB4nbIrOxNcQ/zFbCSg3KF/FnOwJ6tTPjDuSCBi9wu3psPwrycYiyDgeMQ9jpA/p7K/iMHa9FD6DlM4wjM4LAPPe44SvzhZ+d2/S9T/jbQ=='
const blob = (k: string): Uint8Array => new Uint8Array(Buffer.from(k, 'base64'))

describe('known_hosts', () => {
  test('parses plain, marked, hashed and commented lines; skips corrupt ones', () => {
    const text = [
      '# comment',
      '',
      'server.example,10.0.0.5 ssh-ed25519 ' + KEY_A + ' comment here',
      '[127.0.0.1]:2222 ssh-ed25519 ' + KEY_B,
      '@revoked * ssh-rsa ' + KEY_RSA,
      '@cert-authority *.example ssh-ed25519 ' + KEY_B,
      '@bogus host ssh-ed25519 ' + KEY_A,
      'host ssh-rsa ' + KEY_A, // type field contradicts the blob
      'host ssh-ed25519 not*base64',
      'onlyhost',
    ].join('\r\n')
    const entries = parseKnownHosts(text, 'kh')
    assert.deepEqual(
      entries.map((e) => [e.marker, e.hosts, e.keyType, e.line, e.file]),
      [
        [undefined, 'server.example,10.0.0.5', 'ssh-ed25519', 3, 'kh'],
        [undefined, '[127.0.0.1]:2222', 'ssh-ed25519', 4, 'kh'],
        ['revoked', '*', 'ssh-rsa', 5, 'kh'],
        ['cert-authority', '*.example', 'ssh-ed25519', 6, 'kh'],
      ],
    )
    assert.equal(blobKeyType(blob(KEY_RSA)), 'ssh-rsa')
    assert.equal(blobKeyType(new Uint8Array([0, 0, 0, 9, 1])), undefined)
  })

  test('host fields: patterns, negation and [host]:port names (ssh-host-pattern.ts has the matcher)', () => {
    assert.ok(entryMatchesHost({ hosts: 'Server.Example,10.0.0.5' }, 'server.example', 22))
    assert.ok(entryMatchesHost({ hosts: '*.example,!bad.example' }, 'good.example', 22))
    assert.ok(!entryMatchesHost({ hosts: '*.example,!bad.example' }, 'BAD.example', 22))
    assert.ok(entryMatchesHost({ hosts: '10.0.0.?' }, '10.0.0.7', 22))
    assert.ok(entryMatchesHost({ hosts: '[::1]:2222' }, '[::1]', 2222))
    // a port-22 entry does not cover another port, and vice versa
    assert.ok(entryMatchesHost({ hosts: 'h' }, 'h', 22))
    assert.ok(!entryMatchesHost({ hosts: 'h' }, 'h', 2222))
    assert.ok(entryMatchesHost({ hosts: '[h]:2222' }, 'h', 2222))
    assert.ok(!entryMatchesHost({ hosts: '[h]:2222' }, 'h', 22))
  })

  test('hashed entries written by ssh-keygen -H match the host and port they were made for', () => {
    // `ssh-keygen -H` output for "server.example" and "[127.0.0.1]:2222"
    const plain = '|1|6QPd6JnTl48nOB/72+ghc+lAGiQ=|rZhWZiPGS9dGQZnNJvKTpWwX408='
    const ported = '|1|6X3DsyIg9DWsDEGGUVbAC7i81vc=|HZuUkpjSJesxNLKrtj215QX7X1w='
    assert.ok(entryMatchesHost({ hosts: plain }, 'server.example', 22))
    assert.ok(entryMatchesHost({ hosts: plain }, 'SERVER.example', 22))
    assert.ok(!entryMatchesHost({ hosts: plain }, 'server.example', 2222))
    assert.ok(!entryMatchesHost({ hosts: plain }, 'other.example', 22))
    assert.ok(entryMatchesHost({ hosts: ported }, '127.0.0.1', 2222))
    assert.ok(!entryMatchesHost({ hosts: ported }, '127.0.0.1', 22))
    assert.ok(!entryMatchesHost({ hosts: '|1|bad|hash' }, '127.0.0.1', 2222))
    assert.ok(!entryMatchesHost({ hosts: '|2|x|y' }, '127.0.0.1', 2222))
    // our writer reproduces ssh-keygen's field from the same salt
    assert.equal(hashHostName('server.example', Buffer.from('6QPd6JnTl48nOB/72+ghc+lAGiQ=', 'base64')), plain)
  })

  test('checkHostKey: match, changed, unknown, revoked', () => {
    const entries = parseKnownHosts(
      [
        `server.example ssh-ed25519 ${KEY_A}`,
        `[127.0.0.1]:2222 ssh-rsa ${KEY_RSA}`,
        `@revoked * ssh-ed25519 ${KEY_B}`,
        `${hashHostName('hashed.example', Buffer.alloc(20, 1))} ssh-ed25519 ${KEY_A}`,
      ].join('\n'),
      'kh',
    )
    assert.equal(checkHostKey(entries, 'server.example', 22, blob(KEY_A)).status, 'match')
    assert.equal(checkHostKey(entries, 'hashed.example', 22, blob(KEY_A)).status, 'match')
    const changed = checkHostKey(entries, 'server.example', 22, blob(KEY_RSA))
    assert.deepEqual(changed, { status: 'unknown', otherTypes: ['ssh-ed25519'] })
    const revoked = checkHostKey(entries, 'server.example', 22, blob(KEY_B))
    assert.equal(revoked.status, 'revoked')
    const unknown = checkHostKey(entries, '127.0.0.1', 22, blob(KEY_A))
    assert.deepEqual(unknown, { status: 'unknown', otherTypes: [] })
    const other = parseKnownHosts(`server.example ssh-ed25519 ${KEY_B}`, 'kh2')
    const ch = checkHostKey(other, 'server.example', 22, blob(KEY_A))
    assert.equal(ch.status, 'changed')
    assert.equal(ch.status === 'changed' ? ch.entries[0]?.line : 0, 1)
    assert.deepEqual(knownKeyTypes(entries, '127.0.0.1', 2222), ['ssh-rsa'])
  })

  test('fingerprints: SHA256 and MD5 as ssh-keygen prints them', () => {
    assert.equal(sha256Fingerprint(blob(KEY_A)), FP_A)
    assert.ok(fingerprintMatches(FP_A, blob(KEY_A)))
    assert.ok(fingerprintMatches(FP_A + '=', blob(KEY_A)))
    assert.ok(!fingerprintMatches(FP_A, blob(KEY_B)))
    const md5 = md5Fingerprint(blob(KEY_A))
    assert.equal(md5, MD5_A)
    assert.ok(fingerprintMatches(md5, blob(KEY_A)))
    assert.ok(fingerprintMatches(md5.slice(4).toUpperCase(), blob(KEY_A)))
    assert.ok(!fingerprintMatches('nonsense', blob(KEY_A)))
  })
})
