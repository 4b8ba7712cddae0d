/**
 * MIT credential caches and keytabs: files written by MIT `kinit` (ccache v4 and v3),
 * `kadmin.local ktadd` and `ktutil` are read correctly (keys cross-checked against our
 * string-to-key), our own ccache writer is read back by MIT `klist`, and malformed files give
 * ProtocolError only.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { encodeCCache, findCredential, parseCCache } from '../../src/auth/kerberos/ccache.ts'
import { principalSalt, stringToKey } from '../../src/auth/kerberos/crypto/index.ts'
import { findKeytabKey, parseKeytab } from '../../src/auth/kerberos/keytab.ts'
import { decodeTicket, hasFlag, TicketFlag } from '../../src/auth/kerberos/messages/index.ts'
import { ProtocolError, PsrpError } from '../../src/errors.ts'
import { peerSkip } from '../helpers/peers.ts'
import { kdcAvailable, startKdc, type KdcPeer } from '../peers/kdc/kdc.ts'

const skip = peerSkip(
  'MIT krb5 (kdc + krb5-user)',
  kdcAvailable(),
  'apt-get install krb5-kdc krb5-admin-server krb5-user',
)

describe('files written by MIT tools', { skip }, () => {
  let kdc: KdcPeer
  before(async () => {
    kdc = await startKdc()
  })
  after(async () => kdc?.close())

  for (const version of [4, 3] as const) {
    test(`kinit ccache version ${version}: default principal, TGT, config entries skipped`, () => {
      const path = join(kdc.dir, `cc${version}`)
      kdc.kinit(path, { ccacheType: version, forwardable: true })
      const cc = parseCCache(readFileSync(path))
      assert.equal(cc.version, version)
      assert.deepEqual(cc.principal, { nameType: 1, components: ['alice'], realm: kdc.realm })
      const tgt = findCredential(
        cc,
        { components: ['krbtgt', kdc.realm], realm: kdc.realm },
        { now: new Date() },
      )
      assert.ok(tgt !== undefined)
      assert.equal(tgt.sessionKey.enctype, 18)
      assert.equal(tgt.sessionKey.value.length, 32)
      assert.ok(hasFlag(tgt.flags, TicketFlag.INITIAL))
      assert.ok(hasFlag(tgt.flags, TicketFlag.FORWARDABLE))
      assert.deepEqual(decodeTicket(tgt.ticket).sname.components, ['krbtgt', kdc.realm])
      assert.ok(cc.credentials.every((c) => c.server.realm !== 'X-CACHECONF:'))
      if (version === 4) assert.ok(cc.config.length > 0, 'MIT writes X-CACHECONF: entries (pa_type …)')
      assert.equal(
        findCredential(
          cc,
          { components: ['krbtgt', kdc.realm], realm: kdc.realm },
          { now: new Date(Date.now() + 86400_000 * 2) },
        ),
        undefined,
      )
    })
  }

  test('our ccache writer is read by MIT klist', () => {
    const path = join(kdc.dir, 'cc-src')
    kdc.kinit(path)
    const cc = parseCCache(readFileSync(path))
    const out = join(kdc.dir, 'cc-ours')
    writeFileSync(out, encodeCCache(cc.principal, cc.credentials))
    const again = parseCCache(readFileSync(out))
    assert.deepEqual(again.credentials, cc.credentials)
    const r = spawnSync('/usr/bin/klist', ['-c', `FILE:${out}`], { env: kdc.env, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, new RegExp(`krbtgt/${kdc.realm}@${kdc.realm}`))
  })

  test('kadmin.local ktadd keytab: service keys for every enctype; -norandkey user key equals string-to-key', () => {
    const svc = parseKeytab(readFileSync(kdc.serviceKeytab))
    const http = svc.filter((e) => e.principal.components.join('/') === 'HTTP/localhost')
    assert.deepEqual(http.map((e) => e.key.enctype).sort(), [17, 18, 19, 20])
    assert.ok(http.every((e) => e.kvno === 2 && e.principal.realm === kdc.realm))
    assert.equal(
      findKeytabKey(svc, { principal: `host/localhost@${kdc.realm}`, enctype: 20 })?.key.value.length,
      32,
    )
    assert.equal(findKeytabKey(svc, { principal: `HTTP/localhost@${kdc.realm}`, kvno: 7 }), undefined)
    const user = parseKeytab(readFileSync(kdc.userKeytab))
    const salt = principalSalt(kdc.realm, ['alice'])
    for (const e of user) {
      assert.deepEqual(
        e.key.value,
        stringToKey(e.key.enctype, kdc.password, salt).value,
        `enctype ${e.key.enctype}`,
      )
    }
  })

  test('ktutil keytab with a 32-bit kvno', () => {
    const path = join(kdc.dir, 'kt-ktutil')
    const script = `addent -password -p carol@${kdc.realm} -k 300 -e aes128-cts-hmac-sha1-96\n${kdc.password}\nwkt ${path}\nquit\n`
    const r = spawnSync('/usr/bin/ktutil', [], { env: kdc.env, input: script, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const [e] = parseKeytab(readFileSync(path))
    assert.equal(e?.kvno, 300)
    assert.equal(e?.key.enctype, 17)
    assert.deepEqual(e?.key.value, stringToKey(17, kdc.password, principalSalt(kdc.realm, ['carol'])).value)
  })
})

test('malformed ccache and keytab → ProtocolError only', () => {
  assert.throws(() => parseCCache(Uint8Array.of(5, 2)), ProtocolError)
  assert.throws(() => parseKeytab(Uint8Array.of(5, 1)), ProtocolError)
  const cc = encodeCCache({ nameType: 1, components: ['a'], realm: 'R' }, [
    {
      client: { nameType: 1, components: ['a'], realm: 'R' },
      server: { nameType: 2, components: ['krbtgt', 'R'], realm: 'R' },
      sessionKey: { enctype: 18, value: new Uint8Array(32) },
      ticket: Uint8Array.of(1, 2, 3),
      flags: 0,
      authtime: new Date(1e12),
      endtime: new Date(2e12),
    },
  ])
  assert.equal(parseCCache(cc).credentials.length, 1)
  const check = (f: (b: Uint8Array) => unknown, b: Uint8Array): void => {
    try {
      f(b)
    } catch (err) {
      if (!(err instanceof PsrpError)) throw err
    }
  }
  for (let n = 0; n < cc.length; n++) check(parseCCache, cc.subarray(0, n))
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      (edits) => {
        const b = cc.slice()
        for (const [i, v] of edits) b[i % b.length] = v
        check(parseCCache, b)
        const k = Uint8Array.of(5, 2, ...b.subarray(2))
        check(parseKeytab, k)
      },
    ),
    { numRuns: 2000 },
  )
})
