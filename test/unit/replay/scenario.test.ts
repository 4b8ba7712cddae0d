/**
 * deriveScenario over every pypsrp recording: each yields a non-empty description of what the client
 * did and what the server answered; spot checks against the facts the pypsrp tests assert.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { basename, join } from 'node:path'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'
import { listRecordings, readRecording } from '../../helpers/recordings.ts'
import { deriveScenario, type Scenario, type Step } from '../../helpers/winrm-replay.ts'

const corpus = corpusDir()
const dir = corpus === undefined ? undefined : join(corpus, 'pypsrp')
const skip = peerSkip(
  'recorded corpus',
  dir !== undefined && existsSync(dir),
  'put the shared folder beside the checkout (../shared/corpus)',
)

// pypsrp's fixed RSA key: lets the scenarios show SecureString plaintexts
const keyFile = dir === undefined ? undefined : join(dir, 'derived/pypsrp_test_rsa_key.pem')
const privateKey: KeyObject | undefined =
  keyFile !== undefined && existsSync(keyFile) ? createPrivateKey(readFileSync(keyFile, 'utf8')) : undefined
const options = privateKey === undefined ? {} : { privateKey }

const scenarios = new Map<string, Scenario>()
function scenario(name: string): Scenario {
  let s = scenarios.get(name)
  if (s === undefined) {
    const file = join(dir as string, 'tests/tests_pypsrp/responses', `${name}.yml`)
    s = deriveScenario(readRecording(file), name, options)
    scenarios.set(name, s)
  }
  return s
}

function steps<K extends Step['op']>(s: Scenario, op: K): Extract<Step, { op: K }>[] {
  return s.steps.filter((x): x is Extract<Step, { op: K }> => x.op === op)
}

test('scenario: every recording yields a non-empty description', { skip }, () => {
  const files = listRecordings(dir as string)
  assert.ok(files.length >= 50)
  const kindCounts = new Map<string, number>()
  const opCounts = new Map<string, number>()
  let exchanges = 0
  for (const file of files) {
    const name = basename(file, '.yml')
    const s = deriveScenario(readRecording(file), name, options)
    scenarios.set(name, s)
    exchanges += s.exchanges
    assert.ok(s.steps.length > 0, `${name}: no steps`)
    assert.ok(s.kinds.length > 0, `${name}: no kinds`)
    assert.ok(!s.kinds.includes('undecodable-message'), `${name}: a PSRP message did not decode`)
    assert.ok(!s.kinds.includes('session-key-not-decrypted'), `${name}: session key not decrypted`)
    assert.ok(
      !s.steps.some((x) => x.op === 'other'),
      `${name}: unclassified request ${JSON.stringify(s.steps.find((x) => x.op === 'other'))}`,
    )
    // JSON data only
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s, `${name}: not plain JSON`)
    for (const step of s.steps) assert.ok(step.exchange >= 0 && step.exchange < s.exchanges)
    for (const k of s.kinds) kindCounts.set(k, (kindCounts.get(k) ?? 0) + 1)
    for (const st of s.steps) opCounts.set(st.op, (opCounts.get(st.op) ?? 0) + 1)
  }
  console.log(
    `scenario: ${files.length} recordings, ${exchanges} exchanges; kinds:`,
    Object.fromEntries([...kindCounts].sort()),
    '\nsteps:',
    Object.fromEntries([...opCounts].sort()),
  )
})

test('scenario: WinRS standard, stderr/rc, stdin, unicode', { skip }, () => {
  const std = scenario('test_winrs_standard')
  assert.deepEqual(
    std.steps.map((x) => x.op),
    ['winrs.open', 'winrs.command', 'receive', 'winrs.signal', 'winrs.close'],
  )
  const cmd = steps(std, 'winrs.command')[0]
  assert.equal(cmd?.executable, 'cmd.exe')
  assert.deepEqual(cmd?.arguments, ['/c', 'echo', 'hi'])
  assert.equal(std.commands['cmd1']?.stdoutText, 'hi\r\n')
  assert.equal(std.commands['cmd1']?.exitCode, 0)
  assert.equal(steps(std, 'winrs.signal')[0]?.optional, true, 'ctrl_c after Done is pypsrp-specific')

  const rc = scenario('test_winrs_stderr_rc')
  assert.equal(rc.commands['cmd1']?.stdoutText, 'out \r\n')
  assert.equal(rc.commands['cmd1']?.stderrText, 'err \r\n')
  assert.equal(rc.commands['cmd1']?.exitCode, 1)

  const send = scenario('test_winrs_send')
  const stdin = steps(send, 'winrs.stdin')
  assert.equal(stdin.length, 2)
  assert.equal(stdin[1]?.end, true)
  assert.match(send.commands['cmd1']?.stdoutText ?? '', /output 1\r?\noutput 2/)

  const uni = scenario('test_winrs_unicode')
  assert.equal(steps(uni, 'winrs.open')[0]?.options['WINRS_CODEPAGE'], '65001')
  assert.match(uni.commands['cmd1']?.stdoutText ?? '', /こんにちは/)

  const env = scenario('test_client_execute_cmd_environment')
  assert.ok(Object.keys(steps(env, 'winrs.open')[0]?.environment ?? {}).length > 0)

  const to = scenario('test_winrs_operation_timeout')
  assert.equal(to.faults.filter((f) => f.kind === 'timedOut').length, 2)
  assert.deepEqual(to.client.operationTimeouts, ['PT10S'])
})

test('scenario: PSRP pools, pipelines, outputs and streams', { skip }, () => {
  const open = scenario('test_psrp_open_runspace')
  assert.deepEqual(
    open.steps.map((x) => x.op),
    ['pool.open', 'receive', 'pool.close'],
  )
  const o = steps(open, 'pool.open')[0]
  assert.equal(o?.configurationName, 'Microsoft.PowerShell')
  assert.equal(o?.protocolVersion, '2.3')
  assert.equal(o?.minRunspaces, 1)
  assert.equal(o?.maxRunspaces, 1)
  assert.deepEqual(open.pools['pool1']?.states, ['Opened'])
  assert.equal(open.guidOrder, 'be')

  const input = scenario('test_psrp_with_input')
  const values = steps(input, 'pipeline.input').flatMap((x) => x.values)
  assert.equal(values.length, 4)
  assert.equal(values[0], '1')
  assert.equal(values[1], 2)
  assert.equal(steps(input, 'pipeline.endInput').length, 1)
  assert.equal(input.pipelines['ps1']?.output.length, 4)
  assert.equal(input.pipelines['ps1']?.streams.debug.length, 2)
  assert.equal(input.pipelines['ps1']?.state, 'Completed')

  const failed = scenario('test_psrp_error_failed')
  assert.equal(failed.pipelines['ps1']?.state, 'Failed')
  assert.deepEqual(failed.pipelines['ps1']?.output, ['before'])
  assert.ok((failed.pipelines['ps1']?.stateError ?? '').length > 0)

  const streams = scenario('test_psrp_stream_output_invocation')
  const st = streams.pipelines['ps1']?.streams
  for (const k of ['error', 'warning', 'verbose', 'debug', 'information'] as const) {
    assert.ok((st?.[k].length ?? 0) > 0, `stream ${k} recorded`)
  }

  const twice = scenario('test_psrp_multiple_invocations')
  assert.equal(steps(twice, 'pipeline.start').length, 2)
  assert.deepEqual(twice.pipelines['ps1']?.output, [2])
  assert.deepEqual(twice.pipelines['ps2']?.output, [2])
  assert.ok(twice.kinds.includes('reused-pipeline-id'))
  assert.ok(steps(twice, 'pipeline.signal').every((x) => x.optional === true))

  const merge = scenario('test_psrp_merge_commands')
  assert.equal(merge.pipelines['ps1']?.output.length, 7)
  assert.ok(merge.kinds.includes('merge-streams'))

  const nested = scenario('test_psrp_nested_command')
  const starts = steps(nested, 'pipeline.start')
  assert.equal(starts.length, 2)
  assert.equal(starts[0]?.received, false)
  assert.equal(starts[1]?.isNested, true)
  assert.equal(steps(nested, 'pipeline.stop')[0]?.pipeline, 'ps1')

  const keys = scenario('test_psrp_multiple_commands')
  assert.equal(steps(keys, 'pool.exchangeKey').length, 1)
  assert.equal(keys.pools['pool1']?.sessionKey, true)
  assert.equal(keys.pipelines['ps1']?.output.length, 7)

  const set = scenario('test_psrp_set_runspaces')
  assert.ok(steps(set, 'pool.setMaxRunspaces').length > 0)
  assert.ok(steps(set, 'pool.setMinRunspaces').length > 0)
  assert.ok(steps(set, 'pool.getAvailableRunspaces').length > 0)
  assert.ok((set.pools['pool1']?.availability.length ?? 0) >= 3)

  const disc = scenario('test_psrp_disconnect_runspaces')
  const ops = disc.steps.map((x) => x.op)
  for (const op of [
    'pool.disconnect',
    'pool.reconnect',
    'wsman.enumerate',
    'pool.connect',
    'pool.close',
  ] as const) {
    assert.ok(ops.includes(op), `disconnect scenario has ${op}`)
  }
  const enumerated = steps(disc, 'wsman.enumerate')[0]
  assert.deepEqual(
    enumerated?.found.map((f) => f.id),
    ['pool1', 'pool2'],
  )
  assert.deepEqual(
    steps(disc, 'pool.connect').map((c) => c.pool),
    ['pool1', 'pool2'],
  )

  const host = scenario('test_psrp_pshost_ui_mocked_methods')
  assert.ok(steps(host, 'pipeline.hostResponse').length > 0)
  assert.ok((host.pipelines['ps1']?.hostCalls.length ?? 0) > 0)
  if (privateKey !== undefined) {
    const secure = steps(host, 'pipeline.hostResponse').find((r) => r.method === 'ReadLineAsSecureString')
    assert.ok(secure !== undefined)
    assert.deepEqual(secure.result, { $secureString: 'ReadLineAsSecureString response' })
  }

  const meta = scenario('test_psrp_get_command_metadata')
  assert.equal(steps(meta, 'pool.getCommandMetadata').length, 3)

  const recv = scenario('test_psrp_receive_failure')
  assert.ok(recv.faults.some((f) => f.code === '2150858843'))

  const alive = scenario('test_psrp_is_alive_http_error')
  assert.equal(alive.httpErrors.length, 1)

  const cfg = scenario('test_wsman_update_envelope_size_150')
  assert.deepEqual(steps(cfg, 'wsman.get')[0]?.result, { maxEnvelopeSizeKb: 150 })

  const copy = scenario('test_client_copy_file_really_large')
  assert.ok(steps(copy, 'pipeline.input').flatMap((x) => x.values).length > 3)
})
