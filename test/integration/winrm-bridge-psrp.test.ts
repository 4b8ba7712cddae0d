/**
 * The WinRM bridge with PowerShell shells backed by a real `pwsh -s`: envelopes built by the
 * `src/wsman` builders, replies read by `parseResponse`, PSRP payloads from `ClientRunspacePool`.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { findPwsh, peerSkip } from '../helpers/peers.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { PsrpOverBridge, WSManTestClient } from '../helpers/winrm-bridge/test-client.ts'
import { ClientRunspacePool, pipelineCommand, HostMethodId } from '../../src/psrp/index.ts'
import { HostInfo } from '../../src/clixml/index.ts'
import {
  buildEnvelope,
  psrpConnect,
  psrpDisconnect,
  psrpEnumerateCommands,
  psrpEnumerateShells,
  psrpGetShell,
  psrpReceive,
  psrpReconnect,
  parseShell,
  WSManFaultCode,
} from '../../src/wsman/index.ts'

const pwsh = findPwsh()
const skip = peerSkip(
  'pwsh',
  pwsh !== undefined,
  'install PowerShell 7 (dotnet tool install --global PowerShell)',
)

describe('winrm-bridge: PSRP over pwsh -s', { skip }, () => {
  let bridge: WinRMBridge
  let client: WSManTestClient

  before(async () => {
    bridge = await startWinRMBridge({
      pwsh: pwsh as string,
      username: 'user',
      password: 'secret',
      operationTimeoutCapMs: 1_500,
    })
    client = new WSManTestClient({ url: bridge.url, username: 'user', password: 'secret' })
  })
  after(async () => {
    client.close()
    await bridge.close()
  })

  test('Create opens a pool that reaches Opened; CreateResponse is shaped like Windows', async () => {
    const ps = new PsrpOverBridge(client)
    const created = await ps.open()
    assert.equal(created.kind, 'created')
    if (created.kind !== 'created') return
    assert.equal(created.shellId, ps.pool.id.toUpperCase())
    assert.equal(created.resourceUri, 'http://schemas.microsoft.com/powershell/Microsoft.PowerShell')
    assert.equal(created.address, bridge.url)
    assert.deepEqual(created.shell?.inputStreams, ['stdin', 'pr'])
    assert.deepEqual(created.shell?.outputStreams, ['stdout'])
    assert.equal(created.shell?.state, 'Connected')
    assert.equal(created.shell?.idleTimeout, 7200)
    assert.equal(ps.pool.state, 'Opened')
    assert.ok(ps.events.some((e) => e.type === 'applicationPrivateData'))
    assert.equal(bridge.shells(), 1)
    const del = await ps.delete()
    assert.equal(del.response.kind, 'deleted')
    assert.equal(bridge.shells(), 0)
  })

  test('runs 1..3: three outputs and CommandState Done in the Receive with the last data', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const pid = await ps.start('1..3')
    const { outputs, receives } = await ps.collect(pid)
    assert.deepEqual(outputs, [1, 2, 3])
    const last = receives[receives.length - 1]
    assert.ok(last?.kind === 'receive')
    if (last?.kind === 'receive') {
      assert.ok(last.streams.length > 0, 'Done comes with the last data')
      assert.equal(last.commandState?.exitCode, 0)
      assert.equal(last.commandState?.commandId, pid.toUpperCase())
      for (const s of last.streams) assert.equal(s.commandId, pid.toUpperCase())
    }
    for (const r of receives.slice(0, -1)) {
      if (r.kind === 'receive') assert.equal(r.commandState?.done, false)
    }
    assert.equal(ps.pool.pipelines.get(pid)?.state, 'Completed')
    assert.equal((await ps.signal(pid, 'terminate')).response.kind, 'signalled')
    await ps.delete()
  })

  test('a Receive with nothing to say ends with the TimedOut fault (HTTP 500, code 2150858793)', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const started = Date.now()
    const { status, response, xml } = await client.call(
      psrpReceive({ shellId: ps.pool.id, operationTimeout: 1 }),
    )
    assert.equal(status, 500)
    assert.equal(response.kind, 'timedOut')
    if (response.kind === 'timedOut')
      assert.equal(response.fault.wsmanFaultCode, WSManFaultCode.OperationTimeout)
    assert.match(xml, /<s:Value>w:TimedOut<\/s:Value>/)
    assert.ok(Date.now() - started >= 900)
    await ps.delete()
  })

  test('Signal crtl_c stops Start-Sleep 60', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const pid = await ps.start('Start-Sleep 60')
    const first = await ps.receive(pid)
    assert.ok(first.kind === 'timedOut' || first.kind === 'receive')
    const started = Date.now()
    assert.equal((await ps.signal(pid, 'ps_crtl_c')).response.kind, 'signalled')
    const { done } = await ps.collect(pid)
    assert.ok(done)
    assert.ok(Date.now() - started < 15_000)
    assert.equal(ps.pool.pipelines.get(pid)?.state, 'Stopped')
    await ps.signal(pid, 'terminate')
    await ps.delete()
  })

  test('Delete kills pwsh and the shell is gone (InvalidSelectors afterwards)', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const osPid = bridge.pwshPid(ps.pool.id)
    assert.ok(osPid !== undefined)
    assert.equal((await ps.delete()).response.kind, 'deleted')
    assert.throws(() => process.kill(osPid as number, 0))
    const again = await client.call(psrpReceive({ shellId: ps.pool.id }))
    assert.equal(again.response.kind, 'fault')
    if (again.response.kind === 'fault') {
      assert.equal(again.response.fault.wsmanFaultCode, WSManFaultCode.InvalidSelectors)
    }
  })

  test('401 with WWW-Authenticate Basic realm="WSMAN" on a bad password', async () => {
    const bad = new WSManTestClient({ url: bridge.url, username: 'user', password: 'wrong' })
    const reply = await bad.post('<s:Envelope/>')
    assert.equal(reply.status, 401)
    assert.equal(reply.headers['www-authenticate'], 'Basic realm="WSMAN"')
    const none = await bad.post('<s:Envelope/>', {}, false)
    assert.equal(none.status, 401)
    bad.close()
  })

  test('a configuration name other than Microsoft.PowerShell is accepted and echoed', async () => {
    const ps = new PsrpOverBridge(client, {}, 'PowerShell.7')
    const created = await ps.open()
    assert.ok(created.kind === 'created')
    if (created.kind === 'created') {
      assert.equal(created.resourceUri, 'http://schemas.microsoft.com/powershell/PowerShell.7')
      assert.equal(created.shell?.resourceUri, 'http://schemas.microsoft.com/powershell/PowerShell.7')
    }
    await ps.delete()
  })

  test('pool and pipeline Receives long-poll on separate connections at the same time', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const poolPoll = client.call(psrpReceive({ shellId: ps.pool.id, operationTimeout: 1 }))
    const pid = await ps.start('Start-Sleep -Milliseconds 200; "late"')
    const { outputs } = await ps.collect(pid)
    assert.deepEqual(outputs, ['late'])
    assert.equal((await poolPoll).response.kind, 'timedOut')
    await ps.signal(pid, 'terminate')
    await ps.delete()
  })

  test('Enumerate and Get describe the shell; Enumerate of commands lists pipelines', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const pid = await ps.start('Start-Sleep 30')
    const all = await client.call(psrpEnumerateShells())
    assert.ok(all.response.kind === 'enumerated')
    if (all.response.kind === 'enumerated') {
      assert.ok(all.response.endOfSequence)
      const mine = all.response.items.map(parseShell).find((s) => s.shellId === ps.pool.id.toUpperCase())
      assert.equal(mine?.state, 'Connected')
      assert.equal(mine?.resourceUri, 'http://schemas.microsoft.com/powershell/Microsoft.PowerShell')
    }
    const cmds = await client.call(psrpEnumerateCommands({ shellId: ps.pool.id }))
    assert.ok(cmds.response.kind === 'enumerated')
    if (cmds.response.kind === 'enumerated') {
      const ids = cmds.response.items.map((i) => i.children.find((c) => c.local === 'CommandId')?.text)
      assert.deepEqual(ids, [pid.toUpperCase()])
    }
    const got = await client.call(psrpGetShell({ shellId: ps.pool.id }))
    assert.ok(got.response.kind === 'get' && got.response.body !== undefined)
    if (got.response.kind === 'get' && got.response.body !== undefined) {
      assert.equal(parseShell(got.response.body).shellId, ps.pool.id.toUpperCase())
    }
    await ps.signal(pid, 'ps_crtl_c')
    await ps.collect(pid)
    await ps.signal(pid, 'terminate')
    await ps.delete()
  })

  test('Disconnect buffers output (Receives wait); Reconnect delivers it', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const pid = await ps.start('Start-Sleep -Milliseconds 300; 42')
    const disc = await client.call(psrpDisconnect({ shellId: ps.pool.id, idleTimeout: 120 }))
    assert.equal(disc.response.kind, 'disconnected')
    ps.pool.markDisconnected()
    const enumerated = await client.call(
      psrpEnumerateShells({ filter: { selectors: { ShellId: ps.pool.id } } }),
    )
    assert.ok(enumerated.response.kind === 'enumerated')
    if (enumerated.response.kind === 'enumerated') {
      const info = parseShell(enumerated.response.items[0] as never)
      assert.equal(info.state, 'Disconnected')
      assert.equal(info.idleTimeout, 120)
    }
    await new Promise((r) => setTimeout(r, 1_000))
    const waiting = await client.call(
      psrpReceive({ shellId: ps.pool.id, pipelineId: pid, operationTimeout: 1 }),
    )
    assert.equal(waiting.response.kind, 'timedOut')
    const rec = await client.call(psrpReconnect({ shellId: ps.pool.id }))
    assert.equal(rec.response.kind, 'reconnected')
    ps.pool.markReconnected()
    const { outputs } = await ps.collect(pid)
    assert.deepEqual(outputs, [42])
    await ps.signal(pid, 'terminate')
    await ps.delete()
  })

  test('Connect: a new client attaches to a disconnected pool and runs a pipeline', async () => {
    const first = new PsrpOverBridge(client)
    await first.open()
    assert.equal(
      (await client.call(psrpDisconnect({ shellId: first.pool.id }))).response.kind,
      'disconnected',
    )

    const second = new PsrpOverBridge(client, { id: first.pool.id })
    second.pool.connect()
    const cx = second.pool.dataToSend()
    assert.ok(cx !== undefined)
    const { response } = await client.call(psrpConnect({ shellId: first.pool.id, connectXml: cx.data }))
    assert.ok(response.kind === 'connected')
    if (response.kind !== 'connected' || response.connectResponseXml === undefined)
      throw new Error('no connect')
    assert.deepEqual(response.inputStreams, ['stdin', 'pr'])
    assert.deepEqual(response.outputStreams, ['stdout'])
    second.pool.receiveData(response.connectResponseXml)
    while (second.pool.state !== 'Opened') {
      const r = await second.receive()
      assert.notEqual(r.kind, 'fault')
    }
    const pid = await second.start('"connected"; $PID -gt 0')
    const { outputs } = await second.collect(pid)
    assert.deepEqual(outputs, ['connected', true])
    await second.signal(pid, 'terminate')
    await second.delete()
  })

  test('pwsh dying answers the pending Receive with a fault promptly; later requests fault too', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const osPid = bridge.pwshPid(ps.pool.id) as number
    const pending = client.call(psrpReceive({ shellId: ps.pool.id, operationTimeout: 30 }))
    await new Promise((r) => setTimeout(r, 200))
    const started = Date.now()
    process.kill(-osPid, 'SIGKILL')
    const r = await pending
    assert.equal(r.status, 500)
    assert.equal(r.response.kind, 'fault')
    assert.ok(Date.now() - started < 5_000)
    const later = await client.call(psrpReceive({ shellId: ps.pool.id }))
    assert.equal(later.response.kind, 'fault')
    await assert.rejects(ps.start('1'))
    assert.equal((await ps.delete()).response.kind, 'deleted')
  })

  test('two pools at once are two pwsh processes', async () => {
    const a = new PsrpOverBridge(client)
    const b = new PsrpOverBridge(client, { maxRunspaces: 2 })
    await Promise.all([a.open(), b.open()])
    assert.notEqual(bridge.pwshPid(a.pool.id), bridge.pwshPid(b.pool.id))
    const [pa, pb] = await Promise.all([a.start('"a"'), b.start('"b"')])
    const [ra, rb] = await Promise.all([a.collect(pa), b.collect(pb)])
    assert.deepEqual([ra.outputs, rb.outputs], [['a'], ['b']])
    await Promise.all([a.delete(), b.delete()])
  })

  test('an unknown pipeline gets the "command identifier does not exist" fault', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const r = await client.call(
      psrpReceive({ shellId: ps.pool.id, pipelineId: '99999999-8888-7777-6666-555555555555' }),
    )
    assert.ok(r.response.kind === 'fault')
    if (r.response.kind === 'fault') {
      assert.equal(r.response.fault.wsmanFaultCode, WSManFaultCode.InvalidSelectors)
      assert.match(r.response.fault.message ?? '', /command identifier that does not exist/)
    }
    await ps.delete()
    assert.ok(new ClientRunspacePool())
  })

  test('pipeline input over Send stdin with a CommandId', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const pid = await ps.start({
      statements: [[pipelineCommand({ command: '$input | ForEach-Object { $_ * 2 }', isScript: true })]],
      hasInput: true,
    })
    const p = ps.pool.pipelines.get(pid)
    p?.sendInput([1, 2, 3])
    p?.endInput()
    await ps.flush()
    assert.deepEqual((await ps.collect(pid)).outputs, [2, 4, 6])
    await ps.signal(pid, 'terminate')
    await ps.delete()
  })

  test('a host call reports CommandState Pending; the answer goes over the pr stream', async () => {
    const ps = new PsrpOverBridge(client, {
      hostInfo: HostInfo.create({
        useRunspaceHost: false,
        isHostNull: false,
        isHostUINull: false,
        isHostRawUINull: true,
      }),
    })
    await ps.open()
    const pid = await ps.start('$n = $host.UI.ReadLine(); "hello $n"')
    let pendingSeen = false
    const outputs: unknown[] = []
    for (let i = 0; i < 100; i++) {
      const before = ps.events.length
      const r = await ps.receive(pid)
      if (r.kind === 'receive' && r.commandState?.state.endsWith('/Pending') === true) pendingSeen = true
      for (const e of ps.events.slice(before)) {
        if (e.type === 'hostCall' && e.expectsResponse) {
          assert.equal(e.methodId, HostMethodId.ReadLine)
          ps.pool.hostResponse(pid, e.callId, e.methodId, { value: 'bridge' })
          await ps.flush()
        }
        if (e.type === 'pipelineOutput') outputs.push(e.value)
      }
      if (r.kind === 'receive' && r.commandState?.done === true) break
    }
    assert.ok(pendingSeen, 'Windows reports Pending while a host call waits')
    assert.deepEqual(outputs, ['hello bridge'])
    const sends = bridge.requests.filter((r) => r.action.endsWith('/Send'))
    assert.ok(sends.length > 0)
    await ps.signal(pid, 'terminate')
    await ps.delete()
  })

  test('a Receive the client gives up (connection closed) does not swallow the output', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const pid = await ps.start('Start-Sleep -Milliseconds 700; "kept"')
    const ac = new AbortController()
    const xml = buildEnvelope(psrpReceive({ shellId: ps.pool.id, pipelineId: pid, operationTimeout: 10 }), {
      to: bridge.url,
    })
    const abandoned = client.post(xml, {}, true, ac.signal)
    setTimeout(() => ac.abort(), 200)
    await assert.rejects(abandoned)
    assert.deepEqual((await ps.collect(pid)).outputs, ['kept'])
    await ps.signal(pid, 'terminate')
    await ps.delete()
  })

  test('a pipeline queued behind a running one (one runspace) can be stopped before it starts', async () => {
    const ps = new PsrpOverBridge(client)
    await ps.open()
    const running = await ps.start('Start-Sleep 60')
    const queued = await ps.start('"never"')
    const started = Date.now()
    assert.equal((await ps.signal(queued, 'ps_crtl_c')).response.kind, 'signalled')
    assert.equal((await ps.signal(running, 'ps_crtl_c')).response.kind, 'signalled')
    await ps.collect(running)
    const { outputs } = await ps.collect(queued)
    assert.deepEqual(outputs, [])
    assert.ok(Date.now() - started < 20_000)
    await ps.delete()
  })
})
