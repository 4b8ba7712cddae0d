/**
 * Helper of mit-gss-generate.py: reads `{ enctype, key, requests }` as JSON on stdin and writes the
 * psrp-made tokens (Wrap, WinRM layout, MIC) as JSON on stdout, for MIT to verify.
 */
import { getMic, wrap, wrapWinRM, KeyUsage } from '../../../../src/auth/kerberos/index.ts'
import { fromHex, toHex } from '../../../../src/internal/bytes.ts'

/** One token to make. */
export interface TokenRequest {
  sender: 'initiator' | 'acceptor'
  kind: 'winrm' | 'wrap' | 'wrap-integrity' | 'mic'
  plaintext: string
  seq: number
  confounder: string
  ec?: number
  rrc?: number
}

/** Makes the tokens for a batch of requests (also used by kerberos-mit-gss.test.ts). */
export function makeTokens(enctype: number, keyHex: string, requests: readonly TokenRequest[]): Record<string, unknown>[] {
  const key = { enctype, value: fromHex(keyHex) ?? new Uint8Array(0) }
  return requests.map((r) => {
    const sentByAcceptor = r.sender === 'acceptor'
    const pt = fromHex(r.plaintext) ?? new Uint8Array(0)
    const confounder = fromHex(r.confounder) ?? new Uint8Array(0)
    if (r.kind === 'winrm') {
      const usage = sentByAcceptor ? KeyUsage.GSS_ACCEPTOR_SEAL : KeyUsage.GSS_INITIATOR_SEAL
      const m = wrapWinRM(key, r.seq, pt, usage, { confounder })
      return { ...r, header: toHex(m.header), data: toHex(m.data) }
    }
    if (r.kind === 'mic') return { ...r, token: toHex(getMic(key, pt, { sequenceNumber: r.seq, sentByAcceptor })) }
    const token = wrap(key, pt, {
      sequenceNumber: r.seq,
      sentByAcceptor,
      confidential: r.kind === 'wrap',
      ...(r.ec === undefined || r.kind !== 'wrap' ? {} : { ec: r.ec }),
      ...(r.rrc === undefined ? {} : { rrc: r.rrc }),
      confounder,
    })
    return { ...r, token: toHex(token) }
  })
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let input = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', (chunk: string) => (input += chunk))
  process.stdin.on('end', () => {
    const { enctype, key, requests } = JSON.parse(input) as { enctype: number; key: string; requests: TokenRequest[] }
    process.stdout.write(JSON.stringify(makeTokens(enctype, key, requests)))
  })
}
