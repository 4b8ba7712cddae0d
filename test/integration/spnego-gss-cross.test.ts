/**
 * Optional interop check: MIT krb5's SPNEGO acceptor (python3-gssapi, mech 1.3.6.1.5.5.2) with the
 * gss-ntlmssp mechanism (NTLM users from a user file, as in shared/auth-lab and
 * ntlm-gss-cross.test.ts) accepts our NegotiateContext tokens — including our mechListMIC — sends its
 * own mechListMIC that we verify, then gss_wrap/gss_unwrap work both ways after the RC4 reset.
 * Also with a (fake) Kerberos mechanism offered first, which the acceptor declines in favour of NTLM.
 * Needs the Debian packages gss-ntlmssp and python3-gssapi; skipped with a reason when absent.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { NtlmContext } from '../../src/auth/ntlm/index.ts'
import {
  KERBEROS_OID,
  NTLM_OID,
  NegotiateContext,
  decodeSpnegoToken,
  type NegotiateMechanism,
} from '../../src/auth/spnego/index.ts'
import { encodeGssInitialContextToken } from '../../src/auth/asn1/index.ts'
import { gssNtlmsspPresent, startGssAcceptor } from '../helpers/gss-acceptor.ts'
import { peerSkip } from '../helpers/peers.ts'

const skip = peerSkip(
  'gss-ntlmssp',
  gssNtlmsspPresent(),
  'apt-get install gss-ntlmssp python3-gssapi (shared/notes/auth.md 5.1) to run the SPNEGO interop check',
)

const ACCEPTOR = `
import sys, base64, gssapi
SPNEGO = gssapi.OID.from_int_seq("1.3.6.1.5.5.2")
ctx = gssapi.SecurityContext(usage="accept", creds=gssapi.Credentials(usage="accept", mechs=[SPNEGO]))
rd = lambda: base64.b64decode(sys.stdin.readline())
def wr(s):
    sys.stdout.write(s + "\\n"); sys.stdout.flush()
try:
    while not ctx.complete:
        out = ctx.step(rd())
        wr(("1 " if ctx.complete else "0 ") + base64.b64encode(out or b"").decode())
except Exception as e:
    wr("FAIL " + str(e).replace("\\n", " ")); sys.exit(0)
wr("OK " + str(ctx.initiator_name).rstrip("\\x00") + " " + str(ctx.mech))
for i in range(2):
    wr(base64.b64encode(ctx.unwrap(rd()).message).decode())
    wr(base64.b64encode(ctx.wrap(b"reply %d from MIT SPNEGO" % i, True).message).decode())
`

interface Outcome {
  status: string
  ctx: NegotiateContext
  /** negState and supportedMech of each acceptor token. */
  server: string[]
}

async function run(mechanisms: NegotiateMechanism[]): Promise<Outcome> {
  const { send, next, close } = startGssAcceptor(ACCEPTOR, [], (dir) => ({
    KRB5_KTNAME: `FILE:${join(dir, 'none.keytab')}`,
    KRB5_CONFIG: join(dir, 'none.conf'),
  }))
  const ctx = new NegotiateContext({ mechanisms })
  const server: string[] = []
  try {
    let out = await ctx.step()
    for (let i = 0; i < 5; i++) {
      if (out === undefined) break
      send(out)
      const line = await next()
      if (line.startsWith('FAIL')) return { status: line, ctx, server }
      const [done, b64] = line.split(' ') as [string, string]
      const reply = new Uint8Array(Buffer.from(b64, 'base64'))
      if (reply.length > 0) {
        const { token } = decodeSpnegoToken(reply)
        if (token.kind === 'negTokenResp') {
          server.push(
            `${token.negState ?? '-'}/${token.supportedMech ?? '-'}/${token.mechListMIC === undefined ? 'no-mic' : 'mic'}`,
          )
        }
      }
      out = reply.length > 0 || !ctx.complete ? await ctx.step(reply) : undefined
      if (done === '1') {
        assert.equal(out, undefined, 'nothing left to send once the acceptor completed')
        break
      }
    }
    assert.ok(ctx.complete, 'our context completed')
    const status = await next()
    if (!status.startsWith('OK')) return { status, ctx, server }
    for (let i = 0; i < 2; i++) {
      const { header, data } = ctx.wrap(new TextEncoder().encode(`message ${i} from psrp`))
      send(new Uint8Array([...header, ...data]))
      assert.equal(Buffer.from(await next(), 'base64').toString(), `message ${i} from psrp`)
      const reply = new Uint8Array(Buffer.from(await next(), 'base64'))
      const plain = ctx.unwrap({ header: reply.subarray(0, 16), data: reply.subarray(16) })
      assert.equal(new TextDecoder().decode(plain), `reply ${i} from MIT SPNEGO`)
    }
    return { status, ctx, server }
  } finally {
    close()
  }
}

const ntlm = (password = 'Passw0rd!'): NegotiateMechanism => ({
  oid: NTLM_OID,
  create: () => new NtlmContext({ username: 'LAB\\alice', password, spn: 'HTTP/localhost' }),
})

test(
  'MIT SPNEGO + gss-ntlmssp accepts Negotiate(NTLM), mechListMIC both ways, wrap/unwrap',
  { skip },
  async () => {
    const { status, ctx, server } = await run([ntlm()])
    assert.deepEqual(server, [`accept-incomplete/${NTLM_OID}/no-mic`, 'accept-completed/-/mic'])
    assert.match(status, /^OK LAB\\alice .*1\.3\.6\.1\.4\.1\.311\.2\.2\.10/)
    assert.equal(ctx.mechanism, 'NTLM')
    assert.ok(ctx.mechListMicSent, 'we sent mechListMIC')
    assert.ok(ctx.mechListMicVerified, 'we verified the acceptor’s mechListMIC')
  },
)

test('MIT SPNEGO picks NTLM when a (fake) Kerberos mechanism is offered first', { skip }, async () => {
  // A syntactically framed but bogus Kerberos token; the acceptor has no Kerberos keys.
  const fakeKrb: NegotiateMechanism = {
    oid: KERBEROS_OID,
    create: () => ({
      mechanism: 'Kerberos',
      complete: false,
      step: async () => encodeGssInitialContextToken(KERBEROS_OID, Uint8Array.of(1, 0, 0x30, 0)),
      wrap: () => assert.fail(),
      unwrap: () => assert.fail(),
    }),
  }
  const { status, ctx, server } = await run([fakeKrb, ntlm()])
  // RFC 4178 §5: not the initiator's first choice → request-mic in the first reply.
  assert.equal(server[0], `request-mic/${NTLM_OID}/no-mic`)
  assert.equal(server.at(-1), 'accept-completed/-/mic')
  assert.match(status, /^OK LAB\\alice/)
  assert.equal(ctx.mechanism, 'NTLM')
  assert.deepEqual(ctx.mechTypes, [KERBEROS_OID, NTLM_OID])
  assert.ok(ctx.mechListMicSent && ctx.mechListMicVerified)
})

test('MIT SPNEGO refuses a wrong password', { skip }, async () => {
  const { status, ctx } = await run([ntlm('wrong')])
  assert.match(status, /^FAIL/)
  assert.equal(ctx.complete, false)
})

test('the first token is a framed NegTokenInit', { skip }, async () => {
  const ctx = new NegotiateContext({ mechanisms: [ntlm()] })
  const tok = (await ctx.step()) as Uint8Array
  assert.equal(tok[0], 0x60)
  assert.equal(decodeSpnegoToken(tok).token.kind, 'negTokenInit')
})
