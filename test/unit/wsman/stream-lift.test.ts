/**
 * `parseResponseBytes` reads a response from its UTF-8 bytes with the long `rsp:Stream` contents
 * lifted out (`src/wsman/stream-lift.ts`). Whatever the body, the result must be `parseResponse` of
 * its text: the same response, or a ProtocolError with the same message. The forms below are what
 * XML and xs:base64Binary allow around a Stream's content (prefixes, a default namespace, attribute
 * quoting, `>` in attribute values, whitespace and line-wrapped base64, comments, CDATA, character
 * references) and bad input (base64url, padding inside, stray characters, bytes that are not UTF-8,
 * malformed XML after the content). Each case also says whether the lift applies, so a change that
 * silently stops lifting fails here too.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, test } from 'node:test'
import { ProtocolError } from '../../../src/errors.ts'
import { fromBase64, fromBase64Bytes } from '../../../src/internal/base64.ts'
import { liftStreams } from '../../../src/wsman/stream-lift.ts'
import { parseResponse, parseResponseBytes } from '../../../src/wsman/index.ts'

const RSP = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell'
const RECEIVE_RESPONSE = `${RSP}/ReceiveResponse`
const COMMAND = '1A2B3C4D-0000-4000-8000-00000000000A'

function envelope(body: string, declare = `xmlns:rsp="${RSP}"`): string {
  return (
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" ` +
    `xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ${declare}>` +
    `<s:Header><a:Action>${RECEIVE_RESPONSE}</a:Action>` +
    `<a:MessageID>uuid:5B3F4E0C-1D3A-4B8E-9E1F-2C1B0A9D8E7F</a:MessageID></s:Header>` +
    `<s:Body>${body}</s:Body></s:Envelope>`
  )
}

const receive = (streams: string, state = ''): string =>
  envelope(`<rsp:ReceiveResponse>${streams}${state}</rsp:ReceiveResponse>`)
const stream = (content: string, attrs = `Name="stdout" CommandId="${COMMAND}"`): string =>
  `<rsp:Stream ${attrs}>${content}</rsp:Stream>`
const DONE = `<rsp:CommandState CommandId="${COMMAND}" State="${RSP}/CommandState/Done"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState>`

const b64 = (n: number): string => randomBytes(n).toString('base64')
const big = b64(60_000) // 80,000 characters: lifted
const big2 = b64(30_001) // padded: lifted

const utf8Text = new TextDecoder('utf-8')

/** `parseResponseBytes(bytes)` is `parseResponse(text)`: equal results, or equal ProtocolErrors. */
function assertSame(bytes: Uint8Array, what: string): void {
  let expected: unknown
  let expectedError: unknown
  try {
    expected = parseResponse(new TextDecoder('utf-8', { fatal: true }).decode(bytes))
  } catch (e) {
    expectedError = e
  }
  if (expectedError === undefined) {
    assert.deepEqual(parseResponseBytes(bytes), expected, what)
    return
  }
  assert.throws(
    () => parseResponseBytes(bytes),
    (e: unknown) =>
      e instanceof ProtocolError &&
      (expectedError instanceof ProtocolError
        ? e.message === expectedError.message
        : e.message === 'response body is not valid utf-8'),
    what,
  )
}

const lifts = (xml: string | Uint8Array): boolean =>
  liftStreams(typeof xml === 'string' ? Buffer.from(xml) : xml, (b) => utf8Text.decode(b)) !== undefined

describe('parseResponseBytes: lifted Stream contents read as their text would be', () => {
  const cases: [string, string, boolean][] = [
    ['one stream', receive(stream(big)), true],
    ['several streams and a CommandState', receive(stream(big) + stream(big2) + stream(b64(10)), DONE), true],
    [
      'an End stream after the data',
      receive(stream(big) + stream('', `Name="stdout" CommandId="${COMMAND}" End="true"`)),
      true,
    ],
    ['single-quoted attributes', receive(stream(big, `Name='stdout' CommandId='${COMMAND}'`)), true],
    ['a ">" inside an attribute value', receive(stream(big, `Name="std>out" CommandId="${COMMAND}"`)), true],
    [
      'spaces around "=" and before ">"',
      receive(stream(big, `Name = "stdout"  CommandId= "${COMMAND}" `)),
      true,
    ],
    [
      'another prefix',
      envelope(
        `<x:ReceiveResponse><x:Stream Name="stdout">${big}</x:Stream></x:ReceiveResponse>`,
        `xmlns:x="${RSP}"`,
      ),
      true,
    ],
    [
      'the default namespace',
      envelope(`<ReceiveResponse xmlns="${RSP}"><Stream Name="stdout">${big}</Stream></ReceiveResponse>`, ''),
      true,
    ],
    ['whitespace around the content', receive(stream(`\r\n  ${big}\n\t`)), true],
    ['base64 wrapped at 76 characters', receive(stream(big.replace(/.{76}/g, '$&\r\n'))), false],
    ['content split by a comment', receive(stream(`${big}<!-- c -->${b64(3)}`)), true],
    [
      'content split by a comment, padding in the first part',
      receive(stream(`${big2}<!-- c -->${b64(3)}`)),
      true,
    ],
    ['content in a CDATA section', receive(stream(`<![CDATA[${big}]]>`)), false],
    ['content after a character reference', receive(stream(`&#65;${big.slice(1)}`)), false],
    ['a Stream inside a comment', receive(`<!-- ${stream(big)} -->${stream(b64(30))}`), true],
    [
      'a Stream of another namespace',
      envelope(
        `<rsp:ReceiveResponse><o:Stream xmlns:o="urn:other" Name="stdout">${big}</o:Stream></rsp:ReceiveResponse>`,
      ),
      true,
    ],
    ['a Stream element outside ReceiveResponse', envelope(`<rsp:Other>${stream(big)}</rsp:Other>`), true],
    [
      'a Stream element in a GetResponse (its text is part of the answer)',
      envelope(`<p:Data xmlns:p="urn:x"><p:Stream>${big}</p:Stream></p:Data>`).replace(
        RECEIVE_RESPONSE,
        'http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse',
      ),
      true,
    ],
    ['base64url characters', receive(stream(`${big.slice(0, 4000)}-_${big.slice(4002)}`)), false],
    ['padding in the middle', receive(stream(`${big.slice(0, 40_000)}QQ==${big.slice(40_004)}`)), false],
    ['a stray character', receive(stream(`${big.slice(0, 40_000)}*${big.slice(40_001)}`)), false],
    ['length not a multiple of 4', receive(stream(big.slice(1))), false],
    ['malformed XML after the content', receive(stream(big)).replace('</s:Body>', '</s:Bdy>'), true],
    ['the marker text already in the body', receive(stream(big) + stream('{psrp-lifted-0}')), false],
    ['a non-ASCII attribute value', receive(stream(big, `Name="stdout" x:y="é€𝄞" xmlns:x="urn:x"`)), true],
  ]
  for (const [what, xml, lifted] of cases) {
    test(what, () => {
      assert.equal(lifts(xml), lifted, 'lifted')
      assertSame(Buffer.from(xml, 'utf8'), what)
    })
  }

  test('the decoded bytes are the Stream contents', () => {
    const data = [randomBytes(50_000), randomBytes(20_000), randomBytes(7)]
    const xml = receive(data.map((d) => stream(d.toString('base64'))).join(''), DONE)
    const res = parseResponseBytes(Buffer.from(xml))
    assert.ok(res.kind === 'receive')
    assert.deepEqual(
      res.streams.map((s) => Buffer.from(s.data)),
      data,
    )
    assert.equal(res.commandState?.done, true)
  })

  test('a leading BOM is dropped, as the text decoder drops it', () => {
    const xml = receive(stream(big))
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml)])
    assert.ok(lifts(bytes))
    assertSame(bytes, 'BOM')
  })

  test('bytes that are not UTF-8, before or after a lifted run, are a ProtocolError', () => {
    for (const at of ['before', 'after']) {
      const xml = Buffer.from(receive(stream(big)))
      const bad = Buffer.concat(
        at === 'before'
          ? [xml.subarray(0, 40), Buffer.from([0xc3, 0x28]), xml.subarray(40)]
          : [xml.subarray(0, xml.length - 20), Buffer.from([0xff]), xml.subarray(xml.length - 20)],
      )
      assert.throws(() => parseResponseBytes(bad), /response body is not valid utf-8/, at)
    }
  })

  test('a body over maxLength is refused as parseResponse refuses it', () => {
    const xml = receive(stream(big))
    assert.throws(() => parseResponseBytes(Buffer.from(xml), { maxLength: 1000 }), ProtocolError)
    assert.throws(() => parseResponse(xml, { maxLength: 1000 }), ProtocolError)
  })
})

describe('fromBase64Bytes', () => {
  test('agrees with fromBase64 on valid and invalid text without whitespace', () => {
    const samples: string[] = ['', 'QQ==', 'QUE=', 'QUFB', 'QQ', 'QQ=A', '=QQQ', 'QUF-', 'QUF_', 'Q\u00e9FB']
    for (let i = 0; i < 200; i++) {
      const text = b64(Math.floor(Math.random() * 200_000))
      samples.push(text)
      const k = Math.floor(Math.random() * Math.max(1, text.length))
      samples.push(text.slice(0, k) + '!+/='[i % 4] + text.slice(k + 1))
    }
    for (const text of samples) {
      const bytes = Buffer.from(text, 'latin1')
      const expected = /\s/.test(text) ? undefined : fromBase64(text)
      const got = fromBase64Bytes(bytes, 0, bytes.length)
      assert.deepEqual(
        got === undefined ? undefined : Buffer.from(got),
        expected === undefined ? undefined : Buffer.from(expected),
        JSON.stringify(text.slice(0, 40)),
      )
    }
  })

  test('reads a range of a larger buffer', () => {
    const data = randomBytes(100_000)
    const text = Buffer.from(`<a>${data.toString('base64')}</a>`)
    assert.deepEqual(Buffer.from(fromBase64Bytes(text, 3, text.length - 4) ?? []), data)
  })
})
