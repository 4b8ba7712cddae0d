/**
 * The `psrp` command over SSH and named pipes, end to end: `psrp …` (run as test/helpers/cli.ts says)
 * spawned (as in cli.test.ts) against a private sshd (test/peers/sshd, `powershell` subsystem) and
 * against pwsh processes started with `-CustomPipeName`; plus `psrp cmd` through PowerShell on a
 * local pwsh. Every SSH child runs with HOME set to an empty temp dir and no SSH_AUTH_SOCK, so the
 * machine's own ~/.ssh (keys, config, known_hosts) and agent play no part. The password and key
 * passphrase prompts run in tmux (a real terminal). Skips without pwsh, or without root/sshd for the
 * SSH part, or tmux for the prompts (fails under PSRP_REQUIRE_PEERS=1).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findPipeForPid, pipePath } from '../../src/index.ts'
import { findPwsh, peerSkip, pwshSkip } from '../helpers/peers.ts'
import { psrpShellCommand, runCli, type CliResult } from '../helpers/cli.ts'
import { startSshd, sshdUnavailable, type SshdPeer } from '../peers/sshd/index.ts'

const pwsh = findPwsh()
const skipPwsh = pwshSkip(pwsh)
const sshSkip = skipPwsh || peerSkip('sshd', sshdUnavailable() === undefined, sshdUnavailable() ?? '')
const hasTmux = spawnSync('tmux', ['-V'], { timeout: 5000 }).status === 0
const tmuxSkip = sshSkip || peerSkip('tmux', hasTmux, 'apt-get install tmux')
const pipeSkip = process.platform === 'win32' ? 'the --pipe tests use Unix domain sockets' : skipPwsh

/** An empty HOME for the SSH children (no keys, config or known_hosts of this machine). */
const home = mkdtempSync(join(tmpdir(), 'psrp-cli-ssh-home-'))
after(() => rmSync(home, { recursive: true, force: true }))

/** Runs the CLI with an empty HOME and no SSH agent or secrets from this environment. */
function psrp(
  args: string[],
  options: {
    env?: Record<string, string>
    input?: string
    timeout?: number
    onStdout?: (chunk: string) => void
  } = {},
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, PSRP_PWSH: pwsh ?? '', NO_COLOR: '', HOME: home }
  delete env['SSH_AUTH_SOCK']
  delete env['PSRP_PASSWORD']
  delete env['PSRP_SSH_PASSPHRASE']
  Object.assign(env, options.env)
  return runCli(args, { env, input: options.input, timeout: options.timeout, onStdout: options.onStdout })
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

// the suites use different peers: run them side by side
describe('psrp over SSH, named pipes and local cmd', { concurrency: true }, () => {
  test('usage errors for the new connection flags exit 2 with a hint', async () => {
    const cases: [string[], RegExp][] = [
      [['run', '--host', 'w', '--ssh', 'h', '1'], /--host and --ssh conflict: give one of --host/],
      [['run', '--pipe', '12', '--local', '1'], /--pipe and --local conflict/],
      [['cmd', '--ssh', 'h', '--pipe', 'x', 'ls'], /--ssh and --pipe conflict/],
      [['run', '--ssh', 'h', '--insecure', '1'], /SSH host keys are always verified.*--known-hosts/],
      [['copy', '-i', 'k', 'a', 'b'], /--identity needs --ssh/],
      [['run', '--ssh', 'u@h', '-u', 'v', '1'], /either as --ssh user@host or with --user/],
      [['run', '--ssh', 'h', '--host-key', 'abc', '1'], /--host-key must be a fingerprint/],
      [['run', '--ssh', 'h:99999', '1'], /the port must be 1 to 65535/],
    ]
    const results = await Promise.all(cases.map(([args]) => psrp(args)))
    results.forEach((r, i) => {
      const [args, pattern] = cases[i] as [string[], RegExp]
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, pattern)
      assert.match(r.stderr, new RegExp(`try 'psrp ${args[0]} --help'`))
    })
    const help = await psrp(['run', '--help'])
    assert.equal(help.code, 0)
    for (const flag of ['--ssh', '--pipe', '--identity', '--known-hosts', '--host-key', '--subsystem'])
      assert.ok(help.stdout.includes(flag), `run --help lacks ${flag}`)
  })

  test('--pipe <name> without such a pipe fails at once, naming the pipe and where it looked', async () => {
    const name = `psrp-no-such-pipe-${process.pid}`
    const [r, byPath, baseline] = await Promise.all([
      psrp(['run', '--pipe', name, '1'], { timeout: 120_000 }),
      psrp(['shell', '--pipe', join(home, 'no-such-socket')], { timeout: 120_000 }),
      // started at the same time: what the machine's load alone costs a run that connects nowhere
      psrp(['run', '--pipe', name], { timeout: 120_000 }),
    ])
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.ok(
      r.stderr.includes(
        `psrp: ERR_TRANSPORT: no PowerShell pipe named '${name}': ${pipePath(name)} does not exist`,
      ),
      r.stderr,
    )
    assert.match(r.stderr, new RegExp(`-CustomPipeName ${name}`))
    // the library alone waits 30 s for the socket to appear; the check looks for 5 s
    assert.equal(baseline.code, 2, baseline.stderr)
    assert.ok(
      r.exitedAt - baseline.exitedAt < 15_000,
      `took ${r.exitedAt} ms, a usage error ${baseline.exitedAt} ms`,
    )
    assert.equal(byPath.code, 1)
    assert.ok(byPath.stderr.includes(`no PowerShell pipe at ${join(home, 'no-such-socket')}`), byPath.stderr)
  })

  test('--ssh to a host that does not resolve says so, even without credentials', async () => {
    const r = await psrp(['run', '--ssh', 'ops@nosuchhost.invalid', '1'], { timeout: 120_000 })
    assert.equal(r.code, 1)
    assert.match(
      r.stderr,
      /^psrp: ERR_TRANSPORT: cannot connect to nosuchhost\.invalid over SSH: .*(ENOTFOUND|EAI_AGAIN)/m,
    )
    assert.doesNotMatch(r.stderr, /credentials|privateKey|PSRP_PASSWORD/)
  })

  describe('psrp cmd through PowerShell on a local pwsh', { skip: skipPwsh }, () => {
    test(
      'live stdout, stderr lines, exit code, stdin lines, a missing program',
      { timeout: 90_000 },
      async () => {
        // the program prints "two" only once we have seen "one" (it gives up after 30 s and prints
        // "late"): output held back until the program ends would show as "late"
        const seen = join(home, `seen-one-${process.pid}`)
        const waitForUs = `i=0; while [ ! -f '${seen}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`
        const [live, stdin, missing, noStdin] = await Promise.all([
          psrp(
            [
              'cmd',
              'sh',
              '-c',
              `echo one; echo oops >&2; ${waitForUs}; if [ -f '${seen}' ]; then echo two; else echo late; fi; exit 3`,
            ],
            { onStdout: (chunk) => chunk.includes('one') && writeFileSync(seen, '') },
          ),
          psrp(['cmd', 'sort', '-r'], { input: 'a\nc\nb\n' }),
          psrp(['cmd', 'no-such-program-psrp']),
          psrp(['cmd', '--no-stdin', 'cat'], { input: 'not forwarded\n' }),
        ])
        assert.equal(live.code, 3, live.stderr)
        assert.equal(live.stdout, 'one\ntwo\n', 'the first line arrived while the program ran')
        assert.equal(live.stderr, 'oops\n')
        assert.equal(stdin.code, 0, stdin.stderr)
        assert.equal(stdin.stdout, 'c\nb\na\n')
        assert.equal(missing.code, 127)
        assert.match(missing.stderr, /no-such-program-psrp/)
        assert.equal(noStdin.code, 0, noStdin.stderr)
        assert.equal(noStdin.stdout, '')
      },
    )
  })

  describe('psrp over SSH', { skip: sshSkip }, () => {
    let peer: SshdPeer | undefined
    const sshd = (): SshdPeer => {
      if (peer === undefined) throw new Error('sshd peer not started')
      return peer
    }
    const target = (): string => `${sshd().username}@${sshd().host}:${sshd().port}`
    /** `--ssh user@host:port --known-hosts <peer's file>` plus a key, unless `key` is false. */
    const ssh = (key = true): string[] => [
      '--ssh',
      target(),
      '--known-hosts',
      sshd().knownHostsPath,
      ...(key ? ['-i', sshd().privateKeyPath] : []),
    ]
    const dir = mkdtempSync(join(tmpdir(), 'psrp-cli-ssh-'))
    before(async () => {
      peer = await startSshd({ pwsh: pwsh as string })
    })
    after(async () => {
      await peer?.close()
      rmSync(dir, { recursive: true, force: true })
    })

    test(
      'run: key, password, encrypted key and pinned host key logins; output and exit codes',
      { timeout: 90_000 },
      async () => {
        const [key, password, encrypted, pinned, failing] = await Promise.all([
          psrp(['run', ...ssh(), '[Environment]::UserName; "{0}" -f (6*7); exit 4']),
          psrp(['run', ...ssh(false), '"by password"'], { env: { PSRP_PASSWORD: sshd().password } }),
          psrp(['run', ...ssh(false), '-i', sshd().encryptedKeyPath, '"by encrypted key"'], {
            env: { PSRP_SSH_PASSPHRASE: sshd().keyPassphrase },
          }),
          psrp([
            'run',
            '--ssh',
            target(),
            '--host-key',
            sshd().hostKeyFingerprint,
            '-i',
            sshd().privateKeyPath,
            '--json',
            '$PSVersionTable.PSVersion.Major',
          ]),
          psrp(['run', ...ssh(), 'Write-Error nope; "after"']),
        ])
        assert.equal(key.code, 4, key.stderr)
        assert.equal(key.stdout, `${sshd().username}\n42\n`)
        assert.equal(password.code, 0, password.stderr)
        assert.equal(password.stdout, 'by password\n')
        assert.equal(encrypted.code, 0, encrypted.stderr)
        assert.equal(encrypted.stdout, 'by encrypted key\n')
        assert.equal(pinned.code, 0, pinned.stderr)
        assert.equal(pinned.stdout, '7\n')
        assert.equal(failing.code, 1)
        assert.equal(failing.stdout, 'after\n')
        assert.match(failing.stderr, /nope/)
      },
    )

    test(
      'host keys: unknown and wrong keys fail with the fingerprint and a hint; logins that cannot work say why',
      { timeout: 60_000 },
      async () => {
        const wrongPin = `SHA256:${'A'.repeat(43)}`
        const [unknown, wrong, noCreds, badPassword, encryptedNoTty, badSubsystem] = await Promise.all([
          psrp(['run', '--ssh', target(), '-i', sshd().privateKeyPath, '"must not run"']),
          psrp(['run', '--ssh', target(), '--host-key', wrongPin, '-i', sshd().privateKeyPath, '1']),
          psrp(['run', ...ssh(false), '1']),
          psrp(['run', ...ssh(false), '1'], { env: { PSRP_PASSWORD: 'not the password' } }),
          psrp(['run', ...ssh(false), '-i', sshd().encryptedKeyPath, '1']),
          psrp(['run', ...ssh(), '--subsystem', 'nosuch', '1']),
        ])
        const fp = sshd().hostKeyFingerprint
        assert.equal(unknown.code, 1)
        assert.equal(unknown.stdout, '')
        // a host key failure has its own code
        assert.match(unknown.stderr, /^psrp: ERR_HOST_KEY: /m)
        assert.match(wrong.stderr, /^psrp: ERR_HOST_KEY: /m)
        assert.ok(unknown.stderr.includes(`is unknown: ssh-ed25519 ${fp}`), unknown.stderr)
        assert.ok(unknown.stderr.includes(`--host-key ${fp}`), unknown.stderr)
        assert.match(unknown.stderr, /--known-hosts <file>/)
        assert.match(unknown.stderr, /never accepts an unknown host key/)
        assert.equal(wrong.code, 1)
        assert.ok(wrong.stderr.includes(fp), wrong.stderr)
        assert.match(wrong.stderr, /is not the expected/)
        assert.equal(noCreds.code, 1)
        assert.match(noCreds.stderr, /^psrp: ERR_AUTHENTICATION: .*set PSRP_PASSWORD/m)
        // in flags, never the library's option names
        assert.match(noCreds.stderr, /give a key with -i <file>, or set PSRP_PASSWORD/)
        assert.doesNotMatch(noCreds.stderr, /privateKey|keyboardInteractive|give a password/)
        assert.equal(badPassword.code, 1)
        assert.match(badPassword.stderr, /^psrp: ERR_AUTHENTICATION: SSH authentication of .* failed/m)
        assert.equal(encryptedNoTty.code, 2)
        assert.match(encryptedNoTty.stderr, /is encrypted: set PSRP_SSH_PASSPHRASE/)
        assert.equal(badSubsystem.code, 1)
        assert.match(badSubsystem.stderr, /refused the subsystem 'nosuch'/)
      },
    )

    test(
      'copy and fetch round-trip a file (SHA-256 checked); cmd runs a program with its exit code',
      { timeout: 90_000 },
      async () => {
        const data = randomBytes(1_500_000)
        const src = join(dir, 'src.bin')
        writeFileSync(src, data)
        const remote = `/tmp/psrp-cli-ssh-${process.pid}-${randomBytes(4).toString('hex')}.bin`
        const back = join(dir, 'back.bin')
        try {
          const [copied, cmd] = await Promise.all([
            psrp(['copy', ...ssh(), src, remote]),
            psrp(['cmd', ...ssh(), 'sh', '-c', 'id -un; echo "to stderr" >&2; exit 9']),
          ])
          assert.equal(copied.code, 0, copied.stderr)
          assert.equal(sha256(readFileSync(remote)), sha256(data))
          assert.equal(cmd.code, 9, cmd.stderr)
          assert.equal(cmd.stdout, `${sshd().username}\n`)
          assert.equal(cmd.stderr, 'to stderr\n')
          const [fetched, again] = await Promise.all([
            psrp(['fetch', ...ssh(), remote, back]),
            psrp(['copy', ...ssh(), src, remote]),
          ])
          assert.equal(fetched.code, 0, fetched.stderr)
          assert.equal(sha256(readFileSync(back)), sha256(data))
          assert.equal(again.code, 1, 'copy over an existing file without --force')
          assert.match(again.stderr, /^psrp: ERR_[A-Z_]+: .*psrp-cli-ssh-/m)
          assert.match(again.stderr, /give --force to replace it/)
          assert.doesNotMatch(again.stderr, /overwrite/)
        } finally {
          rmSync(remote, { force: true })
        }
      },
    )

    describe('prompts on a terminal (tmux)', { skip: tmuxSkip }, () => {
      const SOCKET = `psrp-cli-ssh-test-${process.pid}`
      const tmux = (...args: string[]): string => {
        const r = spawnSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', timeout: 10_000 })
        if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} failed: ${r.stderr}`)
        return r.stdout
      }
      const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'psrp')
      const waitFor = async (what: string, re: RegExp, timeoutMs = 30_000): Promise<string> => {
        const t0 = Date.now()
        for (;;) {
          const text = screen()
          if (re.test(text)) return text
          if (Date.now() - t0 > timeoutMs) assert.fail(`timed out waiting for ${what}; screen:\n${text}`)
          await new Promise((r) => setTimeout(r, 50))
        }
      }
      const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`
      after(() => {
        spawnSync('tmux', ['-L', SOCKET, 'kill-server'], { timeout: 10_000 })
      })

      test(
        'the password is asked for when no key works; an encrypted key asks for its passphrase',
        { timeout: 150_000 },
        async () => {
          const cli = psrpShellCommand
          const script = [
            'unset SSH_AUTH_SOCK PSRP_PASSWORD PSRP_SSH_PASSPHRASE',
            `${cli} run ${ssh(false).map(quote).join(' ')} '"prompted password ok"'; echo "EXIT1=$?"`,
            `${cli} run ${ssh(false).map(quote).join(' ')} -i ${quote(sshd().encryptedKeyPath)} '"prompted passphrase ok"'; echo "EXIT2=$?"`,
            `${cli} run ${ssh(false).map(quote).join(' ')} '"third try ok"'; echo "EXIT3=$?"`,
          ].join('; ')
          tmux(
            'new-session',
            '-d',
            '-s',
            'psrp',
            '-x',
            '160',
            '-y',
            '40',
            '-e',
            `HOME=${home}`,
            '-e',
            'NO_COLOR=1',
            '-c',
            fileURLToPath(new URL('../..', import.meta.url)),
            `sh -c ${quote(`${script}; sleep 600`)}`,
          )
          await waitFor(
            'the password prompt',
            new RegExp(`${sshd().username}@127\\.0\\.0\\.1's password: $`, 'm'),
          )
          tmux('send-keys', '-t', 'psrp', '-l', sshd().password)
          tmux('send-keys', '-t', 'psrp', 'Enter')
          const first = await waitFor('the first command', /EXIT1=\d+/)
          assert.match(first, /prompted password ok\nEXIT1=0/)
          assert.ok(!first.includes(sshd().password), 'the password was echoed')
          await waitFor('the passphrase prompt', /Enter passphrase for key '.*client_key_encrypted': $/m)
          tmux('send-keys', '-t', 'psrp', '-l', sshd().keyPassphrase)
          tmux('send-keys', '-t', 'psrp', 'Enter')
          const second = await waitFor('the second command', /EXIT2=\d+/)
          assert.match(second, /prompted passphrase ok\nEXIT2=0/)
          // a wrong password is asked for again, as ssh does (three tries)
          const prompt = `${sshd().username}@127\\.0\\.0\\.1's password: `
          await waitFor('the third password prompt', new RegExp(`EXIT2=0\\n${prompt}$`, 'm'))
          tmux('send-keys', '-t', 'psrp', '-l', 'wrong one')
          tmux('send-keys', '-t', 'psrp', 'Enter')
          await waitFor(
            'the second try',
            new RegExp(`Permission denied, please try again\\.\\n${prompt}$`, 'm'),
          )
          tmux('send-keys', '-t', 'psrp', '-l', 'wrong two')
          tmux('send-keys', '-t', 'psrp', 'Enter')
          await waitFor(
            'the third try',
            new RegExp(
              `Permission denied, please try again\\.\\n${prompt}\\*+\\nPermission denied, please try again\\.\\n${prompt}$`,
              'm',
            ),
          )
          tmux('send-keys', '-t', 'psrp', '-l', sshd().password)
          tmux('send-keys', '-t', 'psrp', 'Enter')
          const third = await waitFor('the third command', /EXIT3=\d+/)
          assert.match(third, /third try ok\nEXIT3=0/)
          assert.equal(third.match(/Permission denied, please try again\./g)?.length, 2)
        },
      )
    })
  })

  describe('psrp --pipe against pwsh -CustomPipeName', { skip: pipeSkip }, () => {
    let child: ChildProcess | undefined
    const name = `psrpcli${process.pid}`
    before(async () => {
      child = spawn(
        pwsh as string,
        ['-NoLogo', '-NoProfile', '-NonInteractive', '-CustomPipeName', name, '-Command', 'Start-Sleep 600'],
        { stdio: 'ignore', detached: true, env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' } },
      )
      const path = pipePath(name)
      for (let i = 0; i < 300 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 100))
      assert.ok(existsSync(path), `${path} did not appear`)
    })
    after(() => {
      try {
        process.kill(-(child?.pid as number), 'SIGKILL')
      } catch {
        // already gone
      }
    })

    test(
      'run by pipe name and by socket path runs inside that process; cmd works too',
      { timeout: 90_000 },
      async () => {
        // a pipe serves one client at a time: one after the other
        const byName = await psrp(['run', '--pipe', name, '$PID; exit 6'])
        assert.equal(byName.code, 6, byName.stderr)
        const pid = Number(byName.stdout.trim())
        assert.ok(pid > 0, byName.stdout)
        const byPath = await psrp(['run', '--pipe', pipePath(name), '$PID'])
        assert.equal(byPath.code, 0, byPath.stderr)
        assert.equal(Number(byPath.stdout.trim()), pid)
        const cmd = await psrp(['cmd', '--pipe', name, 'sh', '-c', 'echo "$PPID"; exit 5'])
        assert.equal(cmd.code, 5, cmd.stderr)
        assert.equal(Number(cmd.stdout.trim()), pid, 'the program is a child of the target pwsh')
        // the console shows [Process:<pid>] before the prompt, as Enter-PSHostProcess does
        const shell = await psrp(['shell', '--pipe', name], { input: '"in the shell"\nexit 3\n' })
        assert.equal(shell.code, 3, shell.stderr)
        assert.match(
          shell.stdout,
          new RegExp(`^\\[Process:${pid}\\]: PS [^\\n]*> "in the shell"\\nin the shell$`, 'm'),
        )
        const missing = await psrp(['run', '--pipe', `${name}-nope`, '--timeout', '2', '1'])
        assert.equal(missing.code, 1)
        assert.match(missing.stderr, /^psrp: ERR_[A-Z_]+: /m)
      },
    )

    test('run by pid reaches the default PSHost pipe of that process', { timeout: 90_000 }, async () => {
      // a pwsh of its own: one process is not reached through its custom and its default pipe in
      // turn (pwsh re-creates its listeners after each client, and the two have raced under load)
      // it says when its startup is over: the PSHost pipe's socket appears earlier, while the
      // listener behind it may not answer yet on a loaded machine
      const ready = join(home, `ready-${process.pid}-${Date.now()}`)
      const own = spawn(
        pwsh as string,
        [
          '-NoLogo',
          '-NoProfile',
          '-NonInteractive',
          '-Command',
          `Set-Content -LiteralPath '${ready}' -Value ok; Start-Sleep 600`,
        ],
        {
          stdio: 'ignore',
          detached: true,
          env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' },
        },
      )
      try {
        let path = ''
        for (let i = 0; i < 600 && (path === '' || !existsSync(ready)); i++) {
          if (path === '') path = await findPipeForPid(own.pid as number).catch(() => '')
          if (path === '' || !existsSync(ready)) await new Promise((r) => setTimeout(r, 100))
        }
        assert.ok(existsSync(ready), 'pwsh did not finish starting within 60 s')
        assert.notEqual(path, '', 'the PSHost pipe did not appear')
        const byPid = await psrp(['run', '--pipe', String(own.pid), '$PID'])
        assert.equal(byPid.code, 0, byPid.stderr)
        // the pipe is named after the process that serves it (the global tool's dotnet child)
        assert.equal(byPid.stdout.trim(), path.split('.').at(-3))
      } finally {
        try {
          process.kill(-(own.pid as number), 'SIGKILL')
        } catch {
          // already gone
        }
      }
    })
  })
})
