/**
 * Interop with MIT krb5's GSSAPI (test/vectors/auth/kerberos/mit-gss-tokens.json, made by
 * mit-gss-generate.sh): for each AES enctype, real MIT Wrap tokens (sealed and integrity-only),
 * gss_wrap_iov tokens in the WinRM layout and MIC tokens, from both the initiator and the acceptor,
 * must verify and open with the context key; and the psrp-made tokens that MIT accepted must still be
 * produced byte for byte.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import {
  KeyUsage,
  parseWrapHeader,
  unwrap,
  unwrapWinRM,
  verifyMic,
  wrapWinRM,
  type KerberosKey,
} from '../../../src/auth/kerberos/index.ts'
import { CryptoError } from '../../../src/errors.ts'
import { fromHex } from '../../../src/internal/bytes.ts'
import { makeTokens, type TokenRequest } from '../../vectors/auth/kerberos/mit-gss-ts-helper.ts'

interface Recorded {
  sender: 'initiator' | 'acceptor'
  kind: 'wrap' | 'wrap-integrity' | 'winrm' | 'mic'
  plaintext: string
  token?: string
  header?: string
  data?: string
}
const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/auth/kerberos/mit-gss-tokens.json', import.meta.url), 'utf8'),
) as { contexts: { enctype: number; key: string; mit: Recorded[]; psrp: (TokenRequest & Recorded)[] }[] }
const hex = (s: string | undefined): Uint8Array => fromHex(s ?? '') as Uint8Array

test('MIT krb5 vectors cover all four AES enctypes', () => {
  assert.deepEqual(
    vectors.contexts.map((c) => c.enctype),
    [17, 18, 19, 20],
  )
})

for (const ctx of vectors.contexts) {
  const key: KerberosKey = { enctype: ctx.enctype, value: hex(ctx.key) }

  test(`enctype ${ctx.enctype}: MIT-made Wrap, WinRM and MIC tokens verify and open`, () => {
    assert.equal(ctx.mit.length, 32)
    for (const t of ctx.mit) {
      const sentByAcceptor = t.sender === 'acceptor'
      const pt = hex(t.plaintext)
      const what = `${t.sender} ${t.kind} ${pt.length} bytes`
      if (t.kind === 'mic') {
        verifyMic(key, pt, hex(t.token), { sentByAcceptor, acceptorSubkey: true })
        assert.throws(
          () => verifyMic(key, pt, hex(t.token), { sentByAcceptor: !sentByAcceptor }),
          CryptoError,
        )
      } else if (t.kind === 'winrm') {
        const usage = sentByAcceptor ? KeyUsage.GSS_ACCEPTOR_SEAL : KeyUsage.GSS_INITIATOR_SEAL
        const msg = { header: hex(t.header), data: hex(t.data) }
        assert.deepEqual(unwrapWinRM(key, msg, { usage, acceptorSubkey: true }), pt, what)
        // Same layout as ours: header length, RRC, EC, flags.
        const ours = wrapWinRM(key, 0, pt, usage)
        assert.equal(msg.header.length, ours.header.length, what)
        assert.equal(msg.data.length, pt.length, what)
        const h = parseWrapHeader(msg.header)
        const o = parseWrapHeader(ours.header)
        assert.deepEqual([h.flags, h.ec, h.rrc], [o.flags, o.ec, o.rrc], what)
      } else {
        const r = unwrap(key, hex(t.token), { sentByAcceptor, acceptorSubkey: true })
        assert.deepEqual(r.plaintext, pt, what)
        assert.equal(r.header.sealed, t.kind === 'wrap', what)
      }
    }
  })

  test(`enctype ${ctx.enctype}: psrp still makes the tokens MIT accepted, byte for byte`, () => {
    assert.equal(ctx.psrp.length, 40)
    const again = makeTokens(ctx.enctype, ctx.key, ctx.psrp)
    assert.deepEqual(again, ctx.psrp)
    // And they open with our own unwrap too (EC 16 / RRC 28 and EC 5 / RRC 3 use the RFC 4121 rotation).
    for (const t of ctx.psrp) {
      if (t.kind === 'wrap' || t.kind === 'wrap-integrity') {
        const r = unwrap(key, hex(t.token), { sentByAcceptor: t.sender === 'acceptor' })
        assert.deepEqual(r.plaintext, hex(t.plaintext))
      }
    }
  })
}
