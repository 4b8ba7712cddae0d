/**
 * Any-action envelopes, WS-Enumeration with a WQL filter, and CIM instances and methods, sans-IO:
 * request envelopes as MS-WSMV 4.1.4 and DSP0226 8.2 lay them out, the enumeration cursor's
 * Enumerate → Pull → … → EndOfSequence sequence and its Release, instances parsed from Windows'
 * recorded responses (WinRb/WinRM mocks in shared/corpus) into plain objects, method output, faults.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { InvalidArgumentError, InvalidStateError, ProtocolError } from '../../../src/errors.ts'
import { parseXml } from '../../../src/internal/xml.ts'
import { parseActionResponse } from '../../../src/wsman/action-response.ts'
import {
  cimMethodRequest,
  cimResourceUri,
  convertCimValue,
  parseCimInstance,
  parseCimMethodOutput,
} from '../../../src/wsman/cim.ts'
import { Namespace } from '../../../src/wsman/constants.ts'
import { buildEnvelope } from '../../../src/wsman/envelope.ts'
import { EnumerationCursor, RELEASE_ACTION, wqlFilter, WQL_DIALECT } from '../../../src/wsman/enumeration.ts'
import { parseResponse } from '../../../src/wsman/response.ts'
import { nsChild, resolveNamespaces, type NsElement } from '../../../src/wsman/xml-ns.ts'
import { corpusDir } from '../../helpers/peers.ts'

const MID = '9A989269-283B-4624-BAC5-BC291F72E854'
const to = 'http://server:80/wsman'
const opts = { to, messageId: MID }
const SERVICE = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service'

const tree = (xml: string): NsElement => resolveNamespaces(parseXml(xml, { error: (m) => new Error(m) }))
const header = (env: NsElement, local: string): string | undefined =>
  nsChild(nsChild(env, Namespace.s, 'Header'), Namespace.wsa, local)?.text
const bodyOf = (env: NsElement): NsElement | undefined => nsChild(env, Namespace.s, 'Body')?.children[0]

function response(action: string, body: string, relatesTo = `uuid:${MID}`): string {
  return `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xml:lang="en-US"><s:Header><a:Action>${action}</a:Action><a:MessageID>uuid:F0228E67-F37B-4BE3-BAA2-3BB58AA6F911</a:MessageID><a:RelatesTo>${relatesTo}</a:RelatesTo></s:Header><s:Body>${body}</s:Body></s:Envelope>`
}

const serviceXml = (name: string, state: string): string =>
  `<p:Win32_Service xmlns:p="${SERVICE}" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="p:Win32_Service_Type"><p:AcceptStop>true</p:AcceptStop><p:ExitCode>0</p:ExitCode><p:InstallDate xsi:nil="true"/><p:Name>${name}</p:Name><p:ProcessId>1234</p:ProcessId><p:State>${state}</p:State></p:Win32_Service>`

test('a custom action: the action URI and the caller-built body, MS-WSMV 4.1.4 layout', () => {
  const req = cimMethodRequest(
    { resourceUri: 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process' },
    'Create',
    { CommandLine: 'notepad.exe', CurrentDirectory: 'C:\\' },
  )
  const env = tree(buildEnvelope(req, opts))
  assert.equal(
    header(env, 'Action'),
    'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process/Create',
  )
  const input = bodyOf(env) as NsElement
  assert.equal(input.local, 'Create_INPUT')
  assert.equal(input.ns, 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Process')
  assert.deepEqual(
    input.children.map((c) => [c.ns === input.ns, c.local, c.text]),
    [
      [true, 'CommandLine', 'notepad.exe'],
      [true, 'CurrentDirectory', 'C:\\'],
    ],
  )
  // instance methods carry the instance's selectors; null and arrays of parameters
  const stop = tree(
    buildEnvelope(
      cimMethodRequest({ resourceUri: SERVICE, selectors: { Name: 'Spooler' } }, 'StopService', {
        A: null,
        B: [1, 2],
        C: true,
      }),
      opts,
    ),
  )
  const sel = nsChild(nsChild(stop, Namespace.s, 'Header'), Namespace.wsman, 'SelectorSet')?.children[0]
  assert.equal(sel?.attrs['Name'], 'Name')
  assert.equal(sel?.text, 'Spooler')
  assert.deepEqual(
    (bodyOf(stop) as NsElement).children.map((c) => [c.local, c.text, c.attrs['xsi:nil']]),
    [
      ['A', '', 'true'],
      ['B', '1', undefined],
      ['B', '2', undefined],
      ['C', 'true', undefined],
    ],
  )
  assert.throws(() => cimMethodRequest({ resourceUri: SERVICE }, 'Stop Service'), InvalidArgumentError)
  assert.throws(() => cimMethodRequest({ resourceUri: SERVICE }, 'X', { 'a b': 1 }), InvalidArgumentError)
  assert.throws(
    () => buildEnvelope({ action: 'custom', actionUri: '', resourceUri: SERVICE }, opts),
    InvalidArgumentError,
  )
})

test('resource URIs: class names map into the WMI namespace, URIs pass, anything else is refused', () => {
  assert.equal(cimResourceUri('Win32_Service'), SERVICE)
  assert.equal(
    cimResourceUri('*', 'root\\cimv2'),
    'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/*',
  )
  assert.equal(
    cimResourceUri('StdRegProv', 'root/default'),
    'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/default/StdRegProv',
  )
  assert.equal(
    cimResourceUri('http://schemas.microsoft.com/wbem/wsman/1/config'),
    'http://schemas.microsoft.com/wbem/wsman/1/config',
  )
  assert.throws(() => cimResourceUri('Win32 Service'), InvalidArgumentError)
  assert.throws(() => cimResourceUri('Win32_Service', 'root/../x'), InvalidArgumentError)
})

test('enumeration: Enumerate with a WQL filter, Pull with the latest context until EndOfSequence', () => {
  const cursor = new EnumerationCursor({
    resourceUri: cimResourceUri('*'),
    filter: wqlFilter("SELECT * FROM Win32_Service WHERE State = 'Running'"),
    maxElements: 2,
  })
  const first = cursor.next()
  assert.equal(first?.action, 'enumerate')
  const env = tree(buildEnvelope(first as NonNullable<typeof first>, opts))
  const enumerate = bodyOf(env) as NsElement
  assert.deepEqual(
    enumerate.children.map((c) => c.local),
    ['OptimizeEnumeration', 'MaxElements', 'Filter'],
  )
  const filter = nsChild(enumerate, Namespace.wsman, 'Filter') as NsElement
  assert.equal(filter.attrs['Dialect'], WQL_DIALECT)
  assert.equal(filter.text, "SELECT * FROM Win32_Service WHERE State = 'Running'")
  assert.throws(() => cursor.next(), InvalidStateError)

  const page = (
    action: 'EnumerateResponse' | 'PullResponse',
    ctx: string | undefined,
    names: string[],
    end: boolean,
  ): string =>
    response(
      `http://schemas.xmlsoap.org/ws/2004/09/enumeration/${action}`,
      `<n:${action}>${ctx === undefined ? '' : `<n:EnumerationContext>${ctx}</n:EnumerationContext>`}${action === 'EnumerateResponse' ? '<w:Items>' : '<n:Items>'}${names.map((n) => serviceXml(n, 'Running')).join('')}${action === 'EnumerateResponse' ? '</w:Items>' : '</n:Items>'}${end ? (action === 'EnumerateResponse' ? '<w:EndOfSequence/>' : '<n:EndOfSequence/>') : ''}</n:${action}>`,
    )
  const names: string[] = []
  const take = (xml: string): void => {
    for (const item of cursor.receive(parseResponse(xml))) names.push(String(parseCimInstance(item)['Name']))
  }
  take(page('EnumerateResponse', 'uuid:ctx-1', ['A', 'B'], false))
  const pull = cursor.next()
  assert.deepEqual(pull?.action === 'pull' && [pull.enumerationContext, pull.maxElements], ['uuid:ctx-1', 2])
  take(page('PullResponse', 'uuid:ctx-2', ['C', 'D'], false))
  const pull2 = cursor.next()
  assert.equal(pull2?.action === 'pull' && pull2.enumerationContext, 'uuid:ctx-2')
  take(page('PullResponse', undefined, ['E'], true))
  assert.equal(cursor.next(), undefined)
  assert.equal(cursor.release(), undefined, 'nothing to release after EndOfSequence')
  assert.deepEqual(names, ['A', 'B', 'C', 'D', 'E'])
})

test('enumeration: Release for an early stop, wrong answers and endless servers are ProtocolErrors', () => {
  const cursor = new EnumerationCursor({ resourceUri: SERVICE })
  cursor.next()
  cursor.receive(
    parseResponse(
      response(
        'http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse',
        '<n:EnumerateResponse><n:EnumerationContext>uuid:C1</n:EnumerationContext><w:Items/></n:EnumerateResponse>',
      ),
    ),
  )
  const release = cursor.release()
  assert.ok(release !== undefined)
  const env = tree(buildEnvelope(release, opts))
  assert.equal(header(env, 'Action'), RELEASE_ACTION)
  assert.equal(nsChild(bodyOf(env), Namespace.wsen, 'EnumerationContext')?.text, 'uuid:C1')
  assert.equal(cursor.next(), undefined)

  const wrong = new EnumerationCursor({ resourceUri: SERVICE })
  wrong.next()
  assert.throws(
    () =>
      wrong.receive(
        parseResponse(
          response('http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse', serviceXml('x', 'y')),
        ),
      ),
    ProtocolError,
  )
  const endless = new EnumerationCursor({ resourceUri: SERVICE, maxResponses: 2 })
  const more = (kind: string): string =>
    response(
      `http://schemas.xmlsoap.org/ws/2004/09/enumeration/${kind}`,
      `<n:${kind}><n:EnumerationContext>uuid:again</n:EnumerationContext></n:${kind}>`,
    )
  endless.next()
  endless.receive(parseResponse(more('EnumerateResponse')))
  endless.next()
  endless.receive(parseResponse(more('PullResponse')))
  endless.next()
  assert.throws(() => endless.receive(parseResponse(more('PullResponse'))), /never ended/)
})

test('CIM instances: strings by default, xsi:nil null, repeated elements arrays, nested objects, known types', () => {
  const xml = `<p:Win32_OperatingSystem xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_OperatingSystem" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema">
    <p:BuildNumber>20348</p:BuildNumber><p:Caption>Microsoft Windows Server 2022 Datacenter</p:Caption>
    <p:FreePhysicalMemory>9007199254740993</p:FreePhysicalMemory><p:NumberOfProcesses>120</p:NumberOfProcesses>
    <p:Primary>true</p:Primary><p:CurrentTimeZone>-300</p:CurrentTimeZone>
    <p:LastBootUpTime><cim:Datetime>2024-01-02T03:04:05.123456-05:00</cim:Datetime></p:LastBootUpTime>
    <p:MUILanguages>en-US</p:MUILanguages><p:MUILanguages>de-DE</p:MUILanguages>
    <p:CSDVersion xsi:nil="true"/><p:Unknown>42</p:Unknown><p:Typed xsi:type="xs:int">-7</p:Typed>
    <p:Ref><a:Address xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing">x</a:Address></p:Ref>
    <p:__proto__>safe</p:__proto__>
  </p:Win32_OperatingSystem>`
  const os = parseCimInstance(tree(xml))
  assert.equal(os['BuildNumber'], '20348', 'a string property stays text')
  assert.equal(os['FreePhysicalMemory'], 9007199254740993n, 'uint64 exactly')
  assert.equal(os['NumberOfProcesses'], 120)
  assert.equal(os['Primary'], true)
  assert.equal(os['CurrentTimeZone'], -300)
  assert.equal(os['LastBootUpTime'], '2024-01-02T03:04:05.123456-05:00')
  assert.deepEqual(os['MUILanguages'], ['en-US', 'de-DE'])
  assert.equal(os['CSDVersion'], null)
  assert.equal(os['Unknown'], '42', 'unknown schema: text')
  assert.equal(os['Typed'], -7, 'xsi:type of an XML Schema primitive')
  assert.deepEqual(os['Ref'], { Address: 'x' })
  assert.equal(Object.getPrototypeOf(os), Object.prototype)
  assert.equal(Object.getOwnPropertyDescriptor(os, '__proto__')?.value, 'safe')
  // a caller's schema wins; a value that does not fit its type is the server's error
  assert.equal(parseCimInstance(tree(xml), { schema: { Unknown: 'uint8' } })['Unknown'], 42)
  assert.throws(() => parseCimInstance(tree(xml), { schema: { Caption: 'uint32' } }), ProtocolError)
  assert.throws(() => convertCimValue('256', 'uint8'), ProtocolError)
  assert.equal(convertCimValue('-INF', 'real64'), -Infinity)
  assert.equal(convertCimValue('0', 'boolean'), false)
})

test('CIM method output: ReturnValue typed for known methods; another element is a ProtocolError; faults typed', () => {
  const out = parseActionResponse(
    response(
      `${SERVICE}/StopServiceResponse`,
      `<p:StopService_OUTPUT xmlns:p="${SERVICE}"><p:ReturnValue>5</p:ReturnValue></p:StopService_OUTPUT>`,
    ),
    { relatesTo: MID },
  )
  assert.equal(out.kind, 'response')
  assert.deepEqual(out.kind === 'response' && parseCimMethodOutput(out.content, SERVICE, 'StopService'), {
    ReturnValue: 5,
  })
  assert.throws(
    () => out.kind === 'response' && parseCimMethodOutput(out.content, SERVICE, 'StartService'),
    ProtocolError,
  )
  assert.throws(
    () =>
      parseActionResponse(response('x', '', 'uuid:00000000-0000-0000-0000-000000000000'), { relatesTo: MID }),
    ProtocolError,
  )
  assert.throws(() => parseActionResponse('<oops'), ProtocolError)
})

const mocks = ((): string | undefined => {
  const dir = corpusDir()
  return dir === undefined ? undefined : join(dir, 'WinRM-sneal-reference/spec/mock')
})()

test(
  'recorded Windows responses (WinRb/WinRM mocks): Win32_Process items, Pull EndOfSequence, custom-action output, WMI fault',
  { skip: mocks === undefined && 'shared/corpus not found' },
  () => {
    const read = (f: string): string => readFileSync(join(mocks as string, f), 'utf8')
    const e1 = parseResponse(read('enumerate_1.xml'))
    assert.ok(e1.kind === 'enumerated')
    assert.equal(e1.enumerationContext, 'uuid:12AE5286-91FE-48F3-937E-0C22FF1AD7A1')
    const procs = e1.items.map((i) => parseCimInstance(i))
    assert.deepEqual(
      procs.map((p) => p['Name']),
      ['System Idle Process', 'System'],
    )
    assert.equal(procs[0]?.['CommandLine'], null)
    assert.equal(procs[1]?.['CreationDate'], '2013-04-29T11:43:11.203125-07:00')
    assert.equal(procs[1]?.['ThreadCount'], '76', 'Win32_Process is not in the known table: text')
    const e2 = parseResponse(read('enumerate_2.xml'))
    assert.ok(e2.kind === 'pulled' && e2.endOfSequence && e2.items.length > 0)
    const inv = parseActionResponse(read('invoke_1.xml'))
    assert.ok(inv.kind === 'response')
    assert.deepEqual(
      parseCimMethodOutput(
        inv.content,
        'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/CIM_DataFile',
        'Delete',
      ),
      { ReturnValue: '0' },
    )
    const fault = parseActionResponse(read('wsman_fault.xml'))
    assert.ok(fault.kind === 'fault')
    assert.equal(fault.fault.subcodeName?.local, 'CannotProcessFilter')
    assert.equal(fault.fault.wsmanFaultCode, 2150858778)
    assert.match(fault.fault.message ?? '', /class does not exist/)
  },
)
