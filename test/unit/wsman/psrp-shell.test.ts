import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '../../../src/errors.ts'
import { parseXml } from '../../../src/internal/xml.ts'
import { Namespace } from '../../../src/wsman/constants.ts'
import {
  buildEnvelope,
  powerShellResourceUri,
  psrpCommand,
  psrpConnect,
  psrpCreate,
  psrpDelete,
  psrpDisconnect,
  psrpEnumerateCommands,
  psrpEnumerateShells,
  psrpGetShell,
  psrpReceive,
  psrpReconnect,
  psrpSend,
  psrpSignal,
  ResourceUri,
  type WSManRequest,
} from '../../../src/wsman/index.ts'
import { renderXml } from '../../../src/wsman/xml-node.ts'
import { nsAttr, nsChild, nsChildren, resolveNamespaces, type NsElement } from '../../../src/wsman/xml-ns.ts'

const { rsp, wsman, wsen, psrp } = Namespace
const POOL = 'b6631d8e-65a0-49f2-9053-a1b156c95777'
const PIPE = '{929cbf0c-2f15-421b-bae7-f618fadc9ecf}'
const BYTES = Uint8Array.of(0, 0, 0, 1, 0xff)

function envelopeOf(req: WSManRequest): { header: NsElement; body: NsElement } {
  const xml = buildEnvelope(req, { to: 'https://h:5986/wsman', messageId: POOL })
  const env = resolveNamespaces(parseXml(xml, { error: (m) => new Error(m) }))
  const header = nsChild(env, Namespace.s, 'Header')
  const body = nsChild(env, Namespace.s, 'Body')
  assert.ok(header !== undefined && body !== undefined)
  return { header, body }
}

const shellSelector = (h: NsElement): string | undefined =>
  nsChild(nsChild(h, wsman, 'SelectorSet'), wsman, 'Selector')?.text

describe('PSRP over WinRS (MS-PSRP 3.1.5.3)', () => {
  test('resource URI per configuration name', () => {
    assert.equal(powerShellResourceUri(), 'http://schemas.microsoft.com/powershell/Microsoft.PowerShell')
    assert.equal(
      powerShellResourceUri('PowerShell.7'),
      'http://schemas.microsoft.com/powershell/PowerShell.7',
    )
    assert.equal(
      powerShellResourceUri('http://schemas.microsoft.com/powershell/Microsoft.Exchange'),
      'http://schemas.microsoft.com/powershell/Microsoft.Exchange',
    )
    assert.throws(() => powerShellResourceUri(''), InvalidArgumentError)
  })

  test('Create: ShellId is the upper-case pool id, stdin pr / stdout, protocolversion MustComply, creationXml', () => {
    const req = psrpCreate({
      shellId: POOL,
      creationXml: BYTES,
      configurationName: 'PowerShell.7',
      idleTimeout: 60,
      noProfile: true,
    })
    assert.equal(req.resourceUri, 'http://schemas.microsoft.com/powershell/PowerShell.7')
    assert.equal(
      renderXml(req.body),
      '<rsp:Shell ShellId="B6631D8E-65A0-49F2-9053-A1B156C95777"><rsp:IdleTimeOut>PT60.000S</rsp:IdleTimeOut>' +
        '<rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>' +
        '<creationXml xmlns="http://schemas.microsoft.com/powershell">AAAAAf8=</creationXml></rsp:Shell>',
    )
    const { header, body } = envelopeOf(req)
    assert.deepEqual(
      nsChildren(nsChild(header, wsman, 'OptionSet'), wsman, 'Option').map((o) => [
        nsAttr(o, 'Name'),
        nsAttr(o, 'MustComply'),
        o.text,
      ]),
      [
        ['protocolversion', 'true', '2.3'],
        ['WINRS_NOPROFILE', 'true', 'TRUE'],
      ],
    )
    assert.equal(nsChild(nsChild(body, rsp, 'Shell'), psrp, 'creationXml')?.text, 'AAAAAf8=')
    assert.throws(() => psrpCreate({ shellId: 'nope', creationXml: BYTES }), InvalidArgumentError)
    assert.throws(
      () => psrpCreate({ shellId: POOL, creationXml: BYTES, protocolVersion: 'x' }),
      InvalidArgumentError,
    )
  })

  test('Command: CommandId is the upper-case pipeline id, empty Command, base64 Arguments, no options', () => {
    const { header, body } = envelopeOf(psrpCommand({ shellId: POOL, pipelineId: PIPE, arguments: BYTES }))
    assert.equal(shellSelector(header), 'B6631D8E-65A0-49F2-9053-A1B156C95777')
    assert.equal(nsChild(header, wsman, 'OptionSet'), undefined)
    const cl = nsChild(body, rsp, 'CommandLine')
    assert.equal(nsAttr(cl, 'CommandId'), '929CBF0C-2F15-421B-BAE7-F618FADC9ECF')
    assert.equal(nsChild(cl, rsp, 'Command')?.text, '')
    assert.deepEqual(
      nsChildren(cl, rsp, 'Arguments').map((a) => a.text),
      ['AAAAAf8='],
    )
  })

  test('Send: stdin for the pool, pr for a pipeline, no End attribute', () => {
    const pool = nsChild(
      nsChild(envelopeOf(psrpSend({ shellId: POOL, data: BYTES })).body, rsp, 'Send'),
      rsp,
      'Stream',
    )
    assert.deepEqual(pool?.attrs, { Name: 'stdin' })
    assert.equal(pool?.text, 'AAAAAf8=')
    const pr = nsChild(
      nsChild(
        envelopeOf(psrpSend({ shellId: POOL, data: BYTES, stream: 'pr', pipelineId: PIPE })).body,
        rsp,
        'Send',
      ),
      rsp,
      'Stream',
    )
    assert.deepEqual(pr?.attrs, { Name: 'pr', CommandId: '929CBF0C-2F15-421B-BAE7-F618FADC9ECF' })
  })

  test('Receive: stdout, CommandId only for a pipeline, keep-alive option', () => {
    const pool = envelopeOf(psrpReceive({ shellId: POOL }))
    const ds = nsChild(nsChild(pool.body, rsp, 'Receive'), rsp, 'DesiredStream')
    assert.equal(ds?.text, 'stdout')
    assert.equal(nsAttr(ds, 'CommandId'), undefined)
    assert.equal(nsChild(nsChild(pool.header, wsman, 'OptionSet'), wsman, 'Option')?.text, 'True')
    const pipe = nsChild(
      nsChild(envelopeOf(psrpReceive({ shellId: POOL, pipelineId: PIPE })).body, rsp, 'Receive'),
      rsp,
      'DesiredStream',
    )
    assert.equal(nsAttr(pipe, 'CommandId'), '929CBF0C-2F15-421B-BAE7-F618FADC9ECF')
  })

  test('Signal: PowerShell stop code by default, Terminate on request', () => {
    const code = (req: WSManRequest): string | undefined =>
      nsChild(nsChild(envelopeOf(req).body, rsp, 'Signal'), rsp, 'Code')?.text
    assert.equal(code(psrpSignal({ shellId: POOL, pipelineId: PIPE })), 'powershell/signal/crtl_c')
    assert.equal(
      code(psrpSignal({ shellId: POOL, pipelineId: PIPE, code: 'terminate' })),
      'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/Terminate',
    )
  })

  test('Delete closes the pool shell', () => {
    const { header, body } = envelopeOf(psrpDelete({ shellId: POOL }))
    assert.equal(shellSelector(header), 'B6631D8E-65A0-49F2-9053-A1B156C95777')
    assert.equal(body.children.length, 0)
  })

  test('Connect: protocolversion and connectXml', () => {
    const { header, body } = envelopeOf(psrpConnect({ shellId: POOL, connectXml: BYTES }))
    assert.equal(nsChild(nsChild(header, wsman, 'OptionSet'), wsman, 'Option')?.text, '2.3')
    assert.equal(nsChild(nsChild(body, rsp, 'Connect'), psrp, 'connectXml')?.text, 'AAAAAf8=')
  })

  test('Disconnect: empty, or with IdleTimeOut and BufferMode', () => {
    assert.equal(renderXml(psrpDisconnect({ shellId: POOL }).body ?? { name: 'none' }), '<rsp:Disconnect />')
    assert.equal(
      renderXml(
        psrpDisconnect({ shellId: POOL, idleTimeout: 180, bufferMode: 'Drop' }).body ?? { name: 'none' },
      ),
      '<rsp:Disconnect><rsp:IdleTimeOut>PT180.000S</rsp:IdleTimeOut><rsp:BufferMode>Drop</rsp:BufferMode></rsp:Disconnect>',
    )
  })

  test('Reconnect: no body by default (MS-WSMV 3.1.4.16), rsp:Reconnect when a mode or pipeline is named', () => {
    assert.equal(envelopeOf(psrpReconnect({ shellId: POOL })).body.children.length, 0)
    assert.equal(
      renderXml(
        psrpReconnect({ shellId: POOL, bufferMode: 'Block', pipelineId: PIPE }).body ?? { name: 'none' },
      ),
      '<rsp:Reconnect CommandId="929CBF0C-2F15-421B-BAE7-F618FADC9ECF"><rsp:BufferMode>Block</rsp:BufferMode></rsp:Reconnect>',
    )
  })

  test("Enumerate shells and a shell's commands; Get one shell", () => {
    const shells = envelopeOf(psrpEnumerateShells())
    assert.equal(nsChild(shells.header, wsman, 'ResourceURI')?.text, ResourceUri.Shell)
    assert.equal(nsChild(nsChild(shells.body, wsen, 'Enumerate'), wsman, 'Filter'), undefined)
    const filtered = envelopeOf(psrpEnumerateShells({ filter: { selectors: { ShellId: 'X' } } }))
    assert.ok(nsChild(nsChild(filtered.body, wsen, 'Enumerate'), wsman, 'Filter') !== undefined)
    const cmds = envelopeOf(psrpEnumerateCommands({ shellId: POOL }))
    assert.equal(nsChild(cmds.header, wsman, 'ResourceURI')?.text, ResourceUri.ShellCommand)
    const sel = nsChild(
      nsChild(nsChild(nsChild(cmds.body, wsen, 'Enumerate'), wsman, 'Filter'), wsman, 'SelectorSet'),
      wsman,
      'Selector',
    )
    assert.equal(sel?.text, 'B6631D8E-65A0-49F2-9053-A1B156C95777')
    const get = envelopeOf(psrpGetShell({ shellId: POOL, operationTimeout: 5 }))
    assert.equal(nsChild(get.header, wsman, 'ResourceURI')?.text, ResourceUri.Shell)
    assert.equal(nsChild(get.header, wsman, 'OperationTimeout')?.text, 'PT5.000S')
    assert.equal(shellSelector(get.header), 'B6631D8E-65A0-49F2-9053-A1B156C95777')
  })

  test('ids that are not GUIDs are InvalidArgumentError', () => {
    assert.throws(() => psrpSend({ shellId: 'x', data: BYTES }), InvalidArgumentError)
    assert.throws(() => psrpSignal({ shellId: POOL, pipelineId: 'y' }), InvalidArgumentError)
    assert.throws(() => psrpEnumerateCommands({ shellId: '' }), InvalidArgumentError)
  })
})
