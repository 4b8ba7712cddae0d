/**
 * The WinRM bridge's WinRS (`…/windows/shell/cmd`) shells run local processes: Command, Send stdin,
 * Receive stdout/stderr with End markers, CommandState Done + ExitCode, Signal, Delete; and the
 * service-level faults (unknown action/resource, envelope too large). No pwsh needed.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startWinRMBridge, type WinRMBridge } from '../../helpers/winrm-bridge/index.ts'
import { WSManTestClient } from '../../helpers/winrm-bridge/test-client.ts'
import {
  buildEnvelope,
  parseResponse,
  psrpCreate,
  winrsCommand,
  winrsCreate,
  winrsDelete,
  winrsReceive,
  winrsSend,
  winrsSignal,
  WSManFaultCode,
  type ReceivedStream,
  type WSManResponse,
} from '../../../src/wsman/index.ts'

const posix = process.platform !== 'win32'

describe('winrm-bridge: WinRS shells', { skip: posix ? false : 'POSIX shell commands' }, () => {
  let bridge: WinRMBridge
  let client: WSManTestClient

  before(async () => {
    bridge = await startWinRMBridge({
      pwsh: '/nonexistent/pwsh',
      username: 'user',
      password: 'secret',
      operationTimeoutCapMs: 1_000,
      maxEnvelopeSize: 20_000,
    })
    client = new WSManTestClient({ url: bridge.url, username: 'user', password: 'secret' })
  })
  after(async () => {
    client.close()
    await bridge.close()
  })

  async function createShell(env?: Record<string, string>, cwd?: string): Promise<string> {
    const { response } = await client.call(
      winrsCreate({
        ...(env === undefined ? {} : { environment: env }),
        ...(cwd === undefined ? {} : { workingDirectory: cwd }),
      }),
    )
    assert.equal(response.kind, 'created')
    if (response.kind !== 'created' || response.shellId === undefined) throw new Error('no shell')
    assert.match(response.shellId, /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/)
    assert.equal(response.resourceUri, 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd')
    assert.deepEqual(response.shell?.outputStreams, ['stdout', 'stderr'])
    return response.shellId
  }

  async function run(
    shellId: string,
    cmd: string,
    args?: string[],
    stdin?: string,
  ): Promise<{
    stdout: string
    stderr: string
    rc: number | undefined
    last: WSManResponse
    all: ReceivedStream[]
  }> {
    const c = await client.call(
      winrsCommand({ shellId, command: cmd, ...(args === undefined ? {} : { arguments: args }) }),
    )
    assert.equal(c.response.kind, 'commandCreated')
    if (c.response.kind !== 'commandCreated') throw new Error('no command')
    const commandId = c.response.commandId
    if (stdin !== undefined) {
      const s = await client.call(
        winrsSend({ shellId, commandId, data: new TextEncoder().encode(stdin), end: true }),
      )
      assert.equal(s.response.kind, 'sent')
    }
    const all: ReceivedStream[] = []
    for (;;) {
      const { response } = await client.call(winrsReceive({ shellId, commandId }))
      if (response.kind === 'timedOut') continue
      assert.equal(response.kind, 'receive')
      if (response.kind !== 'receive') throw new Error('bad receive')
      all.push(...response.streams)
      if (response.commandState?.done === true) {
        const dec = (n: string): string =>
          Buffer.concat(all.filter((s) => s.name === n).map((s) => Buffer.from(s.data))).toString('utf8')
        await client.call(winrsSignal({ shellId, commandId, code: 'terminate' }))
        return {
          stdout: dec('stdout'),
          stderr: dec('stderr'),
          rc: response.commandState.exitCode,
          last: response,
          all,
        }
      }
    }
  }

  test('echo hi: stdout, End markers on both streams, Done with ExitCode 0', async () => {
    const shellId = await createShell()
    const r = await run(shellId, 'echo hi')
    assert.equal(r.stdout, 'hi\n')
    assert.equal(r.stderr, '')
    assert.equal(r.rc, 0)
    if (r.last.kind === 'receive') {
      const ends = r.last.streams.filter((s) => s.end).map((s) => s.name)
      assert.deepEqual(ends, ['stdout', 'stderr'])
    }
    assert.equal((await client.call(winrsDelete({ shellId }))).response.kind, 'deleted')
  })

  test("sh -c 'exit 3' with stdout and stderr: exit code 3", async () => {
    const shellId = await createShell()
    const r = await run(shellId, 'sh', ['-c', 'echo out; echo err >&2; exit 3'])
    assert.equal(r.stdout, 'out\n')
    assert.equal(r.stderr, 'err\n')
    assert.equal(r.rc, 3)
    await client.call(winrsDelete({ shellId }))
  })

  test('Environment, WorkingDirectory and stdin with End', async () => {
    const shellId = await createShell({ BRIDGE_TEST_VAR: 'v a l' }, '/tmp')
    const r = await run(shellId, 'printf "%s|" "$BRIDGE_TEST_VAR" "$(pwd)"; cat', undefined, 'piped input')
    assert.equal(r.stdout, 'v a l|/tmp|piped input')
    await client.call(winrsDelete({ shellId }))
  })

  test('Receive on a long command times out with w:TimedOut; Signal terminate kills it', async () => {
    const shellId = await createShell()
    const c = await client.call(winrsCommand({ shellId, command: 'sleep 30' }))
    if (c.response.kind !== 'commandCreated') throw new Error('no command')
    const commandId = c.response.commandId
    const r = await client.call(winrsReceive({ shellId, commandId, operationTimeout: 5 }))
    assert.equal(r.status, 500)
    assert.equal(r.response.kind, 'timedOut')
    const ctrlC = await client.call(winrsSignal({ shellId, commandId, code: 'ctrl_c' }))
    assert.equal(ctrlC.response.kind, 'signalled')
    const done = await client.call(winrsReceive({ shellId, commandId }))
    assert.ok(done.response.kind === 'receive' && done.response.commandState?.done === true)
    assert.equal(
      (await client.call(winrsSignal({ shellId, commandId, code: 'terminate' }))).response.kind,
      'signalled',
    )
    const gone = await client.call(winrsReceive({ shellId, commandId }))
    assert.ok(
      gone.response.kind === 'fault' &&
        gone.response.fault.wsmanFaultCode === WSManFaultCode.InvalidParameter,
    )
    await client.call(winrsDelete({ shellId }))
    assert.equal(bridge.shells(), 0)
  })

  test('unknown ShellId: w:InvalidSelectors 2150858843', async () => {
    const { status, response } = await client.call(
      winrsDelete({ shellId: '11111111-2222-3333-4444-555555555555' }),
    )
    assert.equal(status, 500)
    assert.ok(response.kind === 'fault')
    if (response.kind === 'fault') {
      assert.equal(response.fault.subcode, 'w:InvalidSelectors')
      assert.equal(response.fault.wsmanFaultCode, WSManFaultCode.InvalidSelectors)
    }
  })

  test('unknown resource URI and unknown action are faults', async () => {
    const r1 = await client.call({ action: 'get', resourceUri: 'http://schemas.example.com/nothing' })
    assert.ok(r1.response.kind === 'fault')
    if (r1.response.kind === 'fault') {
      assert.equal(r1.response.fault.subcode, 'a:DestinationUnreachable')
      assert.equal(
        r1.response.fault.faultDetail,
        'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI',
      )
    }
    const r2 = await client.call({
      action: 'put',
      resourceUri: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd',
      body: { name: 'rsp:Shell' },
    })
    assert.ok(r2.response.kind === 'fault')
    if (r2.response.kind === 'fault') assert.equal(r2.response.fault.subcode, 'a:ActionNotSupported')
  })

  test('a request over maxEnvelopeSize gets w:EncodingLimit', async () => {
    const shellId = await createShell()
    const c = await client.call(winrsCommand({ shellId, command: 'cat' }))
    if (c.response.kind !== 'commandCreated') throw new Error('no command')
    const xml = buildEnvelope(
      winrsSend({ shellId, commandId: c.response.commandId, data: new Uint8Array(30_000) }),
      { to: bridge.url, messageId: '00000000-0000-0000-0000-0000000000aa' },
    )
    const reply = await client.post(xml)
    assert.equal(reply.status, 500)
    const res = parseResponse(reply.body)
    assert.ok(res.kind === 'fault')
    if (res.kind === 'fault') {
      assert.equal(res.fault.subcode, 'w:EncodingLimit')
      assert.equal(res.fault.wsmanFaultCode, 2150858805)
      assert.equal(res.relatesTo, 'uuid:00000000-0000-0000-0000-0000000000AA')
    }
    await client.call(winrsDelete({ shellId }))
  })

  test('every request is recorded with its action and status', () => {
    assert.ok(bridge.requests.length > 10)
    assert.ok(bridge.requests.some((r) => r.action.endsWith('/Create') && r.status === 200))
    assert.ok(bridge.requests.some((r) => r.status === 500))
  })

  test('a PowerShell Create whose pwsh cannot start is a fault and leaves no shell', async () => {
    const r = await client.call(
      psrpCreate({
        shellId: '12345678-1234-4234-8234-123456789abc',
        creationXml: new Uint8Array([0, 0, 0, 1]),
      }),
    )
    assert.equal(r.status, 500)
    assert.equal(r.response.kind, 'fault')
    assert.equal(bridge.shells(), 0)
  })
})
