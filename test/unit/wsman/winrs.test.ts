import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '../../../src/errors.ts'
import { parseXml } from '../../../src/internal/xml.ts'
import { Namespace } from '../../../src/wsman/constants.ts'
import {
  buildEnvelope,
  parseShell,
  ResourceUri,
  SignalCode,
  winrsCommand,
  winrsCreate,
  winrsDelete,
  winrsReceive,
  winrsSend,
  winrsSignal,
  type WSManRequest,
} from '../../../src/wsman/index.ts'
import { renderXml } from '../../../src/wsman/xml-node.ts'
import { nsAttr, nsChild, nsChildren, resolveNamespaces, type NsElement } from '../../../src/wsman/xml-ns.ts'

const { rsp, wsman } = Namespace
const OPTS = { to: 'http://h:5985/wsman', messageId: '00000000-0000-0000-0000-000000000001' }

function envelopeOf(req: WSManRequest): { header: NsElement; body: NsElement } {
  const env = resolveNamespaces(parseXml(buildEnvelope(req, OPTS), { error: (m) => new Error(m) }))
  const header = nsChild(env, Namespace.s, 'Header')
  const body = nsChild(env, Namespace.s, 'Body')
  assert.ok(header !== undefined && body !== undefined)
  return { header, body }
}

const options = (h: NsElement): [string | undefined, string | undefined, string][] =>
  nsChildren(nsChild(h, wsman, 'OptionSet'), wsman, 'Option').map((o) => [
    nsAttr(o, 'Name'),
    nsAttr(o, 'MustComply'),
    o.text,
  ])

describe('WinRS Shell (MS-WSMV 2.2.4.37, 3.1.4.5.2)', () => {
  test('default cmd shell: stdin / stdout stderr, no options', () => {
    const req = winrsCreate()
    assert.equal(req.resourceUri, ResourceUri.Cmd)
    assert.equal(
      renderXml(req.body),
      '<rsp:Shell><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>',
    )
    assert.equal(nsChild(envelopeOf(req).header, wsman, 'OptionSet'), undefined)
  })

  test('every Shell property, in schema order, with escaping of names and values', () => {
    const req = winrsCreate({
      name: 'shell <1>',
      environment: { 'hyphen - var': 'abc @ 123', double_quote: 'double " quote', amp: 'a&b' },
      workingDirectory: 'C:\\Windows',
      lifetime: 60,
      idleTimeout: 90.5,
      codepage: 65001,
      noProfile: true,
    })
    assert.equal(
      renderXml(req.body),
      '<rsp:Shell><rsp:Name>shell &lt;1&gt;</rsp:Name><rsp:Environment>' +
        '<rsp:Variable Name="hyphen - var">abc @ 123</rsp:Variable>' +
        '<rsp:Variable Name="double_quote">double " quote</rsp:Variable>' +
        '<rsp:Variable Name="amp">a&amp;b</rsp:Variable></rsp:Environment>' +
        '<rsp:WorkingDirectory>C:\\Windows</rsp:WorkingDirectory><rsp:Lifetime>PT60.000S</rsp:Lifetime>' +
        '<rsp:IdleTimeOut>PT90.500S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams>' +
        '<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>',
    )
    assert.deepEqual(options(envelopeOf(req).header), [
      ['WINRS_NOPROFILE', 'true', 'TRUE'],
      ['WINRS_CODEPAGE', undefined, '65001'],
    ])
  })

  test('bad codepage, stream names or variable names are InvalidArgumentError', () => {
    assert.throws(() => winrsCreate({ codepage: 0 }), InvalidArgumentError)
    assert.throws(() => winrsCreate({ codepage: 70000 }), InvalidArgumentError)
    assert.throws(() => winrsCreate({ inputStreams: [] }), InvalidArgumentError)
    assert.throws(() => winrsCreate({ outputStreams: ['std out'] }), InvalidArgumentError)
    assert.throws(() => winrsCreate({ environment: { '': 'x' } }), InvalidArgumentError)
    assert.throws(() => winrsCreate({ idleTimeout: -5 }), InvalidArgumentError)
  })

  test('parseShell reads a Windows shell description', () => {
    const xml =
      '<rsp:Shell xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><rsp:ShellId>B6631D8E</rsp:ShellId>' +
      '<rsp:ResourceUri>http://schemas.microsoft.com/powershell/Microsoft.PowerShell</rsp:ResourceUri><rsp:Owner>HOST\\vagrant</rsp:Owner>' +
      '<rsp:ClientIP>10.0.2.2</rsp:ClientIP><rsp:ProcessId>2792</rsp:ProcessId><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>' +
      '<rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>' +
      '<rsp:MaxIdleTimeOut>PT2147483.647S</rsp:MaxIdleTimeOut><rsp:Locale>en-US</rsp:Locale><rsp:DataLocale>en-US</rsp:DataLocale>' +
      '<rsp:CompressionMode>NoCompression</rsp:CompressionMode><rsp:ProfileLoaded>Yes</rsp:ProfileLoaded><rsp:Encoding>UTF8</rsp:Encoding>' +
      '<rsp:BufferMode>Block</rsp:BufferMode><rsp:State>Disconnected</rsp:State><rsp:ShellRunTime>P0DT0H0M9S</rsp:ShellRunTime>' +
      '<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity><rsp:MemoryUsed>46MB</rsp:MemoryUsed><rsp:ChildProcesses>0</rsp:ChildProcesses></rsp:Shell>'
    assert.deepEqual(parseShell(resolveNamespaces(parseXml(xml, { error: (m) => new Error(m) }))), {
      shellId: 'B6631D8E',
      resourceUri: 'http://schemas.microsoft.com/powershell/Microsoft.PowerShell',
      owner: 'HOST\\vagrant',
      clientIp: '10.0.2.2',
      processId: 2792,
      idleTimeout: 7200,
      inputStreams: ['stdin', 'pr'],
      outputStreams: ['stdout'],
      maxIdleTimeout: 2147483.647,
      locale: 'en-US',
      dataLocale: 'en-US',
      compressionMode: 'NoCompression',
      profileLoaded: 'Yes',
      encoding: 'UTF8',
      bufferMode: 'Block',
      state: 'Disconnected',
      shellRunTime: 9,
      shellInactivity: 0,
      memoryUsed: '46MB',
      childProcesses: 0,
    })
  })
})

describe('WinRS Command, Send, Receive, Signal, Delete (MS-WSMV 3.1.4.11-3.1.4.14)', () => {
  test('CommandLine: command, arguments in order, skip-cmd-shell always sent, console mode when set', () => {
    const req = winrsCommand({
      shellId: 'S',
      command: 'cmd.exe',
      arguments: ['/c', 'echo <hi> & exit 1', ''],
      commandId: 'C1',
      consoleModeStdin: true,
    })
    const { header, body } = envelopeOf(req)
    assert.equal(nsChild(nsChild(header, wsman, 'SelectorSet'), wsman, 'Selector')?.text, 'S')
    assert.deepEqual(options(header), [
      ['WINRS_CONSOLEMODE_STDIN', undefined, 'True'],
      ['WINRS_SKIP_CMD_SHELL', undefined, 'False'],
    ])
    const cl = nsChild(body, rsp, 'CommandLine')
    assert.equal(nsAttr(cl, 'CommandId'), 'C1')
    assert.equal(nsChild(cl, rsp, 'Command')?.text, 'cmd.exe')
    assert.deepEqual(
      nsChildren(cl, rsp, 'Arguments').map((a) => a.text),
      ['/c', 'echo <hi> & exit 1', ''],
    )
    assert.deepEqual(
      options(envelopeOf(winrsCommand({ shellId: 'S', command: 'x', skipCmdShell: true })).header),
      [['WINRS_SKIP_CMD_SHELL', undefined, 'True']],
    )
  })

  test('Send: base64 stdin with End', () => {
    const req = winrsSend({
      shellId: 'S',
      commandId: 'C',
      data: new TextEncoder().encode('Write-Host 1'),
      end: true,
    })
    const st = nsChild(nsChild(envelopeOf(req).body, rsp, 'Send'), rsp, 'Stream')
    assert.equal(nsAttr(st, 'Name'), 'stdin')
    assert.equal(nsAttr(st, 'CommandId'), 'C')
    assert.equal(nsAttr(st, 'End'), 'True')
    assert.equal(st?.text, 'V3JpdGUtSG9zdCAx')
    const notEnd = nsChild(
      nsChild(
        envelopeOf(winrsSend({ shellId: 'S', commandId: 'C', data: new Uint8Array() })).body,
        rsp,
        'Send',
      ),
      rsp,
      'Stream',
    )
    assert.equal(nsAttr(notEnd, 'End'), 'False')
    assert.equal(notEnd?.text, '')
  })

  test('Receive: DesiredStream with CommandId and the keep-alive option', () => {
    const { header, body } = envelopeOf(winrsReceive({ shellId: 'S', commandId: 'C', operationTimeout: 60 }))
    assert.deepEqual(options(header), [['WSMAN_CMDSHELL_OPTION_KEEPALIVE', undefined, 'True']])
    assert.equal(nsChild(header, wsman, 'OperationTimeout')?.text, 'PT60.000S')
    const ds = nsChild(nsChild(body, rsp, 'Receive'), rsp, 'DesiredStream')
    assert.equal(nsAttr(ds, 'CommandId'), 'C')
    assert.equal(ds?.text, 'stdout stderr')
    assert.equal(
      nsChild(envelopeOf(winrsReceive({ shellId: 'S', keepAlive: false })).header, wsman, 'OptionSet'),
      undefined,
    )
  })

  test('Signal codes by name, or any URI verbatim', () => {
    const code = (req: WSManRequest): string | undefined =>
      nsChild(nsChild(envelopeOf(req).body, rsp, 'Signal'), rsp, 'Code')?.text
    assert.equal(code(winrsSignal({ shellId: 'S', commandId: 'C' })), SignalCode.terminate)
    assert.equal(code(winrsSignal({ shellId: 'S', commandId: 'C', code: 'ctrl_c' })), SignalCode.ctrl_c)
    assert.equal(
      code(winrsSignal({ shellId: 'S', commandId: 'C', code: 'ctrl_break' })),
      SignalCode.ctrl_break,
    )
    assert.equal(
      code(winrsSignal({ shellId: 'S', commandId: 'C', code: 'ps_crtl_c' })),
      'powershell/signal/crtl_c',
    )
    assert.equal(code(winrsSignal({ shellId: 'S', code: 'urn:custom' })), 'urn:custom')
    assert.throws(() => winrsSignal({ shellId: 'S', code: '' }), InvalidArgumentError)
    // Object.prototype names are not signal names.
    assert.equal(code(winrsSignal({ shellId: 'S', code: 'toString' })), 'toString')
  })

  test('Delete names the shell; an empty ShellId is refused', () => {
    const req = winrsDelete({ shellId: 'S' })
    assert.deepEqual(req, { action: 'delete', resourceUri: ResourceUri.Cmd, selectors: { ShellId: 'S' } })
    assert.throws(() => winrsDelete({ shellId: '' }), InvalidArgumentError)
    assert.throws(() => winrsCommand({ shellId: '', command: 'x' }), InvalidArgumentError)
  })
})
