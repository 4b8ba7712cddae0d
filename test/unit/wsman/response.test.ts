import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ProtocolError, WSManFaultError } from '../../../src/errors.ts'
import { Namespace, WSManAction } from '../../../src/wsman/constants.ts'
import {
  CommandStateUri,
  faultToError,
  parseResponse,
  WSManFaultCode,
  type WSManFaultErrorDetails,
  type WSManResponse,
  type WSManResponseKind,
} from '../../../src/wsman/index.ts'

const NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
  'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" ' +
  'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell" ' +
  'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"'
const REQ = 'uuid:11111111-2222-3333-4444-555555555555'

function envelope(action: string, body: string): string {
  return (
    `<s:Envelope xml:lang="en-US" ${NS}><s:Header><a:Action>${action}</a:Action>` +
    `<a:MessageID>uuid:AAAAAAAA-0000-0000-0000-000000000000</a:MessageID>` +
    `<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>` +
    `<a:RelatesTo>${REQ}</a:RelatesTo></s:Header><s:Body>${body}</s:Body></s:Envelope>`
  )
}

function fault(code: string, subcode: string, detail: string): string {
  return envelope(
    WSManAction.Fault,
    `<s:Fault><s:Code><s:Value>${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en-US">Something failed. </s:Text></s:Reason><s:Detail>${detail}</s:Detail></s:Fault>`,
  )
}

const F = 'xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"'
const TIMED_OUT = fault(
  's:Receiver',
  'w:TimedOut',
  `<f:WSManFault ${F} Code="2150858793" Machine="win1"><f:Message>The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  </f:Message></f:WSManFault>`,
)

/** The union member(s) whose `kind` includes K. */
type ByKind<K extends WSManResponseKind, R = WSManResponse> = R extends { readonly kind: infer RK }
  ? K extends RK
    ? R
    : never
  : never

function kind<K extends WSManResponseKind>(r: WSManResponse, k: K): ByKind<K> {
  assert.equal(r.kind, k)
  return r as ByKind<K>
}

describe('parseResponse: faults (MS-WSMV 2.2.4.43)', () => {
  test('a Receive OperationTimeout fault is kind timedOut, not an error', () => {
    const r = kind(parseResponse(TIMED_OUT, { relatesTo: REQ }), 'timedOut')
    assert.equal(r.fault.subcode, 'w:TimedOut')
    assert.deepEqual(r.fault.subcodeName, { ns: Namespace.wsman, local: 'TimedOut' })
    assert.equal(r.fault.wsmanFaultCode, WSManFaultCode.OperationTimeout)
    assert.equal(r.fault.machine, 'win1')
    assert.equal(r.relatesTo, REQ)
  })

  test('the timeout is recognised by code alone or by subcode alone', () => {
    const byCode = fault('s:Receiver', 'w:Other', `<f:WSManFault ${F} Code="2150858793" Machine="m" />`)
    assert.equal(parseResponse(byCode).kind, 'timedOut')
    const bySubcode = fault('s:Receiver', 'w:TimedOut', '')
    assert.equal(parseResponse(bySubcode).kind, 'timedOut')
    const otherNs = fault('s:Receiver', 'q:TimedOut', '').replace(
      '<s:Fault>',
      '<s:Fault xmlns:q="urn:other">',
    )
    assert.equal(parseResponse(otherNs).kind, 'fault')
  })

  test('nested ProviderFault/WSManFault messages are flattened; FaultDetail kept', () => {
    const xml = fault(
      's:Sender',
      'w:InvalidSelectors',
      '<w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors</w:FaultDetail>' +
        `<f:WSManFault ${F} Code="2150858843" Machine="127.0.0.1"><f:Message>` +
        '<f:ProviderFault provider="Shell provider" path="%systemroot%\\system32\\WsmSvc.dll">' +
        `<f:WSManFault ${F} Code="2150858843" Machine="127.0.0.1"><f:Message>The request contained invalid selectors. </f:Message></f:WSManFault>` +
        '</f:ProviderFault></f:Message></f:WSManFault>',
    )
    const r = kind(parseResponse(xml), 'fault')
    assert.deepEqual(r.fault, {
      code: 's:Sender',
      codeName: { ns: Namespace.s, local: 'Sender' },
      subcode: 'w:InvalidSelectors',
      subcodeName: { ns: Namespace.wsman, local: 'InvalidSelectors' },
      reason: 'Something failed.',
      faultDetail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/UnexpectedSelectors',
      wsmanFaultCode: 2150858843,
      machine: '127.0.0.1',
      message: 'The request contained invalid selectors.',
      providerFault: {
        provider: 'Shell provider',
        path: '%systemroot%\\system32\\WsmSvc.dll',
        message: 'The request contained invalid selectors.',
      },
    })
  })

  test('provider text directly in ProviderFault', () => {
    const xml = fault(
      's:Sender',
      'w:InvalidParameter',
      `<f:WSManFault ${F} Code="87" Machine="h"><f:Message><f:ProviderFault provider="Shell cmd plugin" path="winrscmd.dll">The parameter is incorrect. </f:ProviderFault></f:Message></f:WSManFault>`,
    )
    const r = kind(parseResponse(xml), 'fault')
    assert.equal(r.fault.wsmanFaultCode, WSManFaultCode.InvalidParameter)
    assert.equal(r.fault.message, 'The parameter is incorrect.')
    assert.equal(r.fault.providerFault?.provider, 'Shell cmd plugin')
  })

  test('WMI MSFT_WmiError detail gives code and message', () => {
    const xml = fault(
      's:Sender',
      'w:InvalidParameter',
      '<p:MSFT_WmiError xmlns:p="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/MSFT_WmiError">' +
        '<p:Message>Invalid class </p:Message><p:error_Code>2147749902</p:error_Code></p:MSFT_WmiError>',
    )
    const r = kind(parseResponse(xml), 'fault')
    assert.deepEqual(r.fault.wmiError, { code: 2147749902, message: 'Invalid class' })
    assert.equal(r.fault.wsmanFaultCode, 2147749902)
    assert.equal(r.fault.message, 'Invalid class')
  })

  test('faultToError builds a WSManFaultError carrying every fact', () => {
    const r = kind(
      parseResponse(
        fault(
          's:Sender',
          'w:AccessDenied',
          `<f:WSManFault ${F} Code="5" Machine="m1"><f:Message>Access is denied. </f:Message></f:WSManFault>`,
        ),
      ),
      'fault',
    )
    const err = faultToError(r.fault, { cause: 'x' })
    assert.ok(err instanceof WSManFaultError)
    assert.equal(err.code, 'ERR_WSMAN_FAULT')
    assert.equal(err.message, 'Access is denied. (w:AccessDenied, code 5, on m1)')
    assert.equal(err.cause, 'x')
    const d = err.fault as WSManFaultErrorDetails
    assert.equal(d.code, 's:Sender')
    assert.equal(d.subcode, 'w:AccessDenied')
    assert.equal(d.reason, 'Something failed.')
    assert.equal(d.machine, 'm1')
    assert.equal(d.wsmanFaultCode, 5)
    assert.equal(d.providerDetail, 'Access is denied.')
    assert.equal(d.details, r.fault)
  })

  test('a fault action without an s:Fault body is a ProtocolError', () => {
    assert.throws(() => parseResponse(envelope(WSManAction.Fault, '')), ProtocolError)
  })
})

describe('parseResponse: bodies', () => {
  test('CreateResponse: endpoint reference and shell description', () => {
    const r = kind(
      parseResponse(
        envelope(
          WSManAction.CreateResponse,
          '<x:ResourceCreated><a:Address>https://h:5986/wsman</a:Address><a:ReferenceParameters>' +
            '<w:ResourceURI>http://schemas.microsoft.com/powershell/Microsoft.PowerShell</w:ResourceURI>' +
            '<w:SelectorSet><w:Selector Name="ShellId">ABC</w:Selector></w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>' +
            '<rsp:Shell><rsp:ShellId>ABC</rsp:ShellId><rsp:ProcessId>5648</rsp:ProcessId><rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>' +
            '<rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams><rsp:State>Connected</rsp:State>' +
            '<rsp:ShellRunTime>P0DT0H0M9S</rsp:ShellRunTime>' +
            '<creationXml xmlns="http://schemas.microsoft.com/powershell">AQID</creationXml></rsp:Shell>',
        ),
      ),
      'created',
    )
    assert.equal(r.address, 'https://h:5986/wsman')
    assert.equal(r.resourceUri, 'http://schemas.microsoft.com/powershell/Microsoft.PowerShell')
    assert.deepEqual(r.selectors, { ShellId: 'ABC' })
    assert.equal(r.shellId, 'ABC')
    assert.deepEqual(r.shell, {
      shellId: 'ABC',
      processId: 5648,
      idleTimeout: 7200,
      inputStreams: ['stdin', 'pr'],
      outputStreams: ['stdout'],
      state: 'Connected',
      shellRunTime: 9,
    })
    assert.deepEqual(r.creationXml, Uint8Array.of(1, 2, 3))
  })

  test('CommandResponse gives the CommandId', () => {
    const r = kind(
      parseResponse(
        envelope(
          WSManAction.CommandResponse,
          '<rsp:CommandResponse><rsp:CommandId>C-1</rsp:CommandId></rsp:CommandResponse>',
        ),
      ),
      'commandCreated',
    )
    assert.equal(r.commandId, 'C-1')
    assert.throws(
      () => parseResponse(envelope(WSManAction.CommandResponse, '<rsp:CommandResponse/>')),
      ProtocolError,
    )
  })

  test('ReceiveResponse: chunks in order, End markers, CommandState Done with exit code', () => {
    const r = kind(
      parseResponse(
        envelope(
          WSManAction.ReceiveResponse,
          '<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="C">aGk=</rsp:Stream>' +
            '<rsp:Stream Name="stderr" CommandId="C">ZXJy</rsp:Stream>' +
            '<rsp:Stream Name="stdout" CommandId="C" End="true">\n</rsp:Stream>' +
            `<rsp:CommandState CommandId="C" State="${CommandStateUri.Done}"><rsp:ExitCode>-1073741510</rsp:ExitCode></rsp:CommandState>` +
            '</rsp:ReceiveResponse>',
        ),
      ),
      'receive',
    )
    assert.deepEqual(
      r.streams.map((s) => [s.name, s.commandId, Buffer.from(s.data).toString(), s.end]),
      [
        ['stdout', 'C', 'hi', false],
        ['stderr', 'C', 'err', false],
        ['stdout', 'C', '', true],
      ],
    )
    assert.deepEqual(r.commandState, {
      commandId: 'C',
      state: CommandStateUri.Done,
      done: true,
      exitCode: -1073741510,
    })
  })

  test('ReceiveResponse for a RunspacePool has no CommandId and no CommandState', () => {
    const r = kind(
      parseResponse(
        envelope(
          WSManAction.ReceiveResponse,
          '<rsp:ReceiveResponse><rsp:Stream Name="stdout">AAE=</rsp:Stream></rsp:ReceiveResponse>',
        ),
      ),
      'receive',
    )
    assert.deepEqual(r.streams, [{ name: 'stdout', data: Uint8Array.of(0, 1), end: false }])
    assert.equal(r.commandState, undefined)
  })

  test('ReceiveResponse with bad base64, no Name or a non-integer exit code is a ProtocolError', () => {
    for (const body of [
      '<rsp:Stream Name="stdout">!!notbase64</rsp:Stream>',
      '<rsp:Stream>AAE=</rsp:Stream>',
      `<rsp:CommandState State="${CommandStateUri.Done}"><rsp:ExitCode>1.5</rsp:ExitCode></rsp:CommandState>`,
      '<rsp:CommandState />',
    ]) {
      assert.throws(
        () =>
          parseResponse(
            envelope(WSManAction.ReceiveResponse, `<rsp:ReceiveResponse>${body}</rsp:ReceiveResponse>`),
          ),
        ProtocolError,
        body,
      )
    }
  })

  test('acknowledgements: Send, Signal, Delete, Disconnect, Reconnect', () => {
    const cases: [string, string][] = [
      [WSManAction.SendResponse, 'sent'],
      [WSManAction.SignalResponse, 'signalled'],
      [WSManAction.DeleteResponse, 'deleted'],
      [WSManAction.DisconnectResponse, 'disconnected'],
      [WSManAction.ReconnectResponse, 'reconnected'],
    ]
    for (const [action, k] of cases) assert.equal(parseResponse(envelope(action, '')).kind, k)
  })

  test('ConnectResponse: streams and connectResponseXml', () => {
    const r = kind(
      parseResponse(
        envelope(
          WSManAction.ConnectResponse,
          '<rsp:ConnectResponse><rsp:InputStreams>stdin pr</rsp:InputStreams><rsp:OutputStreams>stdout</rsp:OutputStreams>' +
            '<connectResponseXml xmlns="http://schemas.microsoft.com/powershell">AAEC</connectResponseXml></rsp:ConnectResponse>',
        ),
      ),
      'connected',
    )
    assert.deepEqual(r.inputStreams, ['stdin', 'pr'])
    assert.deepEqual(r.outputStreams, ['stdout'])
    assert.deepEqual(r.connectResponseXml, Uint8Array.of(0, 1, 2))
  })

  test('EnumerateResponse (optimized) and PullResponse', () => {
    const e = kind(
      parseResponse(
        envelope(
          WSManAction.EnumerateResponse,
          '<n:EnumerateResponse><n:EnumerationContext>uuid:ctx</n:EnumerationContext><w:Items>' +
            '<rsp:Shell><rsp:ShellId>A</rsp:ShellId></rsp:Shell><rsp:Shell><rsp:ShellId>B</rsp:ShellId></rsp:Shell></w:Items></n:EnumerateResponse>',
        ),
      ),
      'enumerated',
    )
    assert.equal(e.items.length, 2)
    assert.equal(e.enumerationContext, 'uuid:ctx')
    assert.equal(e.endOfSequence, false)
    const p = kind(
      parseResponse(
        envelope(
          WSManAction.PullResponse,
          '<n:PullResponse><n:Items><rsp:Shell/></n:Items><n:EndOfSequence/></n:PullResponse>',
        ),
      ),
      'pulled',
    )
    assert.equal(p.items.length, 1)
    assert.equal(p.enumerationContext, undefined)
    assert.equal(p.endOfSequence, true)
  })

  test('GetResponse gives the representation element', () => {
    const r = kind(
      parseResponse(
        envelope(
          WSManAction.GetResponse,
          '<cfg:Config xmlns:cfg="urn:cfg"><cfg:MaxEnvelopeSizekb>500</cfg:MaxEnvelopeSizekb></cfg:Config>',
        ),
      ),
      'get',
    )
    assert.equal(r.body?.ns, 'urn:cfg')
    assert.equal(r.body?.children[0]?.text, '500')
  })

  test('any prefixes and nested namespace declarations are understood', () => {
    const xml =
      '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Header>' +
      '<Action xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandResponse</Action>' +
      '</env:Header><env:Body><CommandResponse xmlns="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"><CommandId>Z</CommandId></CommandResponse></env:Body></env:Envelope>'
    assert.equal(kind(parseResponse(xml), 'commandCreated').commandId, 'Z')
  })
})

describe('parseResponse: malformed input is a ProtocolError, never a crash', () => {
  test('RelatesTo must match the request MessageID when given', () => {
    const xml = envelope(WSManAction.SendResponse, '')
    assert.equal(parseResponse(xml, { relatesTo: '11111111-2222-3333-4444-555555555555' }).kind, 'sent')
    assert.throws(
      () => parseResponse(xml, { relatesTo: 'uuid:99999999-2222-3333-4444-555555555555' }),
      ProtocolError,
    )
  })

  test('not XML, not SOAP 1.2, no Body, unknown or missing action, undeclared prefix, DTD', () => {
    const cases = [
      '',
      'HTTP 500',
      '<s:Envelope',
      '<a/>',
      '<!DOCTYPE x [<!ENTITY e "e">]><x/>',
      '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
      `<s:Envelope ${NS}><s:Header/></s:Envelope>`,
      envelope('urn:unknown', ''),
      envelope('', ''),
      envelope(WSManAction.SendResponse, '<zz:Thing/>'),
      envelope(WSManAction.EnumerateResponse, ''),
      envelope(WSManAction.ConnectResponse, ''),
      envelope(WSManAction.ReceiveResponse, ''),
      envelope(WSManAction.CreateResponse, ''),
      envelope(
        WSManAction.ConnectResponse,
        '<rsp:ConnectResponse><connectResponseXml xmlns="http://schemas.microsoft.com/powershell">@@@</connectResponseXml></rsp:ConnectResponse>',
      ),
      fault('s:Sender', 'w:X', `<f:WSManFault ${F} Code="abc" Machine="m"/>`),
    ]
    for (const xml of cases) assert.throws(() => parseResponse(xml), ProtocolError, xml)
  })

  test('size limit', () => {
    assert.throws(() => parseResponse(TIMED_OUT, { maxLength: 100 }), ProtocolError)
  })

  test('random corruption of valid responses only ever gives ProtocolError or a result', () => {
    let seed = 12345
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) >>> 0
      return seed % n
    }
    const samples = [
      TIMED_OUT,
      envelope(
        WSManAction.ReceiveResponse,
        `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="C">aGk=</rsp:Stream><rsp:CommandState CommandId="C" State="${CommandStateUri.Done}"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`,
      ),
    ]
    const alphabet = '<>/="\' :&;#xa1sS\n'
    for (let i = 0; i < 3000; i++) {
      const base = samples[i % samples.length] as string
      let xml = base
      for (let k = 0, n = 1 + rand(3); k < n; k++) {
        const at = rand(xml.length)
        const op = rand(3)
        const ch = alphabet[rand(alphabet.length)] as string
        xml =
          op === 0
            ? xml.slice(0, at) + xml.slice(at + 1)
            : op === 1
              ? xml.slice(0, at) + ch + xml.slice(at)
              : xml.slice(0, at) + ch + xml.slice(at + 1)
      }
      try {
        parseResponse(xml)
      } catch (err) {
        assert.ok(err instanceof ProtocolError, `${String(err)} for ${xml}`)
      }
    }
  })
})
