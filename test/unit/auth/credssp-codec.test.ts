/**
 * CredSSP codecs (MS-CSSP 2.2.1 TSRequest/NegoData, 2.2.1.2 TSCredentials, 2.2.1.2.1
 * TSPasswordCreds): hand-assembled DER compared byte for byte, round trips, Windows' signed
 * errorCode, malformed input as ProtocolError (fast-check), NTSTATUS names, and the context's
 * state and secrecy rules.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import fc from 'fast-check'
import { InvalidArgumentError, InvalidStateError, ProtocolError, PsrpError } from '../../../src/errors.ts'
import {
  CredSspContext,
  CredType,
  NtStatus,
  decodeTsCredentials,
  decodeTsPasswordCreds,
  decodeTsRequest,
  describeNtStatus,
  encodePasswordCredentials,
  encodeTsCredentials,
  encodeTsPasswordCreds,
  encodeTsRequest,
  isCredentialsRefused,
  type TsRequest,
} from '../../../src/auth/credssp/index.ts'

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'))

test('TSRequest {version 6, negoTokens [0102]} is the DER MS-CSSP 2.2.1 describes', () => {
  const der = encodeTsRequest({ version: 6, negoTokens: [Uint8Array.of(1, 2)] })
  //          SEQ   [0] INT 6        [1]   SEQ OF SEQ   [0]   OCTETS
  assert.equal(hex(der), '3011' + 'a003020106' + 'a10a' + '3008' + '3006' + 'a004' + '04020102')
  const back = decodeTsRequest(der)
  assert.equal(back.version, 6)
  assert.deepEqual(back.negoTokens?.map(hex), ['0102'])
  assert.equal(back.pubKeyAuth, undefined)
})

test('TSRequest errorCode: written signed like Windows, read in either form as unsigned NTSTATUS', () => {
  const der = encodeTsRequest({ version: 3, errorCode: 0xc000006d })
  assert.equal(hex(der), '300d' + 'a003020103' + 'a406' + '0204c000006d')
  assert.equal(decodeTsRequest(der).errorCode, 0xc000006d)
  const positive = bytes('300e a003020103 a407 020500c000006d')
  assert.equal(decodeTsRequest(positive).errorCode, 0xc000006d)
  assert.equal(decodeTsRequest(encodeTsRequest({ version: 6, errorCode: 5 })).errorCode, 5)
})

test('TSRequest with every field round-trips, fields in tag order', () => {
  const req: TsRequest = {
    version: 6,
    negoTokens: [new Uint8Array(300).fill(1), Uint8Array.of(9)],
    authInfo: Uint8Array.of(2, 2),
    pubKeyAuth: new Uint8Array(200).fill(3),
    errorCode: 0xc0000388,
    clientNonce: new Uint8Array(32).fill(5),
  }
  const der = encodeTsRequest(req)
  const back = decodeTsRequest(der)
  assert.equal(back.version, 6)
  assert.deepEqual(back.negoTokens?.map(hex), req.negoTokens?.map(hex))
  assert.equal(hex(back.authInfo as Uint8Array), '0202')
  assert.equal(hex(back.pubKeyAuth as Uint8Array), hex(req.pubKeyAuth as Uint8Array))
  assert.equal(back.errorCode, 0xc0000388)
  assert.equal(hex(back.clientNonce as Uint8Array), hex(req.clientNonce as Uint8Array))
  assert.equal(hex(encodeTsRequest(back)), hex(der))
})

test('malformed TSRequests are ProtocolErrors', () => {
  const good = encodeTsRequest({ version: 6, negoTokens: [Uint8Array.of(1, 2)] })
  const cases: Record<string, Uint8Array> = {
    empty: new Uint8Array(0),
    truncated: good.subarray(0, good.length - 1),
    trailing: Uint8Array.of(...good, 0),
    'not a SEQUENCE': bytes('3111a003020106a10a30083006a00404020102'),
    'no version': bytes('300c a10a30083006a00404020102'),
    'empty NegoData': bytes('3009 a003020106 a1023000'),
    'fields out of order': bytes('3011 a10a30083006a00404020102 a003020106'),
    'unknown field [6]': bytes('3009 a003020106 a6020500'),
    'negative version': bytes('3005 a0030201ff'),
    'errorCode too wide': bytes('300f a003020103 a4080206010000000000'),
    'indefinite length': bytes('3080 a003020106 0000'),
    'non-minimal length': bytes('308105 a003020106'),
    'NegoData entry without [0]': bytes('300f a003020106 a1083006 3004 04020102'),
  }
  for (const [name, input] of Object.entries(cases)) {
    assert.throws(() => decodeTsRequest(input), ProtocolError, name)
  }
  assert.throws(() => encodeTsRequest({ version: 6, negoTokens: [] }), ProtocolError)
  assert.throws(() => encodeTsRequest({ version: -1 }), ProtocolError)
  assert.throws(() => encodeTsRequest({ version: 6, errorCode: 2 ** 32 }), ProtocolError)
})

test('fuzz: decodeTsRequest throws only ProtocolError, and accepted input re-encodes to itself', () => {
  const seeds = [
    encodeTsRequest({ version: 6, negoTokens: [new Uint8Array(40).fill(7)] }),
    encodeTsRequest({ version: 2, pubKeyAuth: new Uint8Array(30), clientNonce: new Uint8Array(32) }),
    encodeTsRequest({ version: 3, errorCode: 0xc000006d }),
  ]
  const check = (input: Uint8Array): void => {
    let req: TsRequest
    try {
      req = decodeTsRequest(input)
    } catch (err) {
      assert.ok(err instanceof ProtocolError, `unexpected ${String(err)}`)
      return
    }
    // strict DER: only the canonical encoding of a value is accepted, except the errorCode form
    if (req.errorCode === undefined) assert.equal(hex(encodeTsRequest(req)), hex(input))
  }
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => check(b)),
    { numRuns: 3000 },
  )
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.nat(),
      (seed, flips, cut) => {
        const m = seed.slice()
        for (const [at, v] of flips) m[at % m.length] = v
        check(m)
        check(m.subarray(0, cut % (m.length + 1)))
      },
    ),
    { numRuns: 3000 },
  )
  fc.assert(
    fc.property(
      fc.record(
        {
          version: fc.integer({ min: 0, max: 0x7fffffff }),
          negoTokens: fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 3 }),
          authInfo: fc.uint8Array({ maxLength: 64 }),
          pubKeyAuth: fc.uint8Array({ maxLength: 64 }),
          errorCode: fc.integer({ min: 0, max: 0xffffffff }),
          clientNonce: fc.uint8Array({ minLength: 32, maxLength: 32 }),
        },
        { requiredKeys: ['version'] },
      ),
      (req) => {
        const back = decodeTsRequest(encodeTsRequest(req))
        assert.equal(hex(encodeTsRequest(back)), hex(encodeTsRequest(req)))
        assert.equal(back.errorCode, req.errorCode)
      },
    ),
    { numRuns: 500 },
  )
})

test('TSPasswordCreds / TSCredentials: UTF-16LE strings, exact DER, round trip', () => {
  const inner = encodeTsPasswordCreds({ domain: 'D', user: 'u', password: 'p' })
  assert.equal(hex(inner), '3012' + 'a00404024400' + 'a10404027500' + 'a20404027000')
  const creds = encodeTsCredentials({ credType: CredType.password, credentials: inner })
  assert.equal(hex(creds), '301d' + 'a003020101' + 'a116' + '0414' + hex(inner))
  const all = encodePasswordCredentials({ domain: 'LAB', user: 'alice', password: 'Pässw0rd€' })
  const outer = decodeTsCredentials(all)
  assert.equal(outer.credType, 1)
  assert.deepEqual(decodeTsPasswordCreds(outer.credentials), {
    domain: 'LAB',
    user: 'alice',
    password: 'Pässw0rd€',
  })
  assert.deepEqual(
    decodeTsPasswordCreds(encodeTsPasswordCreds({ domain: '', user: 'a@b.c', password: '' })),
    {
      domain: '',
      user: 'a@b.c',
      password: '',
    },
  )
})

test('malformed TSCredentials / TSPasswordCreds are ProtocolErrors', () => {
  assert.throws(
    () => decodeTsPasswordCreds(bytes('3011 a00304014400 a10404027500 a20404027000')),
    ProtocolError,
  ) // odd
  assert.throws(
    () => decodeTsPasswordCreds(bytes('3012 a00404020000d8 a10404027500 a20404027000')),
    ProtocolError,
  )
  assert.throws(() => decodeTsPasswordCreds(bytes('300c a10404027500 a20404027000')), ProtocolError)
  assert.throws(() => decodeTsCredentials(bytes('3005 a003020101')), ProtocolError)
  assert.throws(() => decodeTsCredentials(new Uint8Array(0)), ProtocolError)
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
      for (const decode of [decodeTsCredentials, decodeTsPasswordCreds]) {
        try {
          decode(b)
        } catch (err) {
          assert.ok(err instanceof ProtocolError, String(err))
        }
      }
    }),
    { numRuns: 2000 },
  )
})

test('NTSTATUS names and the credentials-refused class', () => {
  assert.equal(describeNtStatus(0xc000006d), 'STATUS_LOGON_FAILURE 0xC000006D')
  assert.equal(describeNtStatus(NtStatus.STATUS_ACCOUNT_LOCKED_OUT), 'STATUS_ACCOUNT_LOCKED_OUT 0xC0000234')
  assert.equal(describeNtStatus(0x12345), '0x00012345')
  assert.equal(describeNtStatus(-1073741715), 'STATUS_LOGON_FAILURE 0xC000006D')
  assert.ok(isCredentialsRefused(NtStatus.STATUS_LOGON_FAILURE))
  assert.ok(isCredentialsRefused(NtStatus.STATUS_PASSWORD_EXPIRED))
  assert.ok(!isCredentialsRefused(NtStatus.STATUS_DOWNGRADE_DETECTED))
})

test('CredSspContext: options checked, no wrap before completion, secrets never shown', async () => {
  assert.throws(() => new CredSspContext({ username: '', password: 'x' }), InvalidArgumentError)
  assert.throws(
    () => new CredSspContext({ username: 'u', password: 'x', minVersion: 7 }),
    InvalidArgumentError,
  )
  assert.throws(
    () => new CredSspContext({ username: 'u', password: 'x', minVersion: 1 }),
    InvalidArgumentError,
  )
  const secret = 'S3cret-Pässw0rd'
  const ctx = new CredSspContext({ username: 'LAB\\alice', password: secret })
  assert.equal(ctx.user, 'alice')
  assert.equal(ctx.domain, 'LAB')
  assert.equal(ctx.mechanism, 'CredSSP')
  assert.throws(() => ctx.wrap(Uint8Array.of(1)), InvalidStateError)
  assert.throws(() => ctx.unwrap({ header: new Uint8Array(17), data: new Uint8Array(1) }), InvalidStateError)
  for (const text of [inspect(ctx), JSON.stringify(ctx), inspect(ctx, { showHidden: true, depth: 5 })]) {
    assert.ok(!text.includes(secret), text)
  }
  const upn = new CredSspContext({ username: 'alice@lab.test', password: secret })
  assert.deepEqual([upn.user, upn.domain], ['alice@lab.test', ''])
  // a token before the ClientHello, then a failed context refuses to continue
  const bad = new CredSspContext({ username: 'u', password: secret })
  await assert.rejects(bad.step(Uint8Array.of(1)), ProtocolError)
  await assert.rejects(bad.step(), (e: unknown) => e instanceof InvalidStateError)
  // a handshake answered with garbage fails with a typed error
  const garbage = new CredSspContext({ username: 'u', password: secret })
  const hello = await garbage.step()
  assert.equal(hello?.[0], 22, 'a TLS handshake record')
  await assert.rejects(
    garbage.step(new TextEncoder().encode('not TLS at all')),
    (e: unknown) => e instanceof PsrpError,
  )
  assert.equal(garbage.state, 'failed')
})
