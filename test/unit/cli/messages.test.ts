import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  AuthenticationError,
  ErrorRecord,
  FileTransferError,
  HostKeyVerificationError,
  InvalidArgumentError,
  PSObject,
  TransportError,
  type SSHHostKey,
} from '../../../src/index.ts'
import { connectionSpec, UsageError } from '../../../src/cli/args.ts'
import { cannotRead, reportError, sshNoPasswordToOffer } from '../../../src/cli/messages.ts'
import { formatErrorRecord } from '../../../src/cli/run.ts'

const wsman = (flags: [string, string | boolean][]) => connectionSpec('run', new Map(flags))

test('a refused overwrite speaks of --force, whatever the library said', () => {
  const library = new FileTransferError(
    "cannot fetch to '/tmp/x': the file exists (set overwrite to replace it)",
    'exists',
    '/tmp/x',
  )
  const r = reportError(library, { command: 'fetch' })
  assert.equal(r.code, 1)
  assert.match(r.message, /^psrp: ERR_FILE_TRANSFER: .*'\/tmp\/x'.*--force/)
  assert.doesNotMatch(r.message, /overwrite/)
  // another reason is passed through
  const missing = reportError(new FileTransferError('no such remote file', 'not-found', '/r'))
  assert.equal(missing.message, 'psrp: ERR_FILE_TRANSFER: no such remote file')
})

test('Basic or --encryption never over HTTP speak of --ssl and --allow-unencrypted (by class and flags)', () => {
  const library = new InvalidArgumentError('… or set allowUnencryptedBasic: true (the server also needs …)')
  const basic = wsman([
    ['host', 'w'],
    ['auth', 'basic'],
    ['user', 'u'],
  ])
  const r = reportError(library, { command: 'run', connection: basic })
  assert.equal(r.code, 1)
  assert.match(r.message, /^psrp: ERR_INVALID_ARGUMENT: Basic .*--ssl.*--allow-unencrypted/)
  assert.doesNotMatch(r.message, /allowUnencrypted/)
  const never = wsman([
    ['host', 'w'],
    ['user', 'u'],
    ['encryption', 'never'],
  ])
  const n = reportError(new InvalidArgumentError('set allowUnencrypted: true'), { connection: never })
  assert.match(n.message, /--encryption never .*--allow-unencrypted/)
  assert.doesNotMatch(n.message, /allowUnencrypted:/)
  // with --ssl (or another connection) the error is not about those flags: unchanged
  const ssl = wsman([
    ['host', 'w'],
    ['auth', 'basic'],
    ['user', 'u'],
    ['ssl', true],
  ])
  assert.equal(
    reportError(new InvalidArgumentError('other'), { connection: ssl }).message,
    'psrp: ERR_INVALID_ARGUMENT: other',
  )
})

test('an SSH login with nothing to offer speaks of -i and PSRP_PASSWORD, not library options', () => {
  const spec = connectionSpec('run', new Map([['ssh', 'ops@server1']]))
  assert.equal(spec.kind, 'ssh')
  if (spec.kind !== 'ssh') return
  const library = new AuthenticationError(
    'no SSH credentials for ops@server1: give a password, privateKey/privateKeyPath, keyboardInteractive or agent',
  )
  const e = sshNoPasswordToOffer(library, spec)
  assert.equal(e.code, 'ERR_AUTHENTICATION')
  assert.equal(e.cause, library)
  assert.match(e.message, /ops@server1/)
  assert.match(e.message, /-i <file>.*PSRP_PASSWORD/)
  assert.doesNotMatch(e.message, /privateKey|keyboardInteractive|give a password/)
})

test('host-key failures have their own code, still an AuthenticationError', () => {
  const key: SSHHostKey = {
    host: 'h',
    port: 22,
    keyType: 'ssh-ed25519',
    key: new Uint8Array([1]),
    fingerprint: 'SHA256:x',
    md5Fingerprint: 'MD5:x',
  }
  const e = new HostKeyVerificationError('HOST KEY CHANGED', 'changed', key, [])
  assert.equal(e.code, 'ERR_HOST_KEY')
  assert.ok(e instanceof AuthenticationError)
  assert.equal(new AuthenticationError('no').code, 'ERR_AUTHENTICATION')
  assert.match(reportError(e).message, /^psrp: ERR_HOST_KEY: HOST KEY CHANGED$/)
})

test('local file errors: errno in words, never the code twice', () => {
  const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'missing.ps1'"), {
    code: 'ENOENT',
  })
  assert.equal(
    reportError(cannotRead('missing.ps1', enoent)).message,
    'psrp: cannot read missing.ps1: no such file',
  )
  assert.equal(reportError(cannotRead('d', Object.assign(new Error('x'), { code: 'EISDIR' }))).code, 1)
  assert.equal(
    reportError(cannotRead('d', Object.assign(new Error('x'), { code: 'EISDIR' }))).message,
    'psrp: cannot read d: is a directory',
  )
  // a raw Node error keeps its message once
  assert.equal(reportError(enoent).message, "psrp: ENOENT: no such file or directory, open 'missing.ps1'")
  assert.equal(reportError(new UsageError('run', 'bad')).code, 2)
  assert.equal(reportError(new TransportError('gone')).message, 'psrp: ERR_TRANSPORT: gone')
})

/** An ErrorRecord with the properties pwsh 7.6 serialized (seen on the wire for each case). */
function record(init: {
  message: string
  thrown?: boolean
  myCommand?: string | null
  invocationName?: string
  scriptName?: string
  line?: number
  position?: string
  category?: number
  activity?: string
  reason?: string
  fqid?: string
  recommended?: string
}): ErrorRecord {
  const exception = new PSObject({
    extended: [
      ['Message', init.message],
      ...(init.thrown === undefined
        ? []
        : [['WasThrownFromThrowStatement', init.thrown] as [string, unknown]]),
    ],
  })
  const inv = new PSObject({
    extended: [
      ['MyCommand', init.myCommand ?? null],
      ['ScriptLineNumber', init.line ?? 1],
      ['ScriptName', init.scriptName ?? ''],
      ['PositionMessage', init.position ?? ''],
      ['InvocationName', init.invocationName ?? ''],
    ],
  })
  return new ErrorRecord({
    extended: [
      ['Exception', exception],
      ['FullyQualifiedErrorId', init.fqid ?? 'X'],
      ['InvocationInfo', inv],
      ['ErrorCategory_Category', init.category ?? 0],
      ['ErrorCategory_Activity', init.activity ?? ''],
      ['ErrorCategory_Reason', init.reason ?? ''],
      ...(init.recommended === undefined
        ? []
        : [['ErrorDetails_RecommendedAction', init.recommended] as [string, unknown]]),
    ],
  })
}

test("error records print as pwsh 7's ConciseView: the reason before the message", () => {
  const cases: [ErrorRecord, string][] = [
    [
      record({
        message: 'kaboom',
        thrown: true,
        position: 'At line:1 char:1\n+ throw "kaboom"\n+ ~~~~~~~~~~~~~~',
        category: 14,
        reason: 'RuntimeException',
      }),
      'Exception: kaboom',
    ],
    [
      record({
        message: 'oops',
        myCommand: 'Write-Error oops',
        line: 0,
        activity: 'Write-Error',
        reason: 'WriteErrorException',
      }),
      'Write-Error: oops',
    ],
    [
      record({
        message: "Cannot find path '/nope' because it does not exist.",
        thrown: false,
        myCommand: 'Get-Item',
        invocationName: 'Get-Item',
        activity: 'Get-Item',
        category: 13,
      }),
      "Get-Item: Cannot find path '/nope' because it does not exist.",
    ],
    [record({ message: 'The term …', invocationName: 'nosuchcmd', category: 13 }), 'nosuchcmd: The term …'],
    [
      record({ message: 'Cannot convert', category: 5, reason: 'RuntimeException' }),
      'InvalidArgument: Cannot convert',
    ],
    // category NotSpecified (0) falls through to the exception type
    [
      record({ message: 'Attempted to divide by zero.', reason: 'RuntimeException' }),
      'RuntimeException: Attempted to divide by zero.',
    ],
    [record({ message: 'odd' }), 'Error: odd'],
    [record({ message: 'to stderr', fqid: 'NativeCommandError', activity: 'sh' }), 'to stderr'],
    [
      record({ message: 'a', activity: 'Write-Error', recommended: 'do x' }),
      'Write-Error: a\n  Recommendation: do x',
    ],
  ]
  for (const [r, expected] of cases) assert.equal(formatErrorRecord(r), expected)
})

test('ConciseView shows the position of an error after the first line, in a script file, or a parse error', () => {
  const second = record({
    message: 'line2',
    thrown: true,
    line: 2,
    position: 'At line:2 char:1\n+ throw "line2"\n+ ~~~~~~~~~~~~~',
  })
  assert.equal(
    formatErrorRecord(second),
    'Exception: \nLine |\n   2 |  throw "line2"\n     |  ~~~~~~~~~~~~~\n     | line2',
  )
  const inFile = record({
    message: 'boom',
    thrown: true,
    line: 12345,
    scriptName: '/srv/x.ps1',
    position: 'At /srv/x.ps1:12345 char:3\r\n+   throw "boom"\r\n+   ~~~~~~~~~~~~',
  })
  assert.equal(
    formatErrorRecord(inFile),
    'Exception: /srv/x.ps1:12345\n Line |\n12345 |    throw "boom"\n      |    ~~~~~~~~~~~~\n      | boom',
  )
  // a module's line is not shown
  assert.equal(
    formatErrorRecord(
      record({
        message: 'm',
        thrown: true,
        line: 3,
        scriptName: '/m.psm1',
        position: 'At /m.psm1:3 char:1\n+ x\n+ ~',
      }),
    ),
    'Exception: m',
  )
  const parse = record({
    message:
      "At line:1 char:6\n+ 1 + + )\n+      ~\nMissing expression after unary operator '+'.\n\n" +
      "At line:1 char:7\n+ 1 + + )\n+       ~\nUnexpected token ')' in expression or statement.",
    category: 17,
    reason: 'ParseException',
  })
  assert.equal(
    formatErrorRecord(parse),
    "ParserError: \nLine |\n   1 |  1 + + )\n     |       ~\n     | Missing expression after unary operator '+'.",
  )
  // an incomplete statement has no position
  assert.equal(
    formatErrorRecord(
      record({ message: "Missing closing '}'", category: 17, reason: 'IncompleteParseException' }),
    ),
    "ParserError: Missing closing '}'",
  )
})

test('error records in colour: red, the position in cyan; plain without colour', () => {
  const r = record({ message: 'kaboom', thrown: true })
  assert.equal(formatErrorRecord(r, { colour: true }), '\x1b[91mException: kaboom\x1b[0m')
  assert.equal(formatErrorRecord(r, { colour: false }), 'Exception: kaboom')
  const second = record({
    message: 'x',
    thrown: true,
    line: 2,
    position: 'At line:2 char:1\n+ throw\n+ ~~~~~',
  })
  const coloured = formatErrorRecord(second, { colour: true })
  assert.ok(coloured.includes('\x1b[96mLine |\x1b[0m'), JSON.stringify(coloured))
  assert.equal(
    coloured.split('\x1b[96m').join('').split('\x1b[91m').join('').split('\x1b[0m').join(''),
    formatErrorRecord(second),
  )
})
