import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough, Writable } from 'node:stream'
import { AuthenticationError, HostKeyVerificationError, type SSHHostKey } from '../../../src/index.ts'
import {
  PASSWORD_PROMPTS,
  privateKeyIsEncrypted,
  sshConnectionOptions,
  withHostKeyHint,
  withSshConnection,
} from '../../../src/cli/ssh.ts'
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

/** A fake terminal: answers each password prompt written to `error` with the next of `answers`. */
function fakeTerminal(answers: string[]): {
  io: Parameters<typeof withSshConnection>[2]
  said: () => string
} {
  let said = ''
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input })
  const error = new Writable({
    write(chunk: Buffer, _enc, done) {
      said += chunk.toString()
      if (/password: $/.test(said)) {
        const next = answers.shift()
        if (next !== undefined) setImmediate(() => input.write(`${next}\r`))
      }
      done()
    },
  })
  return { io: { env: {}, input, error }, said: () => said }
}

test('a refused prompted SSH password is asked for again, three times in all (as ssh)', async () => {
  const spec = { kind: 'ssh', host: 'server1', username: 'ops' } as const
  const t = fakeTerminal(['one', 'two', 'three', 'never asked'])
  let attempts = 0
  await assert.rejects(
    withSshConnection('run', spec, t.io, async () => {
      attempts++
      throw new AuthenticationError(`refused ${attempts}`)
    }),
    (e: unknown) => e instanceof AuthenticationError && e.message === 'refused 4',
  )
  // the keys first, then one login per prompted password
  assert.equal(attempts, 1 + PASSWORD_PROMPTS)
  assert.equal(t.said().match(/ops@server1's password: /g)?.length, 3)
  assert.equal(t.said().match(/Permission denied, please try again\.\n/g)?.length, 2)

  const ok = fakeTerminal(['wrong', 'right'])
  let tries = 0
  const value = await withSshConnection('run', spec, ok.io, async () => {
    tries++
    if (tries < 3) throw new AuthenticationError('refused')
    return 'in'
  })
  assert.equal(value, 'in')
  assert.equal(ok.said().match(/password: /g)?.length, 2)
})

test('without a terminal a refused SSH login says -i or PSRP_PASSWORD; a given password is not asked again', async () => {
  const spec = { kind: 'ssh', host: 'server1' } as const
  const noTty = { env: {}, input: new PassThrough(), error: new PassThrough() }
  await assert.rejects(
    withSshConnection('run', spec, noTty, async () => {
      throw new AuthenticationError('no SSH credentials: give a password, privateKey/privateKeyPath')
    }),
    (e: unknown) =>
      e instanceof AuthenticationError &&
      /-i <file>.*PSRP_PASSWORD/.test(e.message) &&
      !/privateKey/.test(e.message),
  )
  const t = fakeTerminal(['x'])
  let attempts = 0
  await assert.rejects(
    withSshConnection('run', spec, { ...t.io, env: { PSRP_PASSWORD: 'given' } }, async () => {
      attempts++
      throw new AuthenticationError('refused')
    }),
    AuthenticationError,
  )
  assert.equal(attempts, 1)
  assert.equal(t.said(), '')
})
