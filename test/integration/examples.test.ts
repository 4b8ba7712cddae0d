/**
 * Every program in examples/ runs, as a reader runs it from a checkout (`node --import tsx
 * examples/<name>.ts`, 'psrp' mapped to src by tsconfig.json), against this machine's peers: a local
 * pwsh, the private sshd (test/peers/sshd) and the WinRM test server with the NTLM acceptor in front
 * (test/helpers/winrm-bridge + test/peers/auth), each given to the example through the environment
 * variables its header documents. Each run must exit 0 and print what the example is for; a new file
 * in examples/ without a case here fails.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { findPwsh, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { ntlmPeerAvailable, startNtlmPeer, type NtlmPeer } from '../peers/auth/ntlm-peer.ts'
import { startSshd, sshdUnavailable, type SshdPeer } from '../peers/sshd/index.ts'

const ROOT = resolve(import.meta.dirname, '../..')
const EXAMPLES = join(ROOT, 'examples')
const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const sshSkip = skip || peerSkip('sshd', sshdUnavailable() === undefined, sshdUnavailable() ?? '')
const ntlmSkip =
  skip || peerSkip('NTLM auth peer', ntlmPeerAvailable(), 'apt-get install python3-gssapi gss-ntlmssp')
const RUN_TIMEOUT = 120_000

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs one example with tsx from the checkout; killed after {@link RUN_TIMEOUT}. */
function runExample(name: string, extraEnv: Record<string, string>): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: [dirname(pwsh ?? ''), process.env['PATH'] ?? ''].join(delimiter),
    NO_COLOR: '1',
  }
  // the examples read these; the machine's own values must not leak in
  for (const k of Object.keys(env))
    if (k.startsWith('PSRP_SSH_') || k.startsWith('PSRP_WINRM_')) delete env[k]
  delete env['PSRP_PASSWORD']
  Object.assign(env, extraEnv)
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(EXAMPLES, name)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT)
    child.once('error', reject)
    child.once('close', (code) => {
      clearTimeout(timer)
      resolveRun({ code, stdout, stderr })
    })
  })
}

function ok(r: Run, expected: RegExp): void {
  const what = `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
  assert.equal(r.code, 0, what)
  assert.match(r.stdout, expected, what)
}

/** What each example must print. */
const CASES: Record<string, RegExp> = {
  'local-pwsh.ts': /process node has id \d+\nwarnings: about to list; hadErrors: false/,
  'custom-host.ts': /\[host\] hello from the server[\s\S]*name=Ada user=ops choice=1 width=100 title=example/,
  'copy-fetch.ts': /copy 100%[\s\S]*fetch 100%[\s\S]*identical: true\nrefused as expected: .+/,
  // results arrive in completion order
  'fan-out.ts':
    /^(?=[\s\S]*localhost: .+, PowerShell 7\.\d+\.\d+ \(\d+ ms\))(?=[\s\S]*127\.0\.0\.1: failed to connect: )[\s\S]*1 of 2 hosts answered/,
  'ssh.ts': /PowerShell 7\.\d+\.\d+ over SSH as psrptest/,
  'winrm.ts': /PowerShell 7\.\d+\.\d+ on .+\nwhoami: \S+ \(exit 0\)/,
}

describe('examples/', { concurrency: true }, () => {
  test('every example has a case here (none is left unrun)', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.ts'))
    assert.deepEqual(files.sort(), Object.keys(CASES).sort())
  })

  for (const name of ['local-pwsh.ts', 'custom-host.ts', 'copy-fetch.ts', 'fan-out.ts'])
    test(`${name} against a local pwsh`, { skip }, async () => ok(await runExample(name, {}), CASES[name]!))

  describe('ssh.ts against the private sshd', { skip: sshSkip }, () => {
    let peer: SshdPeer | undefined
    const home = mkdtempSync(join(tmpdir(), 'psrp-examples-home-'))
    before(async () => {
      peer = await startSshd({ pwsh: pwsh as string })
    })
    after(async () => {
      await peer?.close()
      rmSync(home, { recursive: true, force: true })
    })
    test('password login, host key from a known_hosts file', async () => {
      const p = peer as SshdPeer
      const r = await runExample('ssh.ts', {
        HOME: home, // not this machine's ~/.ssh
        SSH_AUTH_SOCK: '',
        PSRP_SSH_HOST: p.host,
        PSRP_SSH_PORT: String(p.port),
        PSRP_SSH_USER: p.username,
        PSRP_PASSWORD: p.password,
        PSRP_SSH_KNOWN_HOSTS: p.knownHostsPath,
      })
      ok(r, CASES['ssh.ts']!)
    })
  })

  describe('winrm.ts against the WinRM test server (NTLM, encrypted HTTP)', { skip: ntlmSkip }, () => {
    let bridge: WinRMBridge | undefined
    let ntlm: NtlmPeer | undefined
    const password = randomBytes(9).toString('base64url')
    before(async () => {
      bridge = await startWinRMBridge({ pwsh: pwsh as string })
      ntlm = await startNtlmPeer({ upstream: bridge.url, users: [{ domain: 'LAB', user: 'psrp', password }] })
    })
    after(async () => {
      await ntlm?.close()
      await bridge?.close()
    })
    test('Negotiate with a password, PSRP and WinRS', async () => {
      const r = await runExample('winrm.ts', {
        PSRP_WINRM_HOST: '127.0.0.1',
        PSRP_WINRM_PORT: String((ntlm as NtlmPeer).port),
        PSRP_WINRM_USER: 'LAB\\psrp',
        PSRP_PASSWORD: password,
      })
      ok(r, CASES['winrm.ts']!)
      assert.ok((await (ntlm as NtlmPeer).status()).encryptedRequests > 0, 'messages were encrypted')
    })
  })
})
