/** krb5.conf parsing (MIT profile syntax) and the KDC / host-realm lookups. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  kdcsOfRealm,
  parseKdcAddress,
  parseKrb5Conf,
  realmOfHost,
} from '../../../src/auth/kerberos/krb5-conf.ts'
import { InvalidArgumentError } from '../../../src/errors.ts'

const text = `# a comment
; another
[libdefaults]
    default_realm = LAB.TEST
    dns_canonicalize_hostname = false
    rdns = false
    udp_preference_limit = 0
    forwardable = true

[realms]
    LAB.TEST = {
        kdc = 127.0.0.1:60088
        kdc = kdc2.lab.test
        kdc = tcp/[::1]:750
        kdc = https://kkdcp.lab.test/KdcProxy
        admin_server = 127.0.0.1:749
        auth_to_local = {
            nested = stuff
        }
    }
    OTHER.TEST = {
        kdc = other-kdc
    }
[domain_realm]
    localhost = LAB.TEST
    .corp.example = CORP.EXAMPLE
    corp.example = CORP.EXAMPLE
    special.host.corp.example = LAB.TEST
[capaths]*
`

test('sections, realm blocks, repeated tags, libdefaults', () => {
  const c = parseKrb5Conf(text)
  assert.equal(c.defaultRealm, 'LAB.TEST')
  assert.equal(c.dnsCanonicalizeHostname, false)
  assert.equal(c.rdns, false)
  assert.equal(c.forwardable, true)
  assert.equal(c.udpPreferenceLimit, 0)
  assert.equal(c.ccacheType, 4)
  assert.deepEqual(kdcsOfRealm(c, 'LAB.TEST'), [
    { host: '127.0.0.1', port: 60088 },
    { host: 'kdc2.lab.test', port: 88 },
    { host: '::1', port: 750, transport: 'tcp' },
  ])
  assert.deepEqual(kdcsOfRealm(c, 'OTHER.TEST'), [{ host: 'other-kdc', port: 88 }])
  assert.deepEqual(kdcsOfRealm(c, 'NONE'), [])
  assert.equal(parseKrb5Conf('').dnsCanonicalizeHostname, true)
  assert.equal(
    parseKrb5Conf('[libdefaults]\n dns_canonicalize_hostname = fallback\n').dnsCanonicalizeHostname,
    'fallback',
  )
})

test('realm of a host: exact, domain suffix, default realm, upper-cased domain', () => {
  const c = parseKrb5Conf(text)
  assert.equal(realmOfHost(c, 'localhost'), 'LAB.TEST')
  assert.equal(realmOfHost(c, 'WIN1.corp.example'), 'CORP.EXAMPLE')
  assert.equal(realmOfHost(c, 'corp.example'), 'CORP.EXAMPLE')
  assert.equal(realmOfHost(c, 'special.host.corp.example'), 'LAB.TEST')
  assert.equal(realmOfHost(c, 'elsewhere.org'), 'LAB.TEST')
  const bare = parseKrb5Conf('')
  assert.equal(realmOfHost(bare, 'srv.ad.example.com'), 'AD.EXAMPLE.COM')
  assert.equal(realmOfHost(bare, 'srv'), undefined)
})

test('include and includedir through the resolver', () => {
  const seen: string[] = []
  const c = parseKrb5Conf('include /etc/a.conf\nincludedir /etc/d\n[libdefaults]\n forwardable = false\n', {
    resolveInclude: (kind, path) => {
      seen.push(`${kind} ${path}`)
      return kind === 'include'
        ? ['[libdefaults]\n default_realm = INC.TEST\n']
        : ['[realms]\n INC.TEST = {\n  kdc = k:1\n }\n']
    },
  })
  assert.deepEqual(seen, ['include /etc/a.conf', 'includedir /etc/d'])
  assert.equal(c.defaultRealm, 'INC.TEST')
  assert.deepEqual(kdcsOfRealm(c, 'INC.TEST'), [{ host: 'k', port: 1 }])
})

test('syntax errors and bad KDC addresses → InvalidArgumentError naming the line', () => {
  assert.throws(() => parseKrb5Conf('[realms]\n R = {\n kdc = a\n'), /missing \}/)
  assert.throws(() => parseKrb5Conf('[libdefaults]\n}\n'), /krb5\.conf:2: unmatched/)
  assert.throws(() => parseKrb5Conf('no section = x\n'), InvalidArgumentError)
  assert.throws(() => parseKrb5Conf('[a]\nnot a relation\n'), /krb5\.conf:2/)
  assert.throws(() => parseKdcAddress('host:99999'), InvalidArgumentError)
  assert.throws(() => parseKdcAddress(''), InvalidArgumentError)
  assert.deepEqual(parseKdcAddress('udp/kdc:88'), { host: 'kdc', port: 88, transport: 'udp' })
})
