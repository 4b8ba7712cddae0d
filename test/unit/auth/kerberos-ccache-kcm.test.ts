/**
 * The KCM protocol codec (MIT include/kcm.h, lib/krb5/ccache/cc_kcm.c) and the ccache names
 * (`FILE:`, `DIR:`, `KCM:`, krb5.conf `%{uid}` templates), sans-IO: request bytes laid out as kcm.h
 * says, replies reassembled from any split, a cache read through an in-memory KCM connection that
 * answers from a version-4 ccache, krb5 status codes as typed errors, DIR: primary-file rules.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeCCache } from '../../../src/auth/kerberos/ccache.ts'
import {
  encodeKcmRequest,
  frameKcmRequest,
  KcmOpcode,
  KcmReplyReader,
  KcmStatus,
  readKcmCCache,
  type KcmConnection,
} from '../../../src/auth/kerberos/ccache-kcm.ts'
import {
  expandCCacheName,
  loadCCache,
  parseCCacheName,
  resolveDirCCache,
} from '../../../src/auth/kerberos/ccache-name.ts'
import type { KerberosCredential } from '../../../src/auth/kerberos/kdc-exchange.ts'
import type { Principal } from '../../../src/auth/kerberos/messages/principal.ts'
import { AuthenticationError, InvalidArgumentError, ProtocolError } from '../../../src/errors.ts'

const alice: Principal = { nameType: 1, components: ['alice'], realm: 'R.TEST' }
const tgt: KerberosCredential = {
  client: alice,
  server: { nameType: 2, components: ['krbtgt', 'R.TEST'], realm: 'R.TEST' },
  sessionKey: { enctype: 18, value: new Uint8Array(32).fill(7) },
  ticket: Uint8Array.of(0x61, 3, 1, 2, 3),
  flags: 0x40e10000,
  authtime: new Date(1_700_000_000_000),
  starttime: undefined,
  endtime: new Date(1_700_086_400_000),
  renewTill: undefined,
}
const http: KerberosCredential = {
  ...tgt,
  server: { nameType: 3, components: ['HTTP', 'win1'], realm: 'R.TEST' },
  ticket: Uint8Array.of(0x61, 1, 9),
}

const u32 = (n: number): number[] => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

/** The marshalled principal and credentials (the v4 FILE layout after its 4-byte header). */
function marshalled(): { principal: Uint8Array; creds: Uint8Array[] } {
  const bare = encodeCCache(alice, []).subarray(4)
  const one = (c: KerberosCredential): Uint8Array => encodeCCache(alice, [c]).subarray(4 + bare.length)
  return { principal: bare, creds: [one(tgt), one(http)] }
}

/** A KCM server in memory: answers the MIT client's read calls for the caches it holds. */
function fakeKcm(
  caches: Record<string, { principal: Uint8Array; creds: Uint8Array[] }>,
  def = 'def',
  seen: string[] = [],
): KcmConnection {
  const ok = (...parts: (number[] | Uint8Array)[]): Uint8Array =>
    Uint8Array.from([...u32(0), ...parts.flatMap((p) => [...p])])
  const err = (code: number): Uint8Array => Uint8Array.from(u32(code >>> 0))
  return {
    call: async (req) => {
      assert.equal(req[0], 2, 'major version 2')
      assert.equal(req[1], 0, 'minor version 0')
      const op = (req[2] as number) * 256 + (req[3] as number)
      const rest = req.subarray(4)
      const nul = rest.indexOf(0)
      const name = Buffer.from(rest.subarray(0, nul < 0 ? 0 : nul)).toString('utf8')
      seen.push(`${op}:${name}`)
      const cache = caches[name]
      switch (op) {
        case KcmOpcode.GET_DEFAULT_CACHE:
          return ok(Buffer.from(`${def}\0`))
        case KcmOpcode.GET_PRINCIPAL:
          return cache === undefined ? err(KcmStatus.KRB5_FCC_NOFILE) : ok(cache.principal)
        case KcmOpcode.GET_KDC_OFFSET:
          return ok(u32(0xfffffffe)) // -2 seconds
        case KcmOpcode.GET_CRED_UUID_LIST:
          return ok(...(cache?.creds.map((_, i) => new Uint8Array(16).fill(i + 1)) ?? []))
        case KcmOpcode.GET_CRED_BY_UUID: {
          const index = (rest[nul + 1] as number) - 1
          const cred = cache?.creds[index]
          return cred === undefined ? err(KcmStatus.KRB5_CC_END) : ok(cred)
        }
        default:
          return err(KcmStatus.KRB5_CC_NOSUPP)
      }
    },
    close: () => {},
  }
}

test('requests: version 2.0, big-endian opcode, NUL-terminated names, UUIDs as is; framed with a u32 length', () => {
  const req = encodeKcmRequest(KcmOpcode.GET_CRED_BY_UUID, 'a:b', new Uint8Array(16).fill(0xab))
  assert.equal(hex(req), `0200000a${hex(Buffer.from('a:b\0'))}${'ab'.repeat(16)}`)
  assert.equal(hex(encodeKcmRequest(KcmOpcode.GET_DEFAULT_CACHE)), '02000014')
  assert.equal(hex(frameKcmRequest(Uint8Array.of(2, 0, 0, 20))), '0000000402000014')
  assert.throws(() => encodeKcmRequest(KcmOpcode.GET_PRINCIPAL, 'a\0b'), ProtocolError)
})

test('replies: length, transport status, then the body; reassembled from one-byte reads', () => {
  const body = Uint8Array.from([...u32(0), ...Buffer.from('0:x\0')])
  const wire = Uint8Array.from([...u32(body.length), ...u32(0), ...body, ...u32(4), ...u32(0), ...u32(0)])
  const reader = new KcmReplyReader()
  const got: string[] = []
  for (const byte of wire) {
    reader.push(Uint8Array.of(byte))
    for (let r = reader.next(); r !== undefined; r = reader.next()) got.push(hex(r))
  }
  assert.deepEqual(got, [hex(body), '00000000'])

  const bad = new KcmReplyReader()
  bad.push(Uint8Array.from([...u32(0), ...u32(KcmStatus.KRB5_CC_IO >>> 0)]))
  assert.throws(
    () => bad.next(),
    (e: unknown) => e instanceof AuthenticationError && /KRB5_CC_IO/.test(e.message),
  )
  const huge = new KcmReplyReader()
  huge.push(Uint8Array.from([...u32(10 * 1024 * 1024 + 1), ...u32(0)]))
  assert.throws(() => huge.next(), ProtocolError)
})

test('readKcmCCache: the default cache by GET_DEFAULT_CACHE, principal, KDC offset, every credential', async () => {
  const seen: string[] = []
  const conn = fakeKcm({ def: marshalled() }, 'def', seen)
  const cc = await readKcmCCache(conn, '')
  assert.deepEqual(cc.principal, alice)
  assert.deepEqual(cc.credentials, [tgt, http])
  assert.deepEqual(cc.kdcTimeOffset, { seconds: -2, microseconds: 0 })
  assert.deepEqual(seen, ['20:', '8:def', '22:def', '9:def', '10:def', '10:def'])
  // a named cache skips GET_DEFAULT_CACHE
  const named: string[] = []
  await readKcmCCache(fakeKcm({ '0:x': marshalled() }, 'def', named), '0:x')
  assert.equal(named[0], '8:0:x')
})

test('readKcmCCache: a missing cache is KRB5_FCC_NOFILE; a vanished credential is skipped; bad lists refused', async () => {
  await assert.rejects(
    readKcmCCache(fakeKcm({}), 'nope'),
    (e: unknown) =>
      e instanceof AuthenticationError && /KRB5_FCC_NOFILE/.test(e.message) && /kinit/.test(e.message),
  )
  const m = marshalled()
  const gone = fakeKcm({ c: { principal: m.principal, creds: [m.creds[0] as Uint8Array] } })
  const call = gone.call.bind(gone)
  // the server lists two credentials but the second was removed meanwhile (KRB5_CC_END)
  const lying: KcmConnection = {
    close: () => {},
    call: async (req) =>
      req[3] === KcmOpcode.GET_CRED_UUID_LIST
        ? Uint8Array.from([...u32(0), ...new Uint8Array(16).fill(1), ...new Uint8Array(16).fill(2)])
        : call(req),
  }
  assert.deepEqual((await readKcmCCache(lying, 'c')).credentials, [tgt])
  const ragged: KcmConnection = {
    close: () => {},
    call: async (req) =>
      req[3] === KcmOpcode.GET_CRED_UUID_LIST ? Uint8Array.from([...u32(0), 1, 2, 3]) : call(req),
  }
  await assert.rejects(readKcmCCache(ragged, 'c'), ProtocolError)
  await assert.rejects(readKcmCCache(gone, 'c', { maxCredentials: 0 }), ProtocolError)
})

test('ccache names: FILE, bare paths, DIR collections and subsidiaries, KCM; other types refused', () => {
  assert.deepEqual(parseCCacheName('/tmp/krb5cc_0'), { type: 'FILE', path: '/tmp/krb5cc_0' })
  assert.deepEqual(parseCCacheName('FILE:/tmp/x'), { type: 'FILE', path: '/tmp/x' })
  assert.deepEqual(parseCCacheName('DIR:/run/user/0/krb5cc'), {
    type: 'DIR',
    directory: '/run/user/0/krb5cc',
  })
  assert.deepEqual(parseCCacheName('DIR::/run/cc/tktAbC'), {
    type: 'DIR',
    directory: '/run/cc',
    subsidiary: '/run/cc/tktAbC',
  })
  assert.throws(() => parseCCacheName('DIR::/run/cc/other'), InvalidArgumentError)
  assert.throws(() => parseCCacheName('DIR::tkt'), InvalidArgumentError)
  assert.deepEqual(parseCCacheName('KCM:'), { type: 'KCM', residual: '' })
  assert.deepEqual(parseCCacheName('KCM:1000:abc'), { type: 'KCM', residual: '1000:abc' })
  assert.throws(() => parseCCacheName('KEYRING:persistent:0'), /KEYRING is not supported/)
  assert.equal(expandCCacheName('FILE:%{TEMP}/krb5cc_%{uid}', { uid: 1000 }), 'FILE:/tmp/krb5cc_1000')
  assert.equal(expandCCacheName('KCM:%{USERID}%%', { uid: 7 }), 'KCM:7%')
  assert.throws(() => expandCCacheName('FILE:%{nope}', { uid: 1 }), InvalidArgumentError)
})

test('DIR: the primary file names the cache; missing means tkt; anything but one tkt… line is refused', async () => {
  const files = new Map<string, string>()
  const readFile = async (p: string): Promise<Uint8Array> => {
    const t = files.get(p)
    if (t === undefined) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' })
    return Buffer.from(t, 'latin1')
  }
  const dir = { type: 'DIR', directory: '/cc/' } as const
  assert.equal(await resolveDirCCache(dir, readFile), '/cc/tkt')
  files.set('/cc/primary', 'tktXy12\n')
  assert.equal(await resolveDirCCache(dir, readFile), '/cc/tktXy12')
  for (const bad of ['tktXy12', '../etc/passwd\n', 'tkt/../x\n', 'krb5cc\n']) {
    files.set('/cc/primary', bad)
    await assert.rejects(resolveDirCCache(dir, readFile), AuthenticationError, bad)
  }
  // end to end through loadCCache: the primary's cache file is parsed
  files.set('/cc/primary', 'tktA\n')
  files.set('/cc/tktA', Buffer.from(encodeCCache(alice, [tgt])).toString('latin1'))
  const cc = await loadCCache('DIR:/cc', { readFile })
  assert.deepEqual(cc.credentials, [tgt])
  await assert.rejects(loadCCache('DIR::/cc/tktB', { readFile }), /no such file: run kinit/)
  await assert.rejects(loadCCache('KCM:', { readFile }), InvalidArgumentError)
  const viaKcm = await loadCCache('KCM:', {
    readFile,
    kcmSocketPath: '/s',
    connectKcm: async (path) => {
      assert.equal(path, '/s')
      return fakeKcm({ def: marshalled() })
    },
  })
  assert.deepEqual(viaKcm.credentials, [tgt, http])
})

test('the system default cache: krb5.conf default_ccache_name (first value, %{uid} expanded), else FILE:/tmp/krb5cc_<uid>', async () => {
  const { systemDefaultCCacheName } = await import('../../../src/transport/kdc.ts')
  const { parseKrb5Conf } = await import('../../../src/auth/kerberos/krb5-conf.ts')
  // Fedora: /etc/krb5.conf includes krb5.conf.d first, whose kcm_default_ccache says KCM:
  const fedora = parseKrb5Conf(
    'includedir /etc/krb5.conf.d/\n[libdefaults]\n default_ccache_name = KEYRING:persistent:%{uid}\n',
    {
      resolveInclude: () => ['[libdefaults]\n    default_ccache_name = KCM:\n'],
    },
  )
  assert.equal(await systemDefaultCCacheName(fedora, 1000), 'KCM:')
  assert.equal(
    await systemDefaultCCacheName(
      parseKrb5Conf('[libdefaults]\n default_ccache_name = DIR:/run/user/%{uid}/krb5cc\n'),
      1000,
    ),
    'DIR:/run/user/1000/krb5cc',
  )
  assert.equal(await systemDefaultCCacheName(parseKrb5Conf(''), 1000), 'FILE:/tmp/krb5cc_1000')
  assert.equal(await systemDefaultCCacheName(parseKrb5Conf(''), undefined), undefined)
})
