/**
 * Optional interop check against gss-ntlmssp (the C NTLM acceptor used by MIT GSSAPI), following
 * shared/auth-lab/ntlm/ntlm_cross.py but with our NtlmContext as the initiator: authentication with
 * MIC, channel bindings (matching and mismatching), a wrong password, sealing both ways and
 * gss_get_mic/gss_verify_mic interleaved with sealing.
 * Needs the Debian packages gss-ntlmssp and python3-gssapi; skipped with a reason when absent.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { NtlmContext, type NtlmContextOptions } from '../../src/auth/ntlm/index.ts'
import { gssNtlmsspPresent, startGssAcceptor } from '../helpers/gss-acceptor.ts'
import { peerSkip } from '../helpers/peers.ts'

const skip = peerSkip(
  'gss-ntlmssp',
  gssNtlmsspPresent(),
  'apt-get install gss-ntlmssp python3-gssapi (shared/notes/auth.md 5.1) to run the interop check',
)

const ACCEPTOR = `
import sys, base64, gssapi
NTLM = gssapi.OID.from_int_seq("1.3.6.1.4.1.311.2.2.10")
app = sys.argv[1] if len(sys.argv) > 1 else ""
cbt = gssapi.raw.ChannelBindings(application_data=bytes.fromhex(app)) if app else None
ctx = gssapi.SecurityContext(usage="accept", creds=gssapi.Credentials(usage="accept", mechs=[NTLM]), channel_bindings=cbt)
rd = lambda: base64.b64decode(sys.stdin.readline())
def wr(s):
    sys.stdout.write(s + "\\n"); sys.stdout.flush()
wr(base64.b64encode(ctx.step(rd())).decode())
try:
    ctx.step(rd())
except Exception as e:
    wr("FAIL " + str(e).replace("\\n", " ")); sys.exit(0)
wr("OK " + str(ctx.initiator_name).rstrip("\\x00"))
wr(base64.b64encode(ctx.unwrap(rd()).message).decode())
wr(base64.b64encode(ctx.wrap(b"hello from gss-ntlmssp", True).message).decode())
ctx.verify_signature(b"mic data", rd())
wr(base64.b64encode(ctx.get_signature(b"mic data")).decode())
`

async function run(options: NtlmContextOptions, acceptorBindings: string): Promise<string> {
  const { send, next, close } = startGssAcceptor(ACCEPTOR, [acceptorBindings])
  try {
    const ctx = new NtlmContext(options)
    send((await ctx.step()) ?? assert.fail())
    const challenge = new Uint8Array(Buffer.from(await next(), 'base64'))
    send((await ctx.step(challenge)) ?? assert.fail())
    const status = await next()
    if (!status.startsWith('OK')) return status
    const { header, data } = ctx.wrap(new TextEncoder().encode('hello from psrp'))
    send(new Uint8Array([...header, ...data]))
    assert.equal(Buffer.from(await next(), 'base64').toString(), 'hello from psrp')
    const reply = new Uint8Array(Buffer.from(await next(), 'base64'))
    const plain = ctx.unwrap({ header: reply.subarray(0, 16), data: reply.subarray(16) })
    assert.equal(new TextDecoder().decode(plain), 'hello from gss-ntlmssp')
    // gss_get_mic / gss_verify_mic share the sequence numbers and RC4 handles with sealing.
    const micData = new TextEncoder().encode('mic data')
    send(ctx.sign(micData))
    ctx.verify(micData, new Uint8Array(Buffer.from(await next(), 'base64')))
    return status
  } finally {
    close()
  }
}

const appData = (fill: number): Uint8Array =>
  new Uint8Array([...Buffer.from('tls-server-end-point:'), ...new Uint8Array(32).fill(fill)])
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

test('gss-ntlmssp accepts our AUTHENTICATE and seals/unseals with us', { skip }, async () => {
  const status = await run({ username: 'LAB\\alice', password: 'Passw0rd!', workstation: 'CLIENT' }, '')
  assert.match(status, /^OK LAB\\alice/)
})

test('gss-ntlmssp with channel bindings: matching accepted, mismatching refused', { skip }, async () => {
  const base = { username: 'LAB\\alice', password: 'Passw0rd!', spn: 'HTTP/localhost' }
  assert.match(
    await run({ ...base, channelBindings: { tlsServerEndPoint: new Uint8Array(32) } }, hex(appData(0))),
    /^OK/,
  )
  assert.match(
    await run({ ...base, channelBindings: { applicationData: appData(0) } }, hex(appData(1))),
    /^FAIL/,
  )
})

test('gss-ntlmssp refuses a wrong password', { skip }, async () => {
  assert.match(await run({ username: 'LAB\\alice', password: 'wrong' }, ''), /^FAIL/)
})
