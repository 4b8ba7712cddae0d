/**
 * Starts the project's NTLM WinRM peer (`winrm_auth_proxy.py`, Debian python3 + python3-gssapi +
 * gss-ntlmssp): an HTTP(S) front on 127.0.0.1 that authenticates with gss-ntlmssp's NTLM acceptor,
 * requires and decrypts WinRM message encryption over HTTP, checks channel bindings over HTTPS, and
 * forwards the plaintext SOAP to an upstream WS-Man server without authentication (the WinRM bridge).
 *
 * ```ts
 * const bridge = await startWinRMBridge({ pwsh })
 * const peer = await startNtlmPeer({ upstream: bridge.url, users: [{ domain: 'LAB', user: 'alice', password }] })
 * // new WSManConnection({ server: '127.0.0.1', port: peer.port, ssl: false, auth: 'ntlm', … })
 * console.log(await peer.status())   // { encryptedRequests, plaintextRequests, … }
 * await peer.close()
 * ```
 *
 * With `credssp: { cert, key }` the peer also offers `CredSSP` (MS-CSSP, `credssp_acceptor.py`): its
 * own TLS server per connection, inner SPNEGO/NTLM by gss-ntlmssp, the delegated password checked
 * against `users`, then `application/HTTP-CredSSP-session-encrypted` bodies in 16 KiB parts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** Debian's python3: the one that sees python3-gssapi (a pyenv python3 earlier on PATH does not). */
export const PEER_PYTHON = process.env['PSRP_PEER_PYTHON'] ?? '/usr/bin/python3'
const SCRIPT = join(import.meta.dirname, 'winrm_auth_proxy.py')
const MECH_DIR = '/etc/gss/mech.d'
const MECH_LIBS = [
  '/usr/lib/x86_64-linux-gnu/gssntlmssp/gssntlmssp.so',
  '/usr/lib/aarch64-linux-gnu/gssntlmssp/gssntlmssp.so',
]

/** One account of the acceptor's user file. */
export interface NtlmPeerUser {
  readonly domain: string
  readonly user: string
  readonly password: string
}

/** CredSSP settings of the peer ({@link NtlmPeerOptions.credssp}). */
export interface NtlmPeerCredSsp {
  /** Certificate and key (PEM) of the CredSSP TLS server (needed over HTTP too). */
  readonly cert: string | Buffer
  readonly key: string | Buffer
  /** Highest TLS version of the CredSSP tunnel (default `1.3`). */
  readonly tlsMaxVersion?: '1.2' | '1.3' | undefined
  /** The CredSSP version the acceptor announces, 2–6 (default 6). */
  readonly version?: 2 | 3 | 4 | 5 | 6 | undefined
}

/** Options of {@link startNtlmPeer}. */
export interface NtlmPeerOptions {
  /** The WS-Man URL requests are forwarded to (plain HTTP, no authentication). */
  readonly upstream: string
  /** Serve HTTPS with this certificate and key (PEM). */
  readonly tls?: { readonly cert: string | Buffer; readonly key: string | Buffer } | undefined
  /** Over HTTPS, refuse clients whose NTLM token carries no channel bindings. */
  readonly requireCbt?: boolean | undefined
  /** Accept clear-text SOAP over HTTP (default: answered with 401, like WinRM's AllowUnencrypted=false). */
  readonly allowUnencrypted?: boolean | undefined
  /** Accounts (gss-ntlmssp's NTLM_USER_FILE). */
  readonly users: readonly NtlmPeerUser[]
  /** NetBIOS domain and computer names the acceptor announces (default `LAB`, `WINRMSRV`). */
  readonly netbiosDomain?: string | undefined
  readonly netbiosComputer?: string | undefined
  /** Milliseconds to wait for `LISTENING` (default 30 000: the Python acceptor took over 10 s to start on a machine at load 12). */
  readonly startTimeout?: number | undefined
  /** Log every request to stderr. */
  readonly verbose?: boolean | undefined
  /** Port on 127.0.0.1 (default 0: a free one). */
  readonly port?: number | undefined
  /** Also offer and accept CredSSP. */
  readonly credssp?: NtlmPeerCredSsp | undefined
  /**
   * A Kerberos realm for the acceptor (`startKdc`): its krb5.conf and the service keytab
   * (`HTTP/<host>`), passed as KRB5_CONFIG and KRB5_KTNAME.
   */
  readonly krb5?: { readonly config: string; readonly keytab: string } | undefined
}

/** The peer's counters (GET /_psrp/status). */
export interface NtlmPeerStatus {
  /** TCP connections accepted (status requests included). */
  readonly connections: number
  readonly authenticated: number
  readonly authFailures: number
  /** Authentications whose token carried matching channel bindings. */
  readonly channelBound: number
  /** Authentications refused by `requireCbt`. */
  readonly cbtRefused: number
  readonly encryptedRequests: number
  readonly encryptedBytes: number
  readonly largestEncryptedRequest: number
  readonly encryptedReplies: number
  /** SOAP bodies that arrived unencrypted (over HTTPS, or refused over HTTP). */
  readonly plaintextRequests: number
  readonly plaintextRefused: number
  readonly decryptFailures: number
  /** Empty-body POSTs (the handshake before encrypted messages). */
  readonly handshakePosts: number
  readonly forwarded: number
  readonly upstreamErrors: number
  readonly clientHangups: number
  /** Authenticated initiator names, e.g. `LAB\alice`. */
  readonly users: readonly string[]
  /** CredSSP authentications completed (credentials delegated and accepted). */
  readonly credsspAuthenticated: number
  /** CredSSP authentications refused. */
  readonly credsspFailures: number
  /** The CredSSP version negotiated last (min of client and server), 0 before any. */
  readonly credsspVersion: number
  /** The version field the client sent last. */
  readonly credsspClientVersion: number
  /** TLS version of the last CredSSP tunnel (`TLSv1.2`, `TLSv1.3`). */
  readonly tlsVersion: string
  /** Cipher suite of the last CredSSP tunnel. */
  readonly tlsCipher: string
  /** Delegated CredSSP user names (`DOMAIN\user`), never the passwords. */
  readonly credsspUsers: readonly string[]
  /** Requests that came as multipart/x-multi-encrypted. */
  readonly multipartRequests: number
  /** Replies sent in more than one encrypted part. */
  readonly multipartReplies: number
  /** Most encrypted parts in one request / reply. */
  readonly maxRequestParts: number
  readonly maxReplyParts: number
  readonly largestEncryptedReply: number
}

/** A running peer. */
export interface NtlmPeer {
  readonly port: number
  /** `http(s)://127.0.0.1:<port>/wsman`. */
  readonly url: string
  /** The counters so far. */
  status(): Promise<NtlmPeerStatus>
  /** What the peer wrote to stderr so far. */
  stderr(): string
  /** Stops the process (closes its stdin, then SIGTERM, then SIGKILL) and removes its files. */
  close(): Promise<void>
}

/** True when Debian's python3 can import gssapi and gss-ntlmssp is registered as a GSSAPI mechanism. */
export function ntlmPeerAvailable(): boolean {
  if (!existsSync(PEER_PYTHON) || !existsSync(SCRIPT)) return false
  const mech =
    (existsSync(MECH_DIR) && readdirSync(MECH_DIR).some((f) => f.toLowerCase().includes('ntlmssp'))) ||
    MECH_LIBS.some((f) => existsSync(f))
  if (!mech) return false
  return spawnSync(PEER_PYTHON, ['-c', 'import gssapi'], { stdio: 'ignore', timeout: 10_000 }).status === 0
}

/** Starts the peer on a free port of 127.0.0.1 and waits until it listens. */
export async function startNtlmPeer(options: NtlmPeerOptions): Promise<NtlmPeer> {
  for (const u of options.users) {
    for (const v of [u.domain, u.user, u.password]) {
      if (/[\r\n]/.test(v)) throw new Error('NTLM peer users must not contain line breaks')
    }
    if (u.domain.includes(':') || u.user.includes(':'))
      throw new Error('domain and user must not contain ":"')
  }
  const dir = mkdtempSync(join(tmpdir(), 'psrp-ntlm-peer-'))
  const userFile = join(dir, 'users.txt')
  writeFileSync(userFile, options.users.map((u) => `${u.domain}:${u.user}:${u.password}\n`).join(''), {
    mode: 0o600,
  })
  const args = [
    SCRIPT,
    '--port',
    String(options.port ?? 0),
    '--upstream',
    options.upstream,
    '--user-file',
    userFile,
  ]
  if (options.tls !== undefined) {
    writeFileSync(join(dir, 'cert.pem'), options.tls.cert)
    writeFileSync(join(dir, 'key.pem'), options.tls.key, { mode: 0o600 })
    args.push('--cert', join(dir, 'cert.pem'), '--key', join(dir, 'key.pem'))
  }
  if (options.credssp !== undefined) {
    writeFileSync(join(dir, 'credssp-cert.pem'), options.credssp.cert)
    writeFileSync(join(dir, 'credssp-key.pem'), options.credssp.key, { mode: 0o600 })
    args.push('--credssp-cert', join(dir, 'credssp-cert.pem'), '--credssp-key', join(dir, 'credssp-key.pem'))
    args.push('--credssp-tls-max', options.credssp.tlsMaxVersion ?? '1.3')
    args.push('--credssp-version', String(options.credssp.version ?? 6))
  }
  if (options.requireCbt === true) args.push('--require-cbt')
  if (options.allowUnencrypted === true) args.push('--allow-unencrypted')
  if (options.verbose === true) args.push('--verbose')
  const child = spawn(PEER_PYTHON, args, {
    env: {
      ...process.env,
      PYTHONDONTWRITEBYTECODE: '1', // no __pycache__ beside the peer scripts
      NTLM_USER_FILE: userFile,
      NETBIOS_DOMAIN_NAME: options.netbiosDomain ?? 'LAB',
      NETBIOS_COMPUTER_NAME: options.netbiosComputer ?? 'WINRMSRV',
      ...(options.krb5 === undefined
        ? {}
        : { KRB5_CONFIG: options.krb5.config, KRB5_KTNAME: `FILE:${options.krb5.keytab}` }),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d: string) => {
    stderr += d
    if (process.env['PSRP_PEER_DEBUG'] === '1') process.stderr.write(d)
  })
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true })
  let port: number
  try {
    port = await waitListening(child, options.startTimeout ?? 30_000, () => stderr)
  } catch (e) {
    await stop(child)
    cleanup()
    throw e
  }
  const scheme = options.tls === undefined ? 'http' : 'https'
  let closed: Promise<void> | undefined
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}/wsman`,
    stderr: () => stderr,
    status: () => getStatus(scheme, port),
    close: () => {
      closed ??= stop(child).finally(cleanup)
      return closed
    },
  }
}

function waitListening(child: ChildProcess, ms: number, stderr: () => string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const fail = (why: string): void => {
      clearTimeout(timer)
      lines.close()
      reject(new Error(`NTLM peer ${why}; stderr:\n${stderr()}`))
    }
    const timer = setTimeout(() => fail(`did not listen within ${ms} ms`), ms)
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before listening`))
    child.once('error', (e) => fail(`could not start: ${e.message}`))
    lines.on('line', (line) => {
      const m = /^LISTENING (\d+)$/.exec(line.trim())
      if (m === null) return
      clearTimeout(timer)
      lines.close()
      child.removeAllListeners('exit')
      child.removeAllListeners('error')
      resolve(Number(m[1]))
    })
  })
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const within = (ms: number): Promise<boolean> =>
    Promise.race([
      exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
    ])
  child.stdin?.end()
  if (await within(2000)) return
  child.kill('SIGTERM')
  if (await within(2000)) return
  child.kill('SIGKILL')
  await within(2000)
}

function getStatus(scheme: 'http' | 'https', port: number): Promise<NtlmPeerStatus> {
  return new Promise<NtlmPeerStatus>((resolve, reject) => {
    const req = (scheme === 'http' ? httpRequest : httpsRequest)(
      {
        host: '127.0.0.1',
        port,
        path: '/_psrp/status',
        method: 'GET',
        agent: false,
        rejectUnauthorized: false, // the counters are not secret; the test CA is checked by the client under test
        timeout: 5000,
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as NtlmPeerStatus)
          } catch (e) {
            reject(e as Error)
          }
        })
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error('NTLM peer status timed out')))
    req.on('error', reject)
    req.end()
  })
}
