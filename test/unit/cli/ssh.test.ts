import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { HostKeyVerificationError, type SSHHostKey } from '../../../src/index.ts'
import { privateKeyIsEncrypted, sshConnectionOptions, withHostKeyHint } from '../../../src/cli/ssh.ts'
import { UsageError } from '../../../src/cli/args.ts'

const hasKeygen = spawnSync('ssh-keygen', ['-?'], { encoding: 'utf8' }).error === undefined

test(
  'privateKeyIsEncrypted: OpenSSH keys by cipher name, PEM and PKCS#8 headers',
  { skip: !hasKeygen && 'no ssh-keygen' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'psrp-key-'))
    try {
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'plain')])
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', join(dir, 'enc')])
      assert.equal(privateKeyIsEncrypted(readFileSync(join(dir, 'plain'))), false)
      assert.equal(privateKeyIsEncrypted(readFileSync(join(dir, 'enc'))), true)
      assert.equal(privateKeyIsEncrypted(readFileSync(join(dir, 'enc'), 'utf8')), true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    assert.equal(
      privateKeyIsEncrypted(
        '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n',
      ),
      true,
    )
    assert.equal(
      privateKeyIsEncrypted(
        '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----',
      ),
      true,
    )
    assert.equal(privateKeyIsEncrypted('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----'), false)
    assert.equal(privateKeyIsEncrypted('not a key'), false)
  },
)

const io = (env: NodeJS.ProcessEnv) => ({
  env,
  input: { isTTY: false } as unknown as NodeJS.ReadStream,
  error: { write: () => true } as unknown as NodeJS.WriteStream,
})

test('sshConnectionOptions: password and agent from the environment, host key policy from the flags', async () => {
  const base = { kind: 'ssh', host: 'h' } as const
  assert.deepEqual(await sshConnectionOptions('run', base, io({})), { host: 'h', agent: false })
  // a password joins keyboard-interactive; the agent stays in play next to it
  assert.deepEqual(
    await sshConnectionOptions(
      'run',
      { ...base, port: 2, username: 'u', hostKeyFingerprint: 'SHA256:x', subsystem: 's', timeoutMs: 9 },
      io({ PSRP_PASSWORD: 'pw', SSH_AUTH_SOCK: '/run/agent' }),
    ),
    {
      host: 'h',
      port: 2,
      username: 'u',
      password: 'pw',
      keyboardInteractive: true,
      agent: '/run/agent',
      hostKey: { fingerprint: 'SHA256:x' },
      subsystem: 's',
      connectTimeout: 9,
    },
  )
  // without explicit credentials the library's defaults (agent, ~/.ssh/id_*) apply
  assert.deepEqual(await sshConnectionOptions('run', base, io({ SSH_AUTH_SOCK: '/run/agent' })), {
    host: 'h',
  })
  await assert.rejects(
    sshConnectionOptions('run', { ...base, identityFile: '/nonexistent/key' }, io({})),
    (e: unknown) => e instanceof UsageError && /--identity \/nonexistent\/key: ENOENT/.test(e.message),
  )
  await assert.rejects(
    sshConnectionOptions('run', { ...base, knownHostsFile: '/nonexistent/kh' }, io({})),
    (e: unknown) => e instanceof UsageError && /--known-hosts \/nonexistent\/kh: ENOENT/.test(e.message),
  )
})

test('withHostKeyHint: an unknown key names the fingerprint and the CLI flags; others are unchanged', () => {
  const key: SSHHostKey = {
    host: 'h',
    port: 22,
    keyType: 'ssh-ed25519',
    key: new Uint8Array([1]),
    fingerprint: 'SHA256:abc',
    md5Fingerprint: 'MD5:00',
  }
  const unknown = new HostKeyVerificationError(
    "the host key of h is unknown: ssh-ed25519 SHA256:abc is not in /x. Verify the fingerprint out of band, then add the key (ssh-keyscan h >> ~/.ssh/known_hosts) or pass hostKey: { fingerprint: 'SHA256:abc' }",
    'unknown',
    key,
    ['/x'],
  )
  const hinted = withHostKeyHint(unknown)
  assert.ok(hinted instanceof HostKeyVerificationError)
  assert.equal(hinted.problem, 'unknown')
  assert.doesNotMatch(hinted.message, /hostKey:/)
  assert.match(
    hinted.message,
    /ssh-keyscan h >> ~\/\.ssh\/known_hosts\), give such a file with --known-hosts <file>, or pin the key with --host-key SHA256:abc\./,
  )
  const changed = new HostKeyVerificationError('HOST KEY CHANGED', 'changed', key, [])
  assert.equal(withHostKeyHint(changed), changed)
})
