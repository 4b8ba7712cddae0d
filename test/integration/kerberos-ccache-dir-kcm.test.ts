/**
 * `DIR:` and `KCM:` credential caches written by the real MIT tools: `kinit`/`kswitch` into a DIR:
 * collection (primary file, subsidiary caches) and into Debian's sssd-kcm (the Fedora/RHEL default
 * cache daemon) over its Unix socket. The caches are read without native code and a Kerberos context
 * gets a service ticket with the TGT found there.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { findCredential } from '../../src/auth/kerberos/ccache.ts'
import { loadCCache } from '../../src/auth/kerberos/ccache-name.ts'
import { readKcmCCache } from '../../src/auth/kerberos/ccache-kcm.ts'
import { createKerberosContext } from '../../src/transport/kdc.ts'
import { connectKcm } from '../../src/transport/kcm.ts'
import { AuthenticationError } from '../../src/errors.ts'
import { peerSkip } from '../helpers/peers.ts'
import { kdcAvailable, startKdc, type KdcPeer } from '../peers/kdc/kdc.ts'
import { sssdKcmAvailable, startSssdKcm, type KcmPeer } from '../peers/kcm/sssd-kcm.ts'

const kdcSkip = peerSkip(
  'MIT krb5 (kdc + krb5-user)',
  kdcAvailable(),
  'apt-get install krb5-kdc krb5-admin-server krb5-user',
)
const kcmSkip =
  kdcSkip || peerSkip('sssd-kcm (run as root)', sssdKcmAvailable(), 'apt-get install sssd-kcm; run as root')

const readFile = async (p: string): Promise<Uint8Array> => new Uint8Array(readFileSync(p))

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): string {
  const r = spawnSync(cmd, args, { env, input, encoding: 'utf8' })
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** A service ticket for HTTP/localhost from the TGT in the named cache: the AP-REQ token comes out. */
async function apReqFrom(kdc: KdcPeer, ccache: string, krb5Config = kdc.krb5ConfPath): Promise<Uint8Array> {
  const ctx = createKerberosContext({ hostname: 'localhost', ccache, kdc: kdc.kdcAddress, krb5Config })
  const token = await ctx.step()
  assert.ok(token !== undefined && token.length > 100)
  return token
}

describe('DIR: collections written by MIT kinit and kswitch', { skip: kdcSkip }, () => {
  let kdc: KdcPeer
  let dir: string
  before(async () => {
    kdc = await startKdc()
    dir = join(kdc.dir, 'collection')
    mkdirSync(dir)
  })
  after(async () => kdc?.close())

  test('the primary cache, a subsidiary, and the primary after kswitch', async () => {
    const env = { ...kdc.env, KRB5CCNAME: `DIR:${dir}` }
    run('/usr/bin/kinit', ['alice'], env, `${kdc.password}\n`)
    run('/usr/bin/kinit', ['dave'], { ...env, KRB5CCNAME: `DIR::${dir}/tktdave` }, `${kdc.password}\n`)
    assert.equal(readFileSync(join(dir, 'primary'), 'utf8'), 'tkt\n')

    const primary = await loadCCache(`DIR:${dir}`, { readFile })
    assert.deepEqual(primary.principal.components, ['alice'])
    const tgt = findCredential(
      primary,
      { components: ['krbtgt', kdc.realm], realm: kdc.realm },
      { now: new Date() },
    )
    assert.equal(tgt?.sessionKey.enctype, 18)
    assert.deepEqual((await loadCCache(`DIR::${dir}/tktdave`, { readFile })).principal.components, ['dave'])

    run('/usr/bin/kswitch', ['-c', `DIR::${dir}/tktdave`], env)
    assert.equal(readFileSync(join(dir, 'primary'), 'utf8'), 'tktdave\n')
    assert.deepEqual((await loadCCache(`DIR:${dir}`, { readFile })).principal.components, ['dave'])
    await apReqFrom(kdc, `DIR:${dir}`)
  })
})

describe('KCM: caches held by a real sssd-kcm', { skip: kcmSkip }, () => {
  let kdc: KdcPeer
  let kcm: KcmPeer
  let conf: string
  const names: string[] = []
  before(async () => {
    kcm = await startSssdKcm()
    kdc = await startKdc()
    conf = join(kdc.dir, 'krb5-kcm.conf')
    writeFileSync(
      conf,
      readFileSync(kdc.krb5ConfPath, 'utf8').replace(
        '[libdefaults]',
        `[libdefaults]\n    kcm_socket = ${kcm.socketPath}`,
      ),
    )
  })
  after(async () => {
    for (const name of names)
      spawnSync('/usr/bin/kdestroy', ['-c', name], { env: { ...kdc.env, KRB5_CONFIG: conf } })
    await kdc?.close()
    await kcm?.close()
  })
  const kinit = (principal: string, name: string): void => {
    names.push(name)
    run(
      '/usr/bin/kinit',
      [principal],
      { ...kdc.env, KRB5_CONFIG: conf, KRB5CCNAME: name },
      `${kdc.password}\n`,
    )
  }

  test('a named cache: principal, TGT and config entries as kinit stored them; a service ticket from it', async () => {
    const name = `KCM:0:psrp-${randomBytes(4).toString('hex')}`
    kinit('alice', name)
    const connection = await connectKcm(kcm.socketPath)
    try {
      const cc = await readKcmCCache(connection, name.slice(4))
      assert.deepEqual(cc.principal, { nameType: 1, components: ['alice'], realm: kdc.realm })
      const tgt = findCredential(
        cc,
        { components: ['krbtgt', kdc.realm], realm: kdc.realm },
        { now: new Date() },
      )
      assert.ok(tgt !== undefined)
      assert.equal(tgt.sessionKey.value.length, 32)
      assert.ok(
        cc.config.some((c) => c.name === 'pa_type'),
        'MIT stores its X-CACHECONF: entries in KCM too',
      )
    } finally {
      connection.close()
    }
    // KRB5CCNAME-style name through the context, socket from krb5.conf's kcm_socket
    await apReqFrom(kdc, name, conf)
  })

  test('a cache that does not exist is KRB5_FCC_NOFILE', async () => {
    await assert.rejects(
      apReqFrom(kdc, `KCM:0:psrp-missing-${randomBytes(4).toString('hex')}`, conf),
      (e: unknown) => e instanceof AuthenticationError && /KRB5_FCC_NOFILE/.test(e.message),
    )
  })

  test('bare KCM: is the daemon default cache (only when this test started the daemon)', async (t) => {
    if (!kcm.started) {
      t.skip("a system KCM daemon is running: its default cache is not the test's to change")
      return
    }
    kinit('dave', 'KCM:')
    const cc = await loadCCache('KCM:', {
      readFile,
      kcmSocketPath: kcm.socketPath,
      connectKcm: (p) => connectKcm(p),
    })
    assert.deepEqual(cc.principal.components, ['dave'])
  })
})
