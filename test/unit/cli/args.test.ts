import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  UsageError,
  connectionSpec,
  parseCmdArgs,
  parseDecodeArgs,
  parseOptions,
  parsePipeTarget,
  parseSshTarget,
  parseRunArgs,
  parseShellArgs,
  parseTransferArgs,
  transferHelp,
} from '../../../src/cli/args.ts'

const usage = (fn: () => unknown, pattern: RegExp, command?: string): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, String(e))
    assert.match(e.message, pattern)
    if (command !== undefined) assert.equal(e.command, command)
    return true
  })
}

test('parseOptions: long, short, inline values, booleans, -- and unknown options', () => {
  const spec = { port: { type: 'string', short: 'p' }, ssl: { type: 'boolean' } } as const
  const r = parseOptions('x', ['--port=1', 'a', '-p', '2', '--ssl', '--', '--ssl', '-p'], spec)
  assert.equal(r.values.get('port'), '2')
  assert.equal(r.values.get('ssl'), true)
  assert.deepEqual(r.positionals, ['a', '--ssl', '-p'])
  usage(() => parseOptions('x', ['--nope'], spec), /unknown option --nope/)
  usage(() => parseOptions('x', ['-z'], spec), /unknown option -z/)
  usage(() => parseOptions('x', ['--port'], spec), /--port needs a value/)
  usage(() => parseOptions('x', ['--ssl=yes'], spec), /--ssl takes no value/)
  // stopAtPositional hands everything after the first positional over untouched
  const s = parseOptions('x', ['--ssl', 'ping', '-n', '1', '--port', '3'], spec, { stopAtPositional: true })
  assert.deepEqual(s.positionals, ['ping', '-n', '1', '--port', '3'])
  assert.equal(s.values.has('port'), false)
})

test('connection: no --host (or --local) is a local pwsh and refuses remote-only flags', () => {
  assert.deepEqual(connectionSpec('run', new Map()), { kind: 'local' })
  assert.deepEqual(
    connectionSpec(
      'run',
      new Map<string, string | boolean>([
        ['local', true],
        ['timeout', '2.5'],
      ]),
    ),
    {
      kind: 'local',
      timeoutMs: 2500,
    },
  )
  usage(() => parseRunArgs(['--user', 'bob', 'x']), /--user needs --host or --ssh/, 'run')
  usage(() => parseRunArgs(['--ssl', '--port', '1', 'x']), /--ssl needs --host/)
  usage(() => parseRunArgs(['--port', '1', 'x']), /--port needs --host or --ssh/)
  usage(() => parseRunArgs(['--configuration-name', 'JEA', 'x']), /--configuration-name needs --host/)
})

test('connection: WinRM defaults (negotiate over HTTP), certificate auth, validation of flags', () => {
  const spec = parseRunArgs(['-H', 'win1', '-u', 'bob', 'Get-Date']).connection
  assert.deepEqual(spec, {
    kind: 'wsman',
    server: 'win1',
    ssl: false,
    auth: 'negotiate',
    insecure: false,
    allowUnencrypted: false,
    username: 'bob',
  })
  const full = parseRunArgs([
    '--host=win1',
    '--port',
    '5986',
    '--ssl',
    '--auth',
    'basic',
    '--user',
    'bob',
    '--insecure',
    '--ca',
    'ca.pem',
    '--encryption',
    'always',
    '--configuration-name',
    'JEA',
    '--timeout',
    '10',
    'x',
  ]).connection
  assert.deepEqual(full, {
    kind: 'wsman',
    server: 'win1',
    port: 5986,
    ssl: true,
    auth: 'basic',
    username: 'bob',
    insecure: true,
    allowUnencrypted: false,
    caFile: 'ca.pem',
    encryption: 'always',
    configurationName: 'JEA',
    timeoutMs: 10_000,
  })
  const cert = parseRunArgs(['-H', 'w', '--ssl', '--cert', 'c.pem', '--key', 'k.pem', 'x']).connection
  assert.equal(cert.kind === 'wsman' && cert.auth, 'certificate')
  usage(() => parseRunArgs(['-H', 'w', '--ssl', '--cert', 'c.pem', 'x']), /--cert and --key go together/)
  usage(() => parseRunArgs(['-H', 'w', '--cert', 'c.pem', '--key', 'k', 'x']), /needs --ssl/)
  usage(() => parseRunArgs(['-H', 'w', 'x']), /--auth negotiate needs --user/)
  const ccache = parseRunArgs(['-H', 'w', '--auth', 'kerberos', 'x']).connection
  assert.ok(ccache.kind === 'wsman' && ccache.auth === 'kerberos' && ccache.username === undefined)
  usage(
    () => parseRunArgs(['-H', 'w', '-u', 'b', '--auth', 'digest', 'x']),
    /--auth must be one of basic, certificate/,
  )
  usage(
    () => parseRunArgs(['-H', 'w', '-u', 'b', '--port', '70000', 'x']),
    /--port must be a number between 0 and 65535/,
  )
  usage(() => parseRunArgs(['-H', 'w', '-u', 'b', '--port', '1.5', 'x']), /--port must be an integer/)
  usage(() => parseRunArgs(['-H', 'w', '-u', 'b', '--timeout', 'soon', 'x']), /--timeout must be a number/)
  usage(() => parseRunArgs(['-H', 'w', '-u', 'b', '--insecure', 'x']), /--insecure applies to --ssl only/)
  usage(
    () => parseRunArgs(['-H', 'w', '-u', 'b', '--encryption', 'maybe', 'x']),
    /--encryption must be one of auto, always, never/,
  )
})

test('run: script, -f file, --json, --width, and mistakes', () => {
  const r = parseRunArgs(['--json', '-w', '80', 'Get-Date'])
  assert.equal(r.script, 'Get-Date')
  assert.equal(r.json, true)
  assert.equal(r.width, 80)
  assert.equal(parseRunArgs(['-f', 'x.ps1']).file, 'x.ps1')
  assert.equal(parseRunArgs(['--help']).help, true)
  usage(() => parseRunArgs([]), /missing the script/)
  usage(() => parseRunArgs(['a', 'b']), /one script argument expected \(quote it\), got 2/)
  usage(() => parseRunArgs(['-f', 'x.ps1', 'a']), /either a script or -f/)
})

test('run: piped stdin is pipeline input unless -n/--no-stdin', () => {
  assert.equal(parseRunArgs(['$input']).stdin, true)
  assert.equal(parseRunArgs(['-n', '$input']).stdin, false)
  assert.equal(parseRunArgs(['--no-stdin', '-f', 'x.ps1']).stdin, false)
})

test('decode: --help, --no-body, a file or stdin (-), one file at most', () => {
  assert.deepEqual(parseDecodeArgs(['--help']), { help: true, bodies: true })
  assert.deepEqual(parseDecodeArgs(['-h', 'x', 'y']), { help: true, bodies: true })
  assert.deepEqual(parseDecodeArgs([]), { help: false, bodies: true })
  assert.deepEqual(parseDecodeArgs(['-']), { help: false, bodies: true })
  assert.deepEqual(parseDecodeArgs(['--no-body', 'f.b64']), { help: false, bodies: false, file: 'f.b64' })
  usage(() => parseDecodeArgs(['a', 'b']), /unexpected arguments/, 'decode')
  usage(() => parseDecodeArgs(['--bogus']), /unknown option --bogus/, 'decode')
})

test('cmd: options end at the program; any connection kind', () => {
  const c = parseCmdArgs(['-H', 'w', '-u', 'b', '--no-cmd-shell', 'ping', '-n', '1', '--host', 'x'])
  assert.equal(c.executable, 'ping')
  assert.deepEqual(c.args, ['-n', '1', '--host', 'x'])
  assert.equal(c.skipCmdShell, true)
  // without WinRS (local pwsh, SSH, pipe) the program runs through PowerShell
  assert.deepEqual(parseCmdArgs(['whoami']), {
    help: false,
    connection: { kind: 'local' },
    skipCmdShell: false,
    rawStderr: false,
    stdin: true,
    executable: 'whoami',
    args: [],
  })
  assert.equal(parseCmdArgs(['-n', 'cat', '-n']).stdin, false)
  assert.equal(parseCmdArgs(['--raw-stderr', 'cmd']).rawStderr, true)
  // several targets: fleet mode, with its throttle; the one-target connection is a placeholder
  const fleet = parseCmdArgs(['--host', 'a,ssh://b', '--throttle', '4', 'hostname'])
  assert.deepEqual(fleet.fleet?.targets, ['a', 'ssh://b'])
  assert.equal(fleet.fleet?.throttle, 4)
  usage(() => parseCmdArgs(['--throttle', '4', 'hostname']), /--throttle needs several hosts/)
  assert.deepEqual(parseCmdArgs(['--no-stdin', 'cat', '-n']).args, ['-n'])
  const ssh = parseCmdArgs(['--ssh', 'h', 'ls', '-i', 'x'])
  assert.equal(ssh.connection.kind, 'ssh')
  assert.deepEqual(ssh.args, ['-i', 'x'])
  assert.equal(parseCmdArgs(['--pipe', '42', 'id']).connection.kind, 'pipe')
  usage(() => parseCmdArgs(['-H', 'w', '-u', 'b']), /missing the program/)
  usage(() => parseCmdArgs(['--ssh', 'h']), /missing the program/)
  assert.equal(parseCmdArgs(['--help']).help, true)
})

test('shell, copy and fetch arguments', () => {
  assert.deepEqual(parseShellArgs([]), { help: false, connection: { kind: 'local' } })
  usage(() => parseShellArgs(['extra']), /unexpected arguments/, 'shell')
  const t = parseTransferArgs('copy', ['--force', '--expand', '--no-progress', 'a.bin', 'C:\\temp\\a.bin'])
  assert.equal(t.source, 'a.bin')
  assert.equal(t.destination, 'C:\\temp\\a.bin')
  assert.equal(t.overwrite, true)
  assert.equal(t.expandVariables, true)
  assert.equal(t.progress, false)
  assert.equal(parseTransferArgs('fetch', ['r', 'l']).progress, true)
  usage(() => parseTransferArgs('fetch', ['only-one']), /expected <source> <destination>, got 1/, 'fetch')
})

test('copy and fetch help: files and directories', () => {
  for (const direction of ['copy', 'fetch'] as const) {
    const help = transferHelp(direction)
    assert.match(
      help,
      new RegExp(`^usage: psrp ${direction} \\[options\\] <(local|remote) path> <(local|remote) path>`),
    )
    assert.match(help, /a directory with everything in it/)
    assert.doesNotMatch(help, /<local file>/)
  }
})

test('--ssh [user@]host[:port]: user before the last @, ports, IPv6 in brackets', () => {
  assert.deepEqual(parseSshTarget('run', 'server1'), { host: 'server1' })
  assert.deepEqual(parseSshTarget('run', 'bob@server1:2222'), {
    host: 'server1',
    username: 'bob',
    port: 2222,
  })
  assert.deepEqual(parseSshTarget('run', 'bob@corp.example@h'), { host: 'h', username: 'bob@corp.example' })
  assert.deepEqual(parseSshTarget('run', '[::1]:22'), { host: '::1', port: 22 })
  assert.deepEqual(parseSshTarget('run', '[fe80::1]'), { host: 'fe80::1' })
  assert.deepEqual(parseSshTarget('run', 'fe80::1'), { host: 'fe80::1' })
  usage(() => parseSshTarget('run', 'h:0'), /the port must be 1 to 65535/)
  usage(() => parseSshTarget('run', 'h:ssh'), /the port must be 1 to 65535/)
  usage(() => parseSshTarget('run', 'h:'), /the port must be 1 to 65535/)
  usage(() => parseSshTarget('run', '@h'), /empty user name/)
  usage(() => parseSshTarget('run', 'bob@'), /missing the host/)
  usage(() => parseSshTarget('run', '[::1'), /missing '\]'/)
  usage(() => parseSshTarget('run', '[::1]x'), /unexpected text after '\]'/)
})

test('--ssh connection spec: --user/--port, key, known_hosts, pinned key, subsystem, timeout', () => {
  assert.deepEqual(parseRunArgs(['--ssh', 'h', 'x']).connection, { kind: 'ssh', host: 'h' })
  assert.deepEqual(
    parseRunArgs([
      '--ssh',
      'h',
      '-u',
      'bob',
      '-p',
      '2222',
      '-i',
      '~/.ssh/id_ed25519',
      '--known-hosts',
      'kh',
      '--subsystem',
      'pwsh',
      '-t',
      '5',
      'x',
    ]).connection,
    {
      kind: 'ssh',
      host: 'h',
      port: 2222,
      username: 'bob',
      identityFile: '~/.ssh/id_ed25519',
      knownHostsFile: 'kh',
      subsystem: 'pwsh',
      timeoutMs: 5000,
    },
  )
  const fp = 'SHA256:QhLLWGE5qGXvt47/tIzR3E0bCFbScgXm6AYDNw4mfLU'
  assert.deepEqual(parseShellArgs(['--ssh', 'a@h:22', '--host-key', fp]).connection, {
    kind: 'ssh',
    host: 'h',
    username: 'a',
    port: 22,
    hostKeyFingerprint: fp,
  })
  const md5 = 'MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48'
  const withMd5 = parseRunArgs(['--ssh', 'h', '--host-key', md5, 'x']).connection
  assert.equal(withMd5.kind === 'ssh' && withMd5.hostKeyFingerprint, md5)
  usage(() => parseRunArgs(['--ssh', 'u@h', '--user', 'v', 'x']), /either as --ssh user@host or with --user/)
  usage(() => parseRunArgs(['--ssh', 'h:1', '--port', '2', 'x']), /either as --ssh host:port or with --port/)
  usage(() => parseRunArgs(['--ssh', 'h', '--host-key', 'AA:BB', 'x']), /--host-key must be a fingerprint/)
  usage(
    () => parseRunArgs(['--ssh', 'h', '--known-hosts', 'k', '--host-key', fp, 'x']),
    /either --known-hosts or --host-key/,
  )
  usage(() => parseRunArgs(['--ssh', '', 'x']), /missing the host/)
  usage(() => parseRunArgs(['--ssh', 'h', '-i', '', 'x']), /--identity must not be empty/)
  // WinRM-only flags are refused, --insecure with the advice to verify the key instead
  usage(
    () => parseRunArgs(['--ssh', 'h', '-k', 'x']),
    /SSH host keys are always verified.*--known-hosts.*--host-key/,
  )
  usage(
    () => parseRunArgs(['--ssh', 'h', '--ssl', '--auth', 'basic', 'x']),
    /--ssl, --auth need --host \(WinRM\)/,
  )
  usage(
    () => parseRunArgs(['--ssh', 'h', '--configuration-name', 'JEA', 'x']),
    /--configuration-name needs --host/,
  )
  // and SSH-only flags need --ssh
  usage(() => parseRunArgs(['-H', 'w', '-u', 'b', '-i', 'k', 'x']), /--identity needs --ssh/)
  usage(
    () => parseRunArgs(['--known-hosts', 'k', '--subsystem', 's', 'x']),
    /--known-hosts, --subsystem need --ssh/,
  )
})

test('--pipe: a pid, a pipe name or a socket path; no port or user', () => {
  assert.deepEqual(parsePipeTarget('run', '4242'), { pid: 4242 })
  assert.deepEqual(parsePipeTarget('run', 'psrptest'), { pipeName: 'psrptest' })
  assert.deepEqual(parsePipeTarget('run', 'PSHost.1.2.DefaultAppDomain.pwsh'), {
    pipeName: 'PSHost.1.2.DefaultAppDomain.pwsh',
  })
  assert.deepEqual(parsePipeTarget('run', '/tmp/CoreFxPipe_x'), { path: '/tmp/CoreFxPipe_x' })
  assert.deepEqual(parsePipeTarget('run', '\\\\.\\pipe\\x'), { path: '\\\\.\\pipe\\x' })
  usage(() => parsePipeTarget('run', ''), /--pipe must not be empty/)
  usage(() => parsePipeTarget('run', '0'), /not a process id/)
  assert.deepEqual(parseRunArgs(['--pipe', 'p', '-t', '3', 'x']).connection, {
    kind: 'pipe',
    target: { pipeName: 'p' },
    timeoutMs: 3000,
  })
  usage(
    () => parseRunArgs(['--pipe', 'p', '-u', 'bob', 'x']),
    /--user needs --host or --ssh \(a pipe has no port or user\)/,
  )
  usage(() => parseRunArgs(['--pipe', 'p', '--ssl', 'x']), /--ssl needs --host/)
})

test('target flags conflict: one of --host, --ssh, --pipe, --local', () => {
  usage(
    () => parseRunArgs(['--host', 'w', '--ssh', 'h', 'x']),
    /--host and --ssh conflict: give one of --host \(WinRM\)/,
  )
  usage(() => parseRunArgs(['--local', '--host', 'w', 'x']), /--host and --local conflict/)
  usage(() => parseShellArgs(['--ssh', 'h', '--pipe', '1']), /--ssh and --pipe conflict/, 'shell')
  usage(
    () => parseTransferArgs('copy', ['-H', 'w', '--ssh', 'h', '--pipe', 'p', 'a', 'b']),
    /--host and --ssh and --pipe conflict/,
    'copy',
  )
})
