import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { InvalidArgumentError } from '../../../src/errors.ts'
import { parseXml } from '../../../src/internal/xml.ts'
import { Namespace, WSManAction } from '../../../src/wsman/constants.ts'
import { formatDuration, parseDuration } from '../../../src/wsman/duration.ts'
import { el } from '../../../src/wsman/xml-node.ts'
import {
  buildEnvelope,
  ResourceUri,
  type EnvelopeOptions,
  type WSManRequest,
} from '../../../src/wsman/index.ts'
import { nsAttr, nsChild, nsChildren, resolveNamespaces, type NsElement } from '../../../src/wsman/xml-ns.ts'

const GUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'
const OPTS: EnvelopeOptions = { to: 'http://win1:5985/wsman', messageId: GUID }

function parse(xml: string): { header: NsElement; body: NsElement } {
  const env = resolveNamespaces(parseXml(xml, { error: (m) => new Error(m) }))
  const header = nsChild(env, Namespace.s, 'Header')
  const body = nsChild(env, Namespace.s, 'Body')
  assert.ok(header !== undefined && body !== undefined)
  return { header, body }
}

const get = (resourceUri: string = ResourceUri.Config): WSManRequest => ({ action: 'get', resourceUri })

describe('buildEnvelope (MS-WSMV 3.1.4.1 headers)', () => {
  test('a Get for the WinRM config is written byte for byte as expected', () => {
    const xml = buildEnvelope(get(), { ...OPTS, sessionId: 'AABBCCDD-0000-1111-2222-333344445555' })
    assert.equal(
      xml,
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
        ' xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:wsmv="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">' +
        '<s:Header><wsa:To>http://win1:5985/wsman</wsa:To>' +
        '<wsa:ReplyTo><wsa:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo>' +
        '<wsa:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</wsa:Action>' +
        '<wsa:MessageID>uuid:0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0</wsa:MessageID>' +
        '<wsman:ResourceURI s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/config</wsman:ResourceURI>' +
        '<wsman:OperationTimeout>PT20.000S</wsman:OperationTimeout>' +
        '<wsman:MaxEnvelopeSize s:mustUnderstand="true">153600</wsman:MaxEnvelopeSize>' +
        '<wsman:Locale xml:lang="en-US" s:mustUnderstand="false" />' +
        '<wsmv:DataLocale xml:lang="en-US" s:mustUnderstand="false" />' +
        '<wsmv:SessionId s:mustUnderstand="false">uuid:AABBCCDD-0000-1111-2222-333344445555</wsmv:SessionId>' +
        '</s:Header><s:Body /></s:Envelope>',
    )
  })

  test('MessageID comes from the injected GUID source when not given', () => {
    let n = 0
    const newGuid = (): string => `00000000-0000-0000-0000-00000000000${++n}`
    const a = parse(buildEnvelope(get(), { to: OPTS.to, newGuid }))
    const b = parse(buildEnvelope(get(), { to: OPTS.to, newGuid }))
    assert.equal(
      nsChild(a.header, Namespace.wsa, 'MessageID')?.text,
      'uuid:00000000-0000-0000-0000-000000000001',
    )
    assert.equal(
      nsChild(b.header, Namespace.wsa, 'MessageID')?.text,
      'uuid:00000000-0000-0000-0000-000000000002',
    )
  })

  test('every action maps to its MS-WSMV action URI', () => {
    const cases: [WSManRequest, string][] = [
      [{ action: 'create', resourceUri: 'r', body: el('x:Y', { 'xmlns:x': 'urn:x' }) }, WSManAction.Create],
      [{ action: 'put', resourceUri: 'r', body: el('x:Y', { 'xmlns:x': 'urn:x' }) }, WSManAction.Put],
      [{ action: 'get', resourceUri: 'r' }, WSManAction.Get],
      [{ action: 'delete', resourceUri: 'r' }, WSManAction.Delete],
      [{ action: 'enumerate', resourceUri: 'r' }, WSManAction.Enumerate],
      [{ action: 'pull', resourceUri: 'r', enumerationContext: 'ctx' }, WSManAction.Pull],
      [{ action: 'command', resourceUri: 'r', body: el('rsp:CommandLine') }, WSManAction.Command],
      [{ action: 'send', resourceUri: 'r', body: el('rsp:Send') }, WSManAction.Send],
      [{ action: 'receive', resourceUri: 'r', body: el('rsp:Receive') }, WSManAction.Receive],
      [{ action: 'signal', resourceUri: 'r', body: el('rsp:Signal') }, WSManAction.Signal],
      [{ action: 'connect', resourceUri: 'r', body: el('rsp:Connect') }, WSManAction.Connect],
      [{ action: 'disconnect', resourceUri: 'r', body: el('rsp:Disconnect') }, WSManAction.Disconnect],
      [{ action: 'reconnect', resourceUri: 'r' }, WSManAction.Reconnect],
    ]
    for (const [req, uri] of cases) {
      const { header } = parse(buildEnvelope(req, OPTS))
      assert.equal(nsChild(header, Namespace.wsa, 'Action')?.text, uri, req.action)
    }
  })

  test('selectors and options are written in order, with MustComply only where asked', () => {
    const { header } = parse(
      buildEnvelope(
        {
          action: 'get',
          resourceUri: 'r',
          selectors: { ShellId: 'S1', Other: 'a"b' },
          options: [
            { name: 'protocolversion', value: '2.3', mustComply: true },
            { name: 'WINRS_CODEPAGE', value: '65001' },
          ],
        },
        OPTS,
      ),
    )
    const sels = nsChildren(nsChild(header, Namespace.wsman, 'SelectorSet'), Namespace.wsman, 'Selector')
    assert.deepEqual(
      sels.map((s) => [nsAttr(s, 'Name'), s.text]),
      [
        ['ShellId', 'S1'],
        ['Other', 'a"b'],
      ],
    )
    const set = nsChild(header, Namespace.wsman, 'OptionSet')
    assert.equal(nsAttr(set, 'mustUnderstand', Namespace.s), 'true')
    const opts = nsChildren(set, Namespace.wsman, 'Option')
    assert.deepEqual(
      opts.map((o) => [nsAttr(o, 'Name'), nsAttr(o, 'MustComply'), o.text]),
      [
        ['protocolversion', 'true', '2.3'],
        ['WINRS_CODEPAGE', undefined, '65001'],
      ],
    )
  })

  test('empty selector and option sets are left out', () => {
    const { header } = parse(
      buildEnvelope({ action: 'get', resourceUri: 'r', selectors: {}, options: [] }, OPTS),
    )
    assert.equal(nsChild(header, Namespace.wsman, 'SelectorSet'), undefined)
    assert.equal(nsChild(header, Namespace.wsman, 'OptionSet'), undefined)
  })

  test('every value is escaped: markup in selectors, options, URIs and locale cannot break out', () => {
    const evil = `</wsman:Selector><x a="1">&amp;'"`
    const xml = buildEnvelope(
      {
        action: 'get',
        resourceUri: `urn:a?b=1&c=<2>`,
        selectors: { [evil]: evil },
        options: [{ name: evil, value: evil }],
      },
      { ...OPTS, to: 'http://h/wsman?a=1&b="2"', locale: 'en"US' },
    )
    const { header } = parse(xml)
    assert.equal(nsChild(header, Namespace.wsman, 'ResourceURI')?.text, 'urn:a?b=1&c=<2>')
    assert.equal(nsChild(header, Namespace.wsa, 'To')?.text, 'http://h/wsman?a=1&b="2"')
    const sel = nsChild(nsChild(header, Namespace.wsman, 'SelectorSet'), Namespace.wsman, 'Selector')
    assert.equal(nsAttr(sel, 'Name'), evil)
    assert.equal(sel?.text, evil)
    const opt = nsChild(nsChild(header, Namespace.wsman, 'OptionSet'), Namespace.wsman, 'Option')
    assert.equal(nsAttr(opt, 'Name'), evil)
    assert.equal(opt?.text, evil)
    assert.equal(nsAttr(nsChild(header, Namespace.wsman, 'Locale'), 'lang', Namespace.xml), 'en"US')
  })

  test('CR, LF and tab survive in text and attributes', () => {
    const v = 'a\r\nb\tc\rd'
    const { header } = parse(buildEnvelope({ action: 'get', resourceUri: 'r', selectors: { [v]: v } }, OPTS))
    const sel = nsChild(nsChild(header, Namespace.wsman, 'SelectorSet'), Namespace.wsman, 'Selector')
    assert.equal(nsAttr(sel, 'Name'), v)
    assert.equal(sel?.text, v)
  })

  test('characters XML cannot carry are an InvalidArgumentError', () => {
    for (const bad of ['a\u0000b', '\u0001', 'x\ud800', '\uffff']) {
      assert.throws(
        () => buildEnvelope({ action: 'get', resourceUri: 'r', selectors: { ShellId: bad } }, OPTS),
        InvalidArgumentError,
      )
    }
  })

  test('per-request OperationTimeout overrides the connection default', () => {
    const a = parse(buildEnvelope(get(), { ...OPTS, operationTimeout: 60 }))
    assert.equal(nsChild(a.header, Namespace.wsman, 'OperationTimeout')?.text, 'PT60.000S')
    const b = parse(buildEnvelope({ ...get(), operationTimeout: 5.5 }, { ...OPTS, operationTimeout: 60 }))
    assert.equal(nsChild(b.header, Namespace.wsman, 'OperationTimeout')?.text, 'PT5.500S')
  })

  test('Locale and DataLocale are independent and not mustUnderstand', () => {
    const { header } = parse(
      buildEnvelope(get(), { ...OPTS, locale: 'de-DE', dataLocale: 'fr-FR', maxEnvelopeSize: 512000 }),
    )
    const loc = nsChild(header, Namespace.wsman, 'Locale')
    const data = nsChild(header, Namespace.wsmv, 'DataLocale')
    assert.equal(nsAttr(loc, 'lang', Namespace.xml), 'de-DE')
    assert.equal(nsAttr(data, 'lang', Namespace.xml), 'fr-FR')
    assert.equal(nsAttr(loc, 'mustUnderstand', Namespace.s), 'false')
    assert.equal(nsAttr(data, 'mustUnderstand', Namespace.s), 'false')
    const max = nsChild(header, Namespace.wsman, 'MaxEnvelopeSize')
    assert.equal(max?.text, '512000')
    assert.equal(nsAttr(max, 'mustUnderstand', Namespace.s), 'true')
  })

  test('Enumerate and Pull bodies (DSP0226 8.2, 8.3)', () => {
    const e = parse(
      buildEnvelope(
        { action: 'enumerate', resourceUri: 'r', maxElements: 10, filter: { selectors: { ShellId: 'S' } } },
        OPTS,
      ),
    )
    const en = nsChild(e.body, Namespace.wsen, 'Enumerate')
    assert.ok(nsChild(en, Namespace.wsman, 'OptimizeEnumeration') !== undefined)
    assert.equal(nsChild(en, Namespace.wsman, 'MaxElements')?.text, '10')
    const f = nsChild(en, Namespace.wsman, 'Filter')
    assert.equal(nsAttr(f, 'Dialect'), 'http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter')
    assert.equal(nsChild(nsChild(f, Namespace.wsman, 'SelectorSet'), Namespace.wsman, 'Selector')?.text, 'S')

    const w = parse(
      buildEnvelope(
        {
          action: 'enumerate',
          resourceUri: 'r',
          optimize: false,
          filter: { dialect: 'urn:wql', text: 'a < b' },
        },
        OPTS,
      ),
    )
    const wen = nsChild(w.body, Namespace.wsen, 'Enumerate')
    assert.equal(nsChild(wen, Namespace.wsman, 'OptimizeEnumeration'), undefined)
    assert.equal(nsChild(wen, Namespace.wsman, 'Filter')?.text, 'a < b')

    const p = parse(buildEnvelope({ action: 'pull', resourceUri: 'r', enumerationContext: 'uuid:ctx' }, OPTS))
    const pull = nsChild(p.body, Namespace.wsen, 'Pull')
    assert.equal(nsChild(pull, Namespace.wsen, 'EnumerationContext')?.text, 'uuid:ctx')
    assert.equal(nsChild(pull, Namespace.wsman, 'MaxElements')?.text, '32000')
  })

  test('bad arguments are InvalidArgumentError', () => {
    const bad: [WSManRequest, EnvelopeOptions][] = [
      [get(), { ...OPTS, to: '' }],
      [get(''), OPTS],
      [get(), { ...OPTS, messageId: 'not-a-guid' }],
      [get(), { ...OPTS, sessionId: 'nope' }],
      [get(), { ...OPTS, maxEnvelopeSize: 0 }],
      [get(), { ...OPTS, maxEnvelopeSize: 1.5 }],
      [get(), { ...OPTS, operationTimeout: 0 }],
      [get(), { ...OPTS, operationTimeout: Number.NaN }],
      [{ action: 'send', resourceUri: 'r' }, OPTS],
      [{ action: 'pull', resourceUri: 'r', enumerationContext: '' }, OPTS],
      [{ action: 'enumerate', resourceUri: 'r', maxElements: -1 }, OPTS],
      [{ action: 'put', resourceUri: 'r', body: el('undeclared:Thing') }, OPTS],
      [{ action: 'put', resourceUri: 'r', body: el('bad name') }, OPTS],
    ]
    for (const [req, o] of bad)
      assert.throws(() => buildEnvelope(req, o), InvalidArgumentError, JSON.stringify([req, o]))
  })

  test('a body may declare its own namespaces', () => {
    const xml = buildEnvelope(
      {
        action: 'put',
        resourceUri: ResourceUri.Config,
        body: el('cfg:Config', { 'xmlns:cfg': 'urn:cfg' }, el('cfg:MaxTimeoutms', undefined, '60000')),
      },
      OPTS,
    )
    const { body } = parse(xml)
    assert.equal(nsChild(nsChild(body, 'urn:cfg', 'Config'), 'urn:cfg', 'MaxTimeoutms')?.text, '60000')
  })
})

describe('xs:duration', () => {
  test('formats seconds as PTn.mmmS', () => {
    assert.equal(formatDuration(20), 'PT20.000S')
    assert.equal(formatDuration(0.25), 'PT0.250S')
    assert.equal(formatDuration(7200), 'PT7200.000S')
    assert.throws(() => formatDuration(-1), InvalidArgumentError)
    assert.throws(() => formatDuration(Infinity), InvalidArgumentError)
    assert.throws(() => formatDuration(0.0001), InvalidArgumentError)
  })

  test('parses the forms WinRM sends', () => {
    assert.equal(parseDuration('PT20S'), 20)
    assert.equal(parseDuration('PT2147483.647S'), 2147483.647)
    assert.equal(parseDuration('P0DT0H0M9S'), 9)
    assert.equal(parseDuration('P1DT2H3M4.5S'), 93784.5)
    assert.equal(parseDuration('-PT1S'), -1)
    for (const bad of ['', 'P', 'PT', 'T5S', '20', 'PT5', 'PT5.S'])
      assert.equal(parseDuration(bad), undefined, bad)
  })
})
