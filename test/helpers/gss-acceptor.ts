/**
 * A python3-gssapi acceptor script run as a child process for interop tests against MIT GSSAPI and
 * gss-ntlmssp: tokens travel as base64 lines on stdin and stdout. The child gets a gss-ntlmssp user
 * file with one user (LAB\alice, `Passw0rd!`) in a temporary folder, removed on {@link close}.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const PYTHON = '/usr/bin/python3'

/** True when python3-gssapi and the gss-ntlmssp mechanism are installed. */
export function gssNtlmsspPresent(): boolean {
  return (
    existsSync(PYTHON) &&
    existsSync('/etc/gss/mech.d/mech.ntlmssp.conf') &&
    spawnSync(PYTHON, ['-c', 'import gssapi'], { stdio: 'ignore' }).status === 0
  )
}

/** A running acceptor script. */
export interface GssAcceptor {
  /** Writes one token (a base64 line). */
  send(bytes: Uint8Array): void
  /** The next line the script wrote; rejects when it exited first. */
  next(): Promise<string>
  /** Ends the script and removes its folder. */
  close(): void
}

/**
 * Starts `script` with `args`; `env(dir)` adds variables naming files in the script's temporary
 * folder. Stderr is inherited, so a failing script explains itself in the test output.
 */
export function startGssAcceptor(
  script: string,
  args: readonly string[] = [],
  env: (dir: string) => Record<string, string> = () => ({}),
): GssAcceptor {
  const dir = mkdtempSync(join(tmpdir(), 'psrp-gss-'))
  const users = join(dir, 'users.txt')
  writeFileSync(users, 'LAB:alice:Passw0rd!\n')
  const child = spawn(PYTHON, ['-c', script, ...args], {
    env: {
      ...process.env,
      NTLM_USER_FILE: users,
      NETBIOS_COMPUTER_NAME: 'LABSRV',
      NETBIOS_DOMAIN_NAME: 'LAB',
      ...env(dir),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]()
  return {
    send: (bytes) => {
      child.stdin.write(Buffer.from(bytes).toString('base64') + '\n')
    },
    next: async () => {
      const r = await lines.next()
      if (r.done === true) throw new Error('acceptor exited early')
      return r.value
    },
    close: () => {
      child.stdin.end()
      child.kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
