/**
 * Drives `gss_acceptor.py` (python3-gssapi acceptor of MIT krb5) from tests: one child process per
 * security context, JSON lines over stdin/stdout.
 *
 * ```ts
 * const acc = await startAcceptor(kdc, { spnego: false, cbt })
 * const r = await acc.call({ op: 'accept', token: b64(token) })
 * await acc.close()
 * ```
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { KdcPeer } from './kdc.ts'

/** Debian's python3 (the one with python3-gssapi). */
export const PEER_PYTHON = process.env['PSRP_PEER_PYTHON'] ?? '/usr/bin/python3'
const SCRIPT = join(import.meta.dirname, 'gss_acceptor.py')

/** True when python3-gssapi is importable by {@link PEER_PYTHON}. */
export function gssapiAvailable(): boolean {
  if (!existsSync(PEER_PYTHON)) return false
  return spawnSync(PEER_PYTHON, ['-c', 'import gssapi'], { stdio: 'ignore' }).status === 0
}

/** One reply line (fields depend on the op). */
export type AcceptorReply = Record<string, string | boolean | null | undefined>

/** A running acceptor. */
export interface Acceptor {
  /** Sends one request and resolves to its reply. */
  call(request: Record<string, string>): Promise<AcceptorReply>
  close(): Promise<void>
}

/** Starts an acceptor for the KDC's service keytab (`--spnego` for an SPNEGO acceptor, `cbt` = application data). */
export async function startAcceptor(
  kdc: KdcPeer,
  options: { spnego?: boolean; cbt?: Uint8Array } = {},
): Promise<Acceptor> {
  const args = [SCRIPT]
  if (options.spnego === true) args.push('--spnego')
  if (options.cbt !== undefined) args.push('--cbt', Buffer.from(options.cbt).toString('hex'))
  const child = spawn(PEER_PYTHON, args, { env: kdc.env, stdio: ['pipe', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const lines = createInterface({ input: child.stdout })
  const waiting: ((line: string) => void)[] = []
  lines.on('line', (l) => waiting.shift()?.(l))
  const next = (): Promise<AcceptorReply> =>
    new Promise((resolve, reject) => {
      const onExit = (): void => reject(new Error(`gss_acceptor.py exited: ${stderr}`))
      child.once('exit', onExit)
      waiting.push((l) => {
        child.off('exit', onExit)
        resolve(JSON.parse(l) as AcceptorReply)
      })
    })
  await next()
  return {
    call(request) {
      const p = next()
      child.stdin.write(JSON.stringify(request) + '\n')
      return p
    },
    async close() {
      child.stdin.end()
      if (child.exitCode === null) await new Promise((r) => child.once('exit', r))
    },
  }
}
