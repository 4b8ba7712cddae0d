/**
 * PSRP over SSH against a private OpenSSH sshd (test/peers/sshd) whose `powershell` subsystem runs
 * pwsh 7.6: the issue-3 scenario list with password auth, then key, encrypted key and
 * keyboard-interactive logins, host-key verification failures, a dropped connection and transport
 * limits. Skips without root/sshd/pwsh (fails under PSRP_REQUIRE_PEERS=1).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { inspect } from 'node:util'
import { spawn, spawnSync } from 'node:child_process'
import {
  AuthenticationError,
  HostKeyVerificationError,
  InvalidArgumentError,
  NotSupportedError,
  PowerShell,
  RunspacePool,
  SSHConnection,
  TransportError,
  type SSHConnectionOptions,
} from '../../src/index.ts'
import { hashHostName, sha256Fingerprint } from '../../src/transport/known-hosts.ts'
import { definePoolScenarios } from './pool-scenarios.ts'
import { findPwsh, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { startSshd, sshdUnavailable, type SshdPeer } from '../peers/sshd/index.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh) || peerSkip('sshd', sshdUnavailable() === undefined, sshdUnavailable() ?? '')

let peer: SshdPeer | undefined
const sshd = (): SshdPeer => {
  if (peer === undefined) throw new Error('sshd peer not started')
  return peer
}
/** Options reaching the peer, verified against its known_hosts, plus `extra`. */
const options = (extra: Partial<SSHConnectionOptions> = {}): SSHConnectionOptions => ({
  host: sshd().host,
  port: sshd().port,
  username: sshd().username,
  hostKey: { knownHosts: sshd().knownHostsPath },
  sshConfig: false,
  connectTimeout: 30_000,
  ...extra,
})

/** Every descendant pid of `pid` whose command is sshd (the per-connection server processes). */
function sshdDescendants(pid: number): number[] {
  const out: number[] = []
  const r = spawnSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
  const rows = r.stdout
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .map(([p, pp, comm]) => ({ pid: Number(p), ppid: Number(pp), comm: comm ?? '' }))
  const walk = (parent: number): void => {
    for (const row of rows) {
      if (row.ppid === parent) {
        if (row.comm.startsWith('sshd')) out.push(row.pid)
        walk(row.pid)
      }
    }
  }
  walk(pid)
  return out
}

describe('SSH', { skip }, () => {
  before(async () => {
    peer = await startSshd({ pwsh: pwsh as string })
  })
  after(async () => {
    await peer?.close()
  })

  definePoolScenarios({
    label: 'SSH password',
    skip,
    connect: () => new SSHConnection(options({ password: sshd().password })),
    streamItems: Number(process.env.PSRP_STREAM_ITEMS ?? 50_000),
  })

  describe('SSH logins', () => {
    const smoke = async (extra: Partial<SSHConnectionOptions>, method: string): Promise<void> => {
      const conn = new SSHConnection(options(extra))
      await using pool = await RunspacePool.open(conn, { timeout: 60_000 })
      assert.equal(conn.authenticatedWith, method)
      const [who, n] = await new PowerShell(pool).addScript('[Environment]::UserName; 6*7').invoke()
      assert.equal(who, sshd().username)
      assert.equal(n, 42)
    }

    test('a private key file', () => smoke({ privateKeyPath: sshd().privateKeyPath }, 'publickey'))

    test('an encrypted key given as contents, with its passphrase', () =>
      smoke(
        { privateKey: readFileSync(sshd().encryptedKeyPath), passphrase: sshd().keyPassphrase },
        'publickey',
      ))

    test('keyboard-interactive answered from a callback (PAM asks for the password)', async () => {
      const asked: string[] = []
      await smoke(
        {
          keyboardInteractive: ({ prompts }) => {
            asked.push(...prompts.map((p) => p.prompt))
            return prompts.map(() => sshd().password)
          },
        },
        'keyboard-interactive',
      )
      assert.ok(
        asked.some((p) => /password/i.test(p)),
        `prompts: ${JSON.stringify(asked)}`,
      )
      assert.match(sshd().log(), /Accepted keyboard-interactive\/pam for psrptest/)
    })

    test('keyboardInteractive: true answers with the password before trying password auth', () =>
      smoke({ password: sshd().password, keyboardInteractive: true }, 'keyboard-interactive'))

    test('an explicit server command instead of the subsystem', () =>
      smoke(
        { password: sshd().password, command: `${sshd().subsystemPwsh} -sshs -NoLogo -NoProfile` },
        'password',
      ))

    test('a pinned SHA256 fingerprint and a hashed known_hosts entry are accepted', async () => {
      await smoke(
        { password: sshd().password, hostKey: { fingerprint: sshd().hostKeyFingerprint } },
        'password',
      )
      const hashed = join(sshd().dir, 'known_hosts_hashed')
      const name = `[127.0.0.1]:${sshd().port}`
      writeFileSync(hashed, `${hashHostName(name, randomBytes(20))} ${sshd().hostPublicKey}\n`)
      await smoke({ password: sshd().password, hostKey: { knownHosts: hashed } }, 'password')
    })

    test(
      'an ssh-agent holding the key',
      { skip: existsSync('/usr/bin/ssh-agent') ? false : 'no ssh-agent' },
      async () => {
        const sock = join(sshd().dir, 'agent.sock')
        const agent = spawn('/usr/bin/ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' })
        try {
          for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100))
          const add = spawnSync('/usr/bin/ssh-add', [sshd().privateKeyPath], {
            env: { ...process.env, SSH_AUTH_SOCK: sock },
            encoding: 'utf8',
          })
          assert.equal(add.status, 0, add.stderr)
          await smoke({ agent: sock }, 'agent')
        } finally {
          agent.kill()
        }
      },
    )

    test('a ~/.ssh/config alias supplies HostName, Port, User, IdentityFile and UserKnownHostsFile', async () => {
      const config = join(sshd().dir, 'ssh_config')
      writeFileSync(
        config,
        [
          'Host psrp-alias',
          '  HostName 127.0.0.1',
          `  Port ${sshd().port}`,
          `  User ${sshd().username}`,
          `  IdentityFile ${sshd().privateKeyPath}`,
          `  UserKnownHostsFile ${sshd().knownHostsPath}`,
          '',
        ].join('\n'),
      )
      const conn = new SSHConnection({ host: 'psrp-alias', sshConfig: config, agent: false })
      await using pool = await RunspacePool.open(conn, { timeout: 60_000 })
      assert.equal(conn.authenticatedWith, 'publickey')
      assert.deepEqual(await new PowerShell(pool).addScript('[Environment]::UserName').invoke(), [
        sshd().username,
      ])
    })
  })

  describe('SSH failures', () => {
    test('a wrong password is an AuthenticationError that does not echo the password', async () => {
      const secret = 'Wrong-Secret-4711'
      const conn = new SSHConnection(options({ password: secret }))
      const t0 = Date.now()
      await assert.rejects(RunspacePool.open(conn, { timeout: 60_000 }), (e: unknown) => {
        assert.ok(e instanceof AuthenticationError)
        assert.ok(!(e instanceof HostKeyVerificationError))
        assert.equal(e.code, 'ERR_AUTHENTICATION')
        assert.match(e.message, /psrptest@\[127\.0\.0\.1\]:\d+ failed \(tried password/)
        assert.ok(!e.message.includes(secret))
        return true
      })
      assert.ok(Date.now() - t0 < 15_000)
      for (const shown of [
        inspect(conn),
        JSON.stringify(conn),
        inspect(conn, { showHidden: true, depth: 9 }),
      ]) {
        assert.ok(!shown.includes(secret), shown)
      }
    })

    test('an unknown host key (empty known_hosts) is refused, naming its fingerprint', async () => {
      const empty = join(sshd().dir, 'known_hosts_empty')
      writeFileSync(empty, '')
      const conn = new SSHConnection(options({ password: sshd().password, hostKey: { knownHosts: empty } }))
      await assert.rejects(RunspacePool.open(conn, { timeout: 60_000 }), (e: unknown) => {
        assert.ok(e instanceof HostKeyVerificationError)
        assert.ok(e instanceof AuthenticationError)
        assert.equal(e.problem, 'unknown')
        assert.equal(e.hostKey.fingerprint, sshd().hostKeyFingerprint)
        assert.ok(e.message.includes(sshd().hostKeyFingerprint), e.message)
        assert.ok(e.message.includes('unknown'))
        return true
      })
    })

    test('a changed host key is refused, naming both fingerprints', async () => {
      const other = join(sshd().dir, 'other_host_key')
      spawnSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other])
      const otherPub = readFileSync(`${other}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ')
      const changed = join(sshd().dir, 'known_hosts_changed')
      writeFileSync(changed, `# stale entry\n[127.0.0.1]:${sshd().port} ${otherPub}\n`)
      const conn = new SSHConnection(options({ password: sshd().password, hostKey: { knownHosts: changed } }))
      await assert.rejects(RunspacePool.open(conn, { timeout: 60_000 }), (e: unknown) => {
        assert.ok(e instanceof HostKeyVerificationError)
        assert.equal(e.problem, 'changed')
        assert.match(e.message, /HOST KEY CHANGED/)
        assert.ok(e.message.includes(sshd().hostKeyFingerprint), e.message)
        assert.ok(e.message.includes(`${changed}:2`), e.message)
        assert.ok(
          e.message.includes(sha256Fingerprint(Buffer.from(otherPub.split(' ')[1] as string, 'base64'))),
        )
        return true
      })
    })

    test('a wrong pinned fingerprint is refused', async () => {
      const conn = new SSHConnection(
        options({
          password: sshd().password,
          hostKey: { fingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' },
        }),
      )
      await assert.rejects(RunspacePool.open(conn, { timeout: 60_000 }), {
        name: 'HostKeyVerificationError',
        problem: 'rejected',
      })
    })

    test('a subsystem the server lacks is a TransportError naming it', async () => {
      const conn = new SSHConnection(options({ password: sshd().password, subsystem: 'nosuch' }))
      await assert.rejects(RunspacePool.open(conn, { timeout: 60_000 }), (e: unknown) => {
        assert.ok(e instanceof TransportError)
        assert.match(e.message, /refused the subsystem 'nosuch'/)
        return true
      })
    })

    test('a closed port is a TransportError', async () => {
      const conn = new SSHConnection({ ...options({ password: 'x' }), port: 1 })
      await assert.rejects(RunspacePool.open(conn, { timeout: 20_000 }), (e: unknown) => {
        assert.ok(e instanceof TransportError)
        assert.match(e.message, /ECONNREFUSED/)
        return true
      })
    })

    test('contradictory options are refused up front', () => {
      assert.throws(
        () => new SSHConnection({ host: 'h', subsystem: 'a', command: 'b' }),
        InvalidArgumentError,
      )
      assert.throws(() => new SSHConnection({ host: 'h', keyboardInteractive: true }), InvalidArgumentError)
      assert.throws(() => new SSHConnection({ host: 'h', port: 70000 }), InvalidArgumentError)
    })

    test(
      'killing the SSH session mid-pipeline rejects pending calls with TransportError within seconds',
      { timeout: 60_000 },
      async () => {
        const before = new Set(sshdDescendants(sshd().pid))
        const pool = await RunspacePool.open(new SSHConnection(options({ password: sshd().password })), {
          timeout: 60_000,
        })
        const run = new PowerShell(pool).addScript('Start-Sleep 60').invoke()
        run.catch(() => undefined)
        await new Promise((r) => setTimeout(r, 500))
        const session = sshdDescendants(sshd().pid).filter((p) => !before.has(p))
        assert.ok(session.length > 0, 'no sshd session process found')
        const t0 = Date.now()
        for (const p of session) process.kill(p, 'SIGKILL')
        await assert.rejects(run, TransportError)
        assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`)
        await assert.rejects(new PowerShell(pool).addScript('1').invoke())
        await pool.close()
      },
    )

    test('disconnect and reconnect are not supported over SSH', async () => {
      await using pool = await RunspacePool.open(new SSHConnection(options({ password: sshd().password })), {
        timeout: 60_000,
      })
      await assert.rejects(pool.disconnect(), NotSupportedError)
      assert.deepEqual(await new PowerShell(pool).addScript('"still open"').invoke(), ['still open'])
    })
  })
})
