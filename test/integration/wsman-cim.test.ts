/**
 * CIM over WS-Man end to end: `WSManConnection.invoke` and `CimSession` against the WinRM test server
 * with its WMI responder (test/helpers/winrm-bridge/cim-responder.ts, shapes from Windows'
 * recorded responses): Get of Win32_OperatingSystem, a WQL Enumerate of Win32_Service followed
 * through several Pull batches, Release when the loop stops early, StopService's ReturnValue, the
 * WMI provider's CannotProcessFilter fault as a typed WSManFaultError, and the `psrp wsman` CLI.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { CimSession } from '../../src/client/cim-session.ts'
import { WSManConnection } from '../../src/transport/wsman-connection.ts'
import { WSManFaultError } from '../../src/errors.ts'
import { el } from '../../src/wsman/xml-node.ts'
import { startWinRMBridge, type WinRMBridge } from '../helpers/winrm-bridge/index.ts'
import { CimResponder } from '../helpers/winrm-bridge/cim-responder.ts'
import { runCli } from '../helpers/cli.ts'

const SERVICE = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service'
const PULL = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull'
const RELEASE = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release'

describe('CIM over WS-Man against the WinRM test server', () => {
  let bridge: WinRMBridge
  let cim: CimResponder
  let conn: WSManConnection
  before(async () => {
    cim = new CimResponder()
    bridge = await startWinRMBridge({ pwsh: 'pwsh-not-used', username: 'u', password: 'p', cim })
    conn = new WSManConnection({
      server: '127.0.0.1',
      port: bridge.port,
      ssl: false,
      auth: 'basic',
      username: 'u',
      password: 'p',
      allowUnencryptedBasic: true,
    })
  })
  after(async () => {
    await conn?.close()
    await bridge?.close()
  })
  const actions = (): string[] => bridge.requests.map((r) => r.action)

  test('Get of Win32_OperatingSystem: a plain object, typed where the class is known', async () => {
    const os = await new CimSession(conn).getInstance('Win32_OperatingSystem')
    assert.equal(os['Caption'], 'Microsoft Windows Server 2022 Datacenter')
    assert.equal(os['BuildNumber'], '20348')
    assert.equal(os['NumberOfProcesses'], 120)
    assert.equal(os['FreePhysicalMemory'], 9007199254740993n)
    assert.equal(os['Primary'], true)
    assert.equal(os['CSDVersion'], null)
    assert.deepEqual(os['MUILanguages'], ['en-US', 'de-DE'])
    assert.equal(os['LastBootUpTime'], '2024-01-02T03:04:05.123456-05:00')
  })

  test('WQL Enumerate of Win32_Service: every match across several Pull batches, in order', async () => {
    const before = actions().length
    const names: string[] = []
    for await (const svc of new CimSession(conn).queryInstances(
      "SELECT Name, State, ProcessId FROM Win32_Service WHERE State = 'Running'",
      { maxElements: 2 },
    )) {
      assert.deepEqual(Object.keys(svc).sort(), ['Name', 'ProcessId', 'State'])
      assert.equal(typeof svc['ProcessId'], 'number')
      names.push(String(svc['Name']))
    }
    assert.deepEqual(names, ['Dhcp', 'Dnscache', 'EventLog', 'Spooler', 'W32Time', 'WinRM'])
    assert.equal(
      actions()
        .slice(before)
        .filter((a) => a === PULL).length,
      2,
      'Enumerate + 2 Pulls of 2',
    )
    assert.equal(cim.openEnumerations, 0)
  })

  test('breaking out of the loop sends Release for the open context', async () => {
    let seen = 0
    for await (const _ of new CimSession(conn).enumerateInstances('Win32_Service', { maxElements: 3 })) {
      if (++seen === 4) break
    }
    assert.equal(seen, 4)
    assert.equal(actions().at(-1), RELEASE)
    assert.equal(cim.openEnumerations, 0)
  })

  test('invokeMethod StopService: ReturnValue 0, then 6 for a service already stopped; Get shows the state', async () => {
    const s = new CimSession(conn)
    assert.deepEqual(
      await s.invokeMethod('Win32_Service', 'StopService', { selectors: { Name: 'Spooler' } }),
      {
        ReturnValue: 0,
      },
    )
    assert.deepEqual(
      await s.invokeMethod('Win32_Service', 'StopService', { selectors: { Name: 'Spooler' } }),
      {
        ReturnValue: 6,
      },
    )
    const spooler = await s.getInstance('Win32_Service', { Name: 'Spooler' })
    assert.equal(spooler['State'], 'Stopped')
    assert.equal(spooler['Started'], false)
  })

  test('invoke: any action on the same authenticated connection returns the response body', async () => {
    const res = await conn.invoke(
      `${SERVICE}/StartService`,
      SERVICE,
      el('p:StartService_INPUT', { 'xmlns:p': SERVICE }),
      { selectors: { Name: 'BITS' } },
    )
    assert.equal(res.action, `${SERVICE}/StartServiceResponse`)
    assert.equal(res.content?.local, 'StartService_OUTPUT')
    assert.equal(res.content?.children[0]?.text, '0')
  })

  test('faults: a WQL query over a missing class is CannotProcessFilter; an unknown instance InvalidSelectors', async () => {
    const s = new CimSession(conn)
    await assert.rejects(
      async () => {
        for await (const _ of s.queryInstances('SELECT * FROM Win32_Processa'))
          assert.fail('no items expected')
      },
      (e: unknown) =>
        e instanceof WSManFaultError &&
        e.fault.wsmanFaultCode === 2150858778 &&
        /CannotProcessFilter/.test(e.message) &&
        /class does not exist/.test(e.message),
    )
    await assert.rejects(
      s.invokeMethod('Win32_Service', 'StopService', { selectors: { Name: 'nope' } }),
      (e: unknown) => e instanceof WSManFaultError && e.fault.wsmanFaultCode === 2150858843,
    )
  })

  test('psrp wsman get|enumerate|invoke with --json, and the text listing', async () => {
    const env = { ...process.env, PSRP_PASSWORD: 'p' }
    const conn = [
      '--host',
      '127.0.0.1',
      '--port',
      String(bridge.port),
      '--auth',
      'basic',
      '-u',
      'u',
      '--allow-unencrypted',
    ]
    const os = await runCli(['wsman', 'get', 'Win32_OperatingSystem', ...conn, '--json'], { env })
    assert.equal(os.code, 0, os.stderr)
    const o = JSON.parse(os.stdout) as Record<string, unknown>
    assert.equal(o['NumberOfProcesses'], 120)
    assert.equal(o['FreePhysicalMemory'], '9007199254740993', 'beyond 2^53: exact text')
    const list = await runCli(
      [
        'wsman',
        'enumerate',
        '--wql',
        "SELECT Name FROM Win32_Service WHERE State = 'Stopped'",
        ...conn,
        '--json',
        '--max-elements',
        '1',
      ],
      { env },
    )
    assert.equal(list.code, 0, list.stderr)
    const stopped = list.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { Name: string }).Name)
    assert.ok(stopped.includes('wuauserv') && stopped.length >= 2, list.stdout)
    const inv = await runCli(['wsman', 'invoke', 'Win32_Service', 'StopService', 'Name=W32Time', ...conn], {
      env,
    })
    assert.equal(inv.code, 0, inv.stderr)
    assert.equal(inv.stdout, 'ReturnValue : 0\n')
    const bad = await runCli(['wsman', 'enumerate', '--wql', 'SELECT * FROM Nope', ...conn], { env })
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /CannotProcessFilter/)
  })
})
