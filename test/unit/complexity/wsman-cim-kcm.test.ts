/**
 * Hostile answers to the newer parsers cost time and memory linear in their size, at n, 2n and 4n
 * with `assertLinear` (`measure.ts`: 4n may cost at most 6 times n; no input under 1 MB over 1 s):
 * WS-Man `parseActionResponse` (wide bodies, many header blocks), CIM instances as `CimSession` reads
 * them (wide and repeated properties, typed numbers, a long number that is refused, many enumerated
 * items) and the KCM reply framing (`KcmReplyReader`: one large reply one byte per read, many small
 * replies in one read). A WinRM server, or whatever answers on the KCM socket, can send any of these.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ProtocolError } from '../../../src/errors.ts'
import { parseActionResponse } from '../../../src/wsman/action-response.ts'
import { parseResponse, parseResponseBytes } from '../../../src/wsman/response.ts'
import { parseCimInstance } from '../../../src/wsman/cim.ts'
import { KcmReplyReader } from '../../../src/auth/kerberos/ccache-kcm.ts'
import { assertLinear } from './measure.ts'

const sizeOf = (input: unknown): number =>
  input instanceof Uint8Array ? input.length : typeof input === 'string' ? input.length : 0

const ENVELOPE_OPEN =
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
  'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">'
const header = (action: string, extra = ''): string =>
  `<s:Header><a:Action>${action}</a:Action><a:MessageID>uuid:28C4B795-2C5F-472D-929A-A911586DC18B</a:MessageID>` +
  `<a:RelatesTo>uuid:7B8C31C7-122A-4F6C-98CA-3327B4D39CD4</a:RelatesTo>${extra}</s:Header>`
const GET = 'http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse'
const SERVICE = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service'
const instance = (props: string): string =>
  `<p:Win32_Service xmlns:p="${SERVICE}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ` +
  `xmlns:xs="http://www.w3.org/2001/XMLSchema" xsi:type="p:Win32_Service_Type">${props}</p:Win32_Service>`
const getResponse = (props: string): string =>
  `${ENVELOPE_OPEN}${header(GET)}<s:Body>${instance(props)}</s:Body></s:Envelope>`

/** Reads a Get answer as CimSession.getInstance does. */
function readInstance(xml: string): unknown {
  const res = parseResponse(xml)
  assert.ok(res.kind === 'get' && res.body !== undefined)
  return parseCimInstance(res.body)
}

describe('WS-Man parseActionResponse', () => {
  test('a body of many elements, and many header blocks', () => {
    const action =
      'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/Win32_Service/StopServiceResponse'
    assertLinear(
      'action response: wide body',
      (n) =>
        `${ENVELOPE_OPEN}${header(action)}<s:Body><p:StopService_OUTPUT xmlns:p="${SERVICE}">` +
        `${'<p:ReturnValue>0</p:ReturnValue>'.repeat(n)}</p:StopService_OUTPUT></s:Body></s:Envelope>`,
      (x) => parseActionResponse(x, { relatesTo: 'uuid:7b8c31c7-122a-4f6c-98ca-3327b4d39cd4' }),
      { n: 3000, sizeOf },
    )
    assertLinear(
      'action response: many header blocks',
      (n) =>
        `${ENVELOPE_OPEN}${header(action, '<w:OptionSet><w:Option Name="x">y</w:Option></w:OptionSet>'.repeat(n))}` +
        '<s:Body/></s:Envelope>',
      (x) => parseActionResponse(x),
      { n: 3000, sizeOf },
    )
  })
})

describe('WS-Man parseResponseBytes (long Stream contents lifted from the bytes)', () => {
  const RSP = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell'
  const receive = (streams: string): Buffer =>
    Buffer.from(
      `${ENVELOPE_OPEN.replace('>', ` xmlns:rsp="${RSP}">`)}${header(`${RSP}/ReceiveResponse`)}` +
        `<s:Body><rsp:ReceiveResponse>${streams}</rsp:ReceiveResponse></s:Body></s:Envelope>`,
    )
  const chunk = Buffer.alloc(24_000, 0x5a).toString('base64') // 32,000 characters: lifted
  test('many lifted streams; many long runs that are not base64; many tags without an end', () => {
    assertLinear(
      'receive bytes: many lifted streams',
      (n) => receive(`<rsp:Stream Name="stdout">${chunk}</rsp:Stream>`.repeat(n)),
      (x) => parseResponseBytes(x),
      { n: 8, sizeOf },
    )
    assertLinear(
      'receive bytes: long runs that are not base64 (each decoded, then read as text)',
      (n) => receive(`<rsp:Stream Name="stdout">${chunk.slice(0, -4)}*AAA</rsp:Stream>`.repeat(n)),
      (x) => {
        assert.throws(() => parseResponseBytes(x), ProtocolError)
      },
      { n: 8, sizeOf },
    )
    assertLinear(
      'receive bytes: "<" after "<" with no ">" (hostile)',
      (n) => receive(`<rsp:Stream Name="stdout">${'<'.repeat(n)}${chunk}</rsp:Stream>`),
      (x) => {
        assert.throws(() => parseResponseBytes(x), ProtocolError)
      },
      { n: 50_000, sizeOf },
    )
  })
})

describe('CIM instances', () => {
  test('many distinct properties; one property repeated (an array); many typed numbers', () => {
    assertLinear(
      'CIM: wide instance',
      (n) => getResponse(Array.from({ length: n }, (_, i) => `<p:P${i}>v${i}</p:P${i}>`).join('')),
      readInstance,
      { n: 2000, sizeOf },
    )
    assertLinear(
      'CIM: one property repeated',
      (n) => getResponse('<p:ProcessId>1234</p:ProcessId>'.repeat(n)),
      readInstance,
      { n: 3000, sizeOf },
    )
    assertLinear(
      'CIM: typed numbers',
      (n) =>
        getResponse(
          '<p:R xsi:type="xs:double">-1.25E3</p:R><p:L xsi:type="xs:long">-9223372036854775808</p:L>'.repeat(
            n,
          ),
        ),
      readInstance,
      { n: 2000, sizeOf },
    )
  })

  test('a long number under xsi:type is refused in linear time', () => {
    assertLinear(
      'CIM: long bad double',
      (n) => getResponse(`<p:R xsi:type="xs:double">${'9'.repeat(n)}.5e+</p:R>`),
      (x) => assert.throws(() => readInstance(x), ProtocolError),
      { n: 20_000, sizeOf },
    )
  })

  test('many enumerated items, each read as an instance', () => {
    const item = instance('<p:Name>WinRM</p:Name><p:ProcessId>1234</p:ProcessId><p:State>Running</p:State>')
    assertLinear(
      'CIM: many items',
      (n) =>
        `${ENVELOPE_OPEN}${header('http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse')}` +
        `<s:Body><n:PullResponse><n:Items>${item.repeat(n)}</n:Items><n:EndOfSequence/></n:PullResponse></s:Body></s:Envelope>`,
      (x) => {
        const res = parseResponse(x)
        assert.ok(res.kind === 'pulled')
        return res.items.map((i) => parseCimInstance(i))
      },
      { n: 500, sizeOf },
    )
  })
})

describe('KCM reply framing', () => {
  /** One reply of `n` bytes (status 0, then filler), framed as the daemon sends it. */
  const framed = (n: number): Uint8Array => {
    const f = Buffer.alloc(8 + n, 0x5a)
    f.writeUInt32BE(n, 0)
    f.writeInt32BE(0, 4)
    f.writeInt32BE(0, 8)
    return Uint8Array.from(f)
  }

  test('a reply fed one byte per read, next() after each read (as the socket connection does)', () => {
    assertLinear(
      'KCM reply, 1 byte/read',
      framed,
      (wire) => {
        const r = new KcmReplyReader()
        let got: Uint8Array | undefined
        for (let i = 0; i < wire.length; i++) {
          r.push(wire.subarray(i, i + 1))
          got = r.next() ?? got
        }
        assert.equal(got?.length, wire.length - 8)
      },
      { n: 40_000, sizeOf },
    )
  })

  test('many small replies in one read', () => {
    assertLinear(
      'KCM many replies, one read',
      (n) => Uint8Array.from(Buffer.concat(Array.from({ length: n }, () => framed(4)))),
      (wire) => {
        const r = new KcmReplyReader()
        r.push(wire)
        let count = 0
        while (r.next() !== undefined) count++
        assert.equal(count, wire.length / 12)
      },
      { n: 5000, sizeOf },
    )
  })
})
