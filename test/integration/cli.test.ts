/**
 * The `psrp` command end to end: `psrp …` (run as test/helpers/cli.ts says) spawned against a local pwsh
 * and against the WinRM bridge (test/helpers/winrm-bridge: WS-Man on 127.0.0.1, PowerShell shells in
 * real pwsh, WinRS shells as local processes) over HTTP (Basic allowed with --allow-unencrypted) and
 * HTTPS (test CA via --ca, and --insecure with a self-signed certificate).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findPwsh, opensslSkip, pwshSkip } from '../helpers/peers.ts'
import { freePort } from '../helpers/net.ts'
import { runCli, type CliResult } from '../helpers/cli.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { makeCertificates, type TestCertificates } from '../helpers/http-servers.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const tlsSkip = skip || opensslSkip()
const USER = 'psrp'
const PASSWORD = 'cli pässword'

/** Runs the CLI against this machine's pwsh; never hangs (killed after `timeout`). */
function psrp(
  args: string[],
  options: {
    env?: Record<string, string>
    input?: string
    timeout?: number
    devNullStdin?: boolean
    closeStdoutAfter?: number
  } = {},
): Promise<CliResult> {
  return runCli(args, {
    env: { ...process.env, PSRP_PWSH: pwsh ?? '', NO_COLOR: '', ...options.env },
    input: options.input,
    timeout: options.timeout,
    devNullStdin: options.devNullStdin,
    closeStdoutAfter: options.closeStdoutAfter,
  })
}

test('usage errors exit 2 with a hint; --help per subcommand; --version still works', async () => {
  const [noScript, badFlag, conflict, version, runHelp, cmdHelp, shellHelp, copyHelp, decodeHelp, decodeBad] =
    await Promise.all([
      psrp(['run']),
      psrp(['run', '--bogus', 'x']),
      psrp(['cmd', '--host', 'w', '--local', 'whoami']),
      psrp(['--version']),
      psrp(['run', '--help']),
      psrp(['cmd', '--help']),
      psrp(['shell', '--help']),
      psrp(['copy', '--help']),
      psrp(['decode', '--help']),
      psrp(['decode', '--bogus']),
    ])
  // every command takes --help, decode too
  assert.equal(decodeHelp.code, 0, decodeHelp.stderr)
  assert.ok(decodeHelp.stdout.startsWith('usage: psrp decode [--no-body] [file]'), decodeHelp.stdout)
  assert.match(decodeHelp.stdout, /Ctrl\+D/)
  assert.equal(decodeHelp.stderr, '')
  assert.equal(decodeBad.code, 2)
  assert.match(decodeBad.stderr, /^psrp decode: unknown option --bogus\ntry 'psrp decode --help'\n$/)
  assert.match(
    copyHelp.stdout,
    /^usage: psrp copy \[options\] <local path> <remote path>\n\nCopies a local file, or a directory/,
  )
  assert.equal(noScript.code, 2)
  assert.match(noScript.stderr, /^psrp run: missing the script \(or -f <file>\)\ntry 'psrp run --help'\n$/)
  assert.equal(badFlag.code, 2)
  assert.match(badFlag.stderr, /psrp run: unknown option --bogus/)
  assert.equal(conflict.code, 2)
  assert.match(conflict.stderr, /psrp cmd: --host and --local conflict/)
  assert.equal(version.code, 0)
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
  for (const [r, usage] of [
    [runHelp, 'usage: psrp run'],
    [cmdHelp, 'usage: psrp cmd'],
    [shellHelp, 'usage: psrp shell'],
    [copyHelp, 'usage: psrp copy'],
  ] as const) {
    assert.equal(r.code, 0)
    assert.ok(r.stdout.startsWith(usage), r.stdout)
    assert.match(r.stdout, /--configuration-name/)
  }
})

describe('psrp run against a local pwsh', { skip }, () => {
  test(
    'formatted output (server-side, at --width), stderr streams, exit codes',
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'psrp-cli-'))
      try {
        writeFileSync(join(dir, 's.ps1'), '"from file"; exit 7\n')
        const [table, narrow, failing, errors, exitN, file, stdin] = await Promise.all([
          psrp([
            'run',
            '[pscustomobject]@{ Name = "alpha"; Size = 42 }, [pscustomobject]@{ Name = "beta"; Size = 7 } | Format-Table',
          ]),
          psrp(['run', '--width', '30', '[pscustomobject]@{ Text = "w" * 100 } | Format-List']),
          psrp(['run', '"before"; throw "it broke"']),
          psrp(['run', 'Write-Warning careful; Write-Error oops; "after"']),
          psrp(['run', 'exit 5']),
          psrp(['run', '-f', join(dir, 's.ps1')]),
          psrp(['run', '-f', '-'], { input: '1 + 1' }),
        ])
        assert.equal(table.code, 0, table.stderr)
        assert.match(table.stdout, /^Name\s+Size$/m)
        assert.match(table.stdout, /^alpha\s+42$/m)
        assert.match(table.stdout, /^beta\s+7$/m)
        assert.equal(narrow.code, 0, narrow.stderr)
        const lines = narrow.stdout.split('\n').filter((l) => l.includes('w'))
        assert.ok(lines.length >= 3, narrow.stdout)
        for (const l of lines) assert.ok(l.length <= 30, `wider than --width 30: ${JSON.stringify(l)}`)
        assert.equal(failing.code, 1)
        assert.equal(failing.stdout, 'before\n')
        assert.match(failing.stderr, /it broke/)
        assert.match(failing.stderr, /^Exception: it broke$/m)
        assert.equal(errors.code, 1, 'an error record makes the exit code 1')
        assert.equal(errors.stdout, 'after\n')
        assert.match(errors.stderr, /^WARNING: careful$/m)
        assert.match(errors.stderr, /^(Write-Error: )?oops$/m)
        assert.match(errors.stderr, /^Write-Error: oops$/m)
        assert.equal(exitN.code, 5)
        assert.equal(file.code, 7)
        assert.equal(file.stdout, 'from file\n')
        assert.equal(stdin.stdout, '2\n')
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )

  test(
    "errors print as pwsh 7's ConciseView: the reason, the position after the first line, parse errors",
    { timeout: 90_000 },
    async () => {
      const [thrown, cmdlet, second, parse, term] = await Promise.all([
        psrp(['run', 'throw "kaboom"']),
        psrp(['run', 'Get-Item /nope-psrp']),
        psrp(['run', '"first"\nthrow "line2"']),
        psrp(['run', '1 + + )']),
        psrp(['run', 'no-such-command-psrp']),
      ])
      // what pwsh 7.6 itself prints for each (pwsh -c …, without colour)
      assert.equal(thrown.code, 1)
      assert.equal(thrown.stderr, 'Exception: kaboom\n')
      assert.equal(cmdlet.code, 1)
      assert.equal(cmdlet.stderr, "Get-Item: Cannot find path '/nope-psrp' because it does not exist.\n")
      assert.equal(second.stdout, 'first\n')
      assert.equal(
        second.stderr,
        'Exception: \nLine |\n   2 |  throw "line2"\n     |  ~~~~~~~~~~~~~\n     | line2\n',
      )
      assert.equal(parse.code, 1)
      assert.equal(
        parse.stderr,
        "ParserError: \nLine |\n   1 |  1 + + )\n     |       ~\n     | Missing expression after unary operator '+'.\n",
      )
      assert.match(term.stderr, /^no-such-command-psrp: The term 'no-such-command-psrp' is not recognized/)
    },
  )

  test(
    "piped stdin is the script's pipeline input; -n turns that off; /dev/null does not wait",
    { timeout: 90_000 },
    async () => {
      const [piped, off, devNull, noInput, script] = await Promise.all([
        psrp(['run', '$input | % { "got $_" }'], { input: 'a\nb\n' }),
        psrp(['run', '-n', '$input | % { "got $_" }; "done"'], { input: 'a\nb\n' }),
        psrp(['run', '"no stdin"'], { devNullStdin: true }),
        psrp(['run', '--json', '@($input).Count'], { devNullStdin: true }),
        psrp(['run', '-f', '-'], { input: '"script from stdin"' }),
      ])
      assert.equal(piped.code, 0, piped.stderr)
      assert.equal(piped.stdout, 'got a\ngot b\n')
      assert.equal(off.code, 0, off.stderr)
      assert.equal(off.stdout, 'done\n')
      assert.equal(devNull.code, 0, devNull.stderr)
      assert.equal(devNull.stdout, 'no stdin\n')
      assert.equal(noInput.stdout, '0\n')
      assert.equal(script.stdout, 'script from stdin\n')
    },
  )

  test(
    'a stdout closed by its reader (| head) ends run, --json and cmd quietly: exit 141, the pipeline stopped',
    { timeout: 90_000 },
    async () => {
      // endless producers: only a stopped remote pipeline lets these end
      const [text, json, cmd] = await Promise.all([
        psrp(['run', 'while ($true) { "y" }'], { closeStdoutAfter: 4 }),
        psrp(['run', '--json', 'while ($true) { 1 }'], { closeStdoutAfter: 4 }),
        psrp(['cmd', 'sh', '-c', 'while :; do echo y; done'], { closeStdoutAfter: 4 }),
      ])
      for (const [name, r] of [
        ['run', text],
        ['run --json', json],
        ['cmd', cmd],
      ] as const) {
        assert.equal(r.code, 141, `${name}: ${r.stderr}`)
        assert.equal(r.stderr, '', `${name}: no stack trace, no message`)
      }
      assert.ok(text.stdout.startsWith('y\ny\n'), text.stdout)
      assert.ok(json.stdout.startsWith('1\n'), json.stdout)
    },
  )

  test('a script file that cannot be read is named, errno in words', { timeout: 30_000 }, async () => {
    const r = await psrp(['run', '-f', 'missing-psrp.ps1'])
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'psrp: cannot read missing-psrp.ps1: no such file\n')
  })

  test('--json: one typed JSON object per line', { timeout: 60_000 }, async () => {
    const r = await psrp([
      'run',
      '--json',
      '42; "text"; [long]9007199254740993; [datetime]::new(2024, 5, 6, 7, 8, 9, [DateTimeKind]::Utc); [pscustomobject]@{ a = 1; b = @(1, "x") }; @{ k = [guid]::Empty }; [ConsoleColor]::Red',
    ])
    assert.equal(r.code, 0, r.stderr)
    const values = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown)
    assert.deepEqual(values, [
      42,
      'text',
      { '@type': 'System.Int64', value: '9007199254740993' },
      { '@type': 'System.DateTime', value: '2024-05-06T07:08:09Z' },
      { '@type': 'System.Management.Automation.PSCustomObject', a: 1, b: [1, 'x'] },
      {
        '@type': 'System.Collections.Hashtable',
        value: { k: { '@type': 'System.Guid', value: '00000000-0000-0000-0000-000000000000' } },
      },
      { '@type': 'System.ConsoleColor', value: 12, name: 'Red' },
    ])
  })
})

describe('psrp copy and fetch against a local pwsh', { skip }, () => {
  test(
    'copy then fetch round-trips bytes; an existing destination needs --force',
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'psrp-cli-'))
      try {
        const data = randomBytes(700_000)
        const src = join(dir, 'src.bin')
        writeFileSync(src, data)
        const remote = join(dir, 'remote.bin')
        const back = join(dir, 'back.bin')
        const copied = await psrp(['copy', src, remote])
        assert.equal(copied.code, 0, copied.stderr)
        assert.ok(readFileSync(remote).equals(data))
        const again = await psrp(['copy', src, remote])
        assert.equal(again.code, 1)
        assert.match(again.stderr, /^psrp: ERR_[A-Z_]+: .*remote\.bin/m)
        writeFileSync(src, 'changed')
        const forced = await psrp(['copy', '--force', src, remote])
        assert.equal(forced.code, 0, forced.stderr)
        assert.equal(readFileSync(remote, 'utf8'), 'changed')
        const fetched = await psrp(['fetch', remote, back])
        assert.equal(fetched.code, 0, fetched.stderr)
        assert.equal(readFileSync(back, 'utf8'), 'changed')
        const missing = await psrp(['fetch', join(dir, 'nope.bin'), join(dir, 'x.bin')])
        assert.equal(missing.code, 1)
        assert.match(missing.stderr, /^psrp: ERR_[A-Z_]+: .*nope\.bin/m)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    },
  )
})

describe('psrp against the WinRM bridge', { skip }, () => {
  let http: WinRMBridge | undefined
  let https: WinRMBridge | undefined
  let certs: TestCertificates | undefined
  let dir = ''
  const env = { PSRP_PASSWORD: PASSWORD }
  const httpFlags = (): string[] => [
    '--host',
    '127.0.0.1',
    '--port',
    String(http?.port),
    '--auth',
    'basic',
    '--user',
    USER,
    '--allow-unencrypted',
  ]

  before(async () => {
    http = await startWinRMBridge({ pwsh: pwsh as string, username: USER, password: PASSWORD })
    dir = mkdtempSync(join(tmpdir(), 'psrp-cli-'))
  })
  after(async () => {
    await http?.close()
    await https?.close()
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  test(
    'run over HTTP with Basic: formatted output, --json, exit code; Basic over HTTP needs the flag',
    { timeout: 120_000 },
    async () => {
      const [formatted, json, failing, refused, wrongPassword] = await Promise.all([
        psrp(['run', ...httpFlags(), '[pscustomobject]@{ Name = "alpha"; Size = 42 } | Format-Table'], {
          env,
        }),
        psrp(['run', ...httpFlags(), '--json', '[pscustomobject]@{ n = [long]1 }'], { env }),
        psrp(['run', ...httpFlags(), 'Get-Item /does/not/exist'], { env }),
        psrp(
          [
            'run',
            '--host',
            '127.0.0.1',
            '--port',
            String(http?.port),
            '--auth',
            'basic',
            '--user',
            USER,
            '1',
          ],
          { env },
        ),
        psrp(['run', ...httpFlags(), '1'], { env: { PSRP_PASSWORD: 'wrong' } }),
      ])
      assert.equal(formatted.code, 0, formatted.stderr)
      assert.match(formatted.stdout, /^alpha\s+42$/m)
      assert.match(formatted.stderr, /psrp: warning: --allow-unencrypted/)
      assert.deepEqual(JSON.parse(json.stdout), {
        '@type': 'System.Management.Automation.PSCustomObject',
        n: { '@type': 'System.Int64', value: '1' },
      })
      assert.equal(failing.code, 1)
      assert.match(failing.stderr, /Get-Item: Cannot find path '\/does\/not\/exist'/)
      assert.equal(refused.code, 1)
      assert.match(refused.stderr, /^psrp: ERR_[A-Z_]+: .*Basic/m)
      // in the CLI's flags, not the library's option names
      assert.match(refused.stderr, /--ssl, or give --allow-unencrypted/)
      assert.doesNotMatch(refused.stderr, /allowUnencryptedBasic/)
      assert.equal(wrongPassword.code, 1)
      assert.match(wrongPassword.stderr, /^psrp: ERR_AUTHENTICATION: /m)
      assert.doesNotMatch(
        wrongPassword.stderr + formatted.stderr,
        /pässword|wrong/,
        'no password in messages',
      )
    },
  )

  test('copy and fetch through WinRM', { timeout: 120_000 }, async () => {
    const data = randomBytes(300_000)
    const src = join(dir, 'w-src.bin')
    writeFileSync(src, data)
    const copied = await psrp(['copy', ...httpFlags(), src, join(dir, 'w-remote.bin')], { env })
    assert.equal(copied.code, 0, copied.stderr)
    const fetched = await psrp(
      ['fetch', ...httpFlags(), join(dir, 'w-remote.bin'), join(dir, 'w-back.bin')],
      { env },
    )
    assert.equal(fetched.code, 0, fetched.stderr)
    assert.ok(readFileSync(join(dir, 'w-back.bin')).equals(data))
  })

  test(
    'shell over WinRM with piped input: [server] prompt, multi-line, Read-Host, exit n',
    { timeout: 60_000 },
    async () => {
      const r = await psrp(['shell', ...httpFlags()], {
        env,
        input: 'if ($true) {\n"in-" + "block" }\n$a = Read-Host "Name"\nbridge\n"got $a"\nexit 4\n',
      })
      assert.equal(r.code, 4, r.stderr)
      assert.match(r.stdout, /^\[127\.0\.0\.1\]: PS .*> if \(\$true\) \{\n>> "in-" \+ "block" \}\nin-block$/m)
      assert.match(r.stdout, /^Name: bridge\n/m)
      assert.match(r.stdout, /^got bridge$/m)
    },
  )

  test('a closed port is a typed transport error, exit 1', { timeout: 60_000 }, async () => {
    const port = await freePort()
    const r = await psrp(
      [
        'run',
        '--host',
        '127.0.0.1',
        '--port',
        String(port),
        '--auth',
        'basic',
        '--user',
        USER,
        '--allow-unencrypted',
        '--timeout',
        '5',
        '1',
      ],
      { env },
    )
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^psrp: ERR_(TRANSPORT|TIMEOUT): /m)
  })

  test('cmd: live stdout/stderr and the remote exit code', { timeout: 60_000 }, async () => {
    const r = await psrp(
      ['cmd', ...httpFlags(), '/bin/sh', '-c', 'echo first; sleep 2; echo second >&2; exit 5'],
      { env },
    )
    assert.equal(r.code, 5, r.stderr)
    assert.equal(r.stdout, 'first\n')
    assert.match(r.stderr, /^second$/m)
    const firstAt = r.stdoutAt[0] as number
    assert.ok(
      r.exitedAt - firstAt >= 1500,
      `stdout arrived while the program ran (first at ${firstAt} ms, exit at ${r.exitedAt} ms)`,
    )
    const cat = await psrp(['cmd', ...httpFlags(), 'cat'], { env, input: 'piped line\n' })
    assert.equal(cat.code, 0, cat.stderr)
    assert.equal(cat.stdout, 'piped line\n')
    // a closed stdout ends an endless program quietly (WinRS terminates it)
    const endless = await psrp(['cmd', ...httpFlags(), '/bin/sh', '-c', 'while :; do echo y; done'], {
      env,
      closeStdoutAfter: 4,
    })
    assert.equal(endless.code, 141, endless.stderr)
    assert.equal(endless.stderr.replace(/^psrp: warning: --allow-unencrypted: .*\n/, ''), '')
  })

  test(
    'HTTPS: --ca validates the test CA; --insecure accepts a self-signed certificate with a warning',
    { skip: tlsSkip, timeout: 120_000 },
    async () => {
      certs = makeCertificates()
      https = await startWinRMBridge({
        pwsh: pwsh as string,
        username: USER,
        password: PASSWORD,
        https: { key: certs.serverKey, cert: certs.serverCert },
      })
      const ca = join(dir, 'ca.pem')
      writeFileSync(ca, certs.ca)
      const base = [
        '--host',
        '127.0.0.1',
        '--port',
        String(https.port),
        '--ssl',
        '--auth',
        'basic',
        '--user',
        USER,
      ]
      const [trusted, untrusted] = await Promise.all([
        psrp(['run', ...base, '--ca', ca, '"over tls"'], { env }),
        psrp(['run', ...base, '"x"'], { env }),
      ])
      assert.equal(trusted.code, 0, trusted.stderr)
      assert.equal(trusted.stdout, 'over tls\n')
      assert.equal(untrusted.code, 1)
      assert.match(untrusted.stderr, /^psrp: ERR_[A-Z_]+: .*certificate/im)
      const selfSigned = await startWinRMBridge({
        pwsh: pwsh as string,
        username: USER,
        password: PASSWORD,
        https: { key: certs.selfSignedKey, cert: certs.selfSignedCert },
      })
      try {
        const r = await psrp(
          [
            'cmd',
            '--host',
            '127.0.0.1',
            '--port',
            String(selfSigned.port),
            '--ssl',
            '--insecure',
            '--auth',
            'basic',
            '--user',
            USER,
            'echo',
            'insecure ok',
          ],
          { env },
        )
        assert.equal(r.code, 0, r.stderr)
        assert.equal(r.stdout, 'insecure ok\n')
        assert.match(r.stderr, /psrp: warning: --insecure: the certificate of 127\.0\.0\.1 is not validated/)
      } finally {
        await selfSigned.close()
      }
    },
  )
})
