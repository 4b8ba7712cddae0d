import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  UsageError,
  connectionSpec,
  parseCmdArgs,
  parseOptions,
  parseRunArgs,
  parseShellArgs,
  parseTransferArgs,
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
  usage(() => parseRunArgs(['--user', 'bob', 'x']), /--user needs --host/, 'run')
  usage(() => parseRunArgs(['--ssl', '--port', '1', 'x']), /--port, --ssl need --host/)
  usage(() => parseRunArgs(['--configuration-name', 'JEA', 'x']), /--configuration-name needs --host/)
})

test('connection: WinRM defaults (ntlm over HTTP), certificate auth, validation of flags', () => {
  const spec = parseRunArgs(['-H', 'win1', '-u', 'bob', 'Get-Date']).connection
  assert.deepEqual(spec, {
    kind: 'wsman',
    server: 'win1',
    ssl: false,
    auth: 'ntlm',
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
  usage(() => parseRunArgs(['-H', 'w', 'x']), /--auth ntlm needs --user/)
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

test('cmd: options end at the program; it needs a WinRM host', () => {
  const c = parseCmdArgs(['-H', 'w', '-u', 'b', '--no-cmd-shell', 'ping', '-n', '1', '--host', 'x'])
  assert.equal(c.executable, 'ping')
  assert.deepEqual(c.args, ['-n', '1', '--host', 'x'])
  assert.equal(c.skipCmdShell, true)
  usage(() => parseCmdArgs(['whoami']), /WinRS needs a WinRM server/, 'cmd')
  usage(() => parseCmdArgs(['-H', 'w', '-u', 'b']), /missing the program/)
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
