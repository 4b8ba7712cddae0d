/**
 * The WinRM test bridge takes a Send's large base64 payload out of the raw body before decoding it to
 * text, with the client's own lift (src/wsman/stream-lift.ts `liftStreams`, read by
 * test/helpers/winrm-bridge/soap.ts `parseLiftedRequest`): the same bytes as decoding the text, and
 * the text path for anything it cannot do exactly.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { parseLiftedRequest, parseRequest, streamBytes } from '../../helpers/winrm-bridge/soap.ts'
import { liftStreams } from '../../../src/wsman/stream-lift.ts'
import { nsChildren } from '../../../src/wsman/xml-ns.ts'
import { Namespace } from '../../../src/wsman/constants.ts'

const send = (streams: string): string =>
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">` +
  `<s:Header><a:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send</a:Action><a:MessageID>uuid:1</a:MessageID>` +
  `<w:ResourceURI>http://schemas.microsoft.com/powershell/Microsoft.PowerShell</w:ResourceURI></s:Header>` +
  `<s:Body><rsp:Send>${streams}</rsp:Send></s:Body></s:Envelope>`

const lift = (raw: Buffer): ReturnType<typeof liftStreams> =>
  liftStreams(raw, (b) => Buffer.from(b).toString('utf8'))

/** The bytes of every Stream of the request in `raw`, as the bridge reads them. */
function streamsOf(raw: Buffer): Buffer[] {
  const req = parseLiftedRequest(raw, lift(raw))
  return nsChildren(req.body, Namespace.rsp, 'Stream').map((s) => Buffer.from(streamBytes(req, s) ?? []))
}

/** The bytes of every Stream, decoded from the whole text (no lift). */
function streamsOfText(raw: Buffer): Buffer[] {
  const req = parseRequest(raw.toString('utf8'))
  return nsChildren(req.body, Namespace.rsp, 'Stream').map((s) => Buffer.from(streamBytes(req, s) ?? []))
}

test('a large stream comes out as the bytes its text decodes to, at every padding', () => {
  for (const size of [150_000, 150_001, 150_002, 3 * 65_536]) {
    const payload = randomBytes(size)
    const raw = Buffer.from(
      send(`<rsp:Stream Name="stdin" CommandId="X">${payload.toString('base64')}</rsp:Stream>`),
    )
    const lifted = lift(raw)
    assert.ok(lifted !== undefined, `lifted at ${size}`)
    const req = parseLiftedRequest(raw, lifted)
    const [stream] = nsChildren(req.body, Namespace.rsp, 'Stream')
    assert.ok(stream !== undefined)
    assert.ok(stream.text.length < 100, 'the content was taken out of the text')
    assert.equal(req.streamData?.size, 1)
    assert.deepEqual(Buffer.from(streamBytes(req, stream) as Uint8Array), payload)
  }
})

test('two large streams each come out as their own bytes', () => {
  const a = randomBytes(100_000)
  const b = randomBytes(90_001)
  const raw = Buffer.from(
    send(
      `<rsp:Stream Name="stdin">${a.toString('base64')}</rsp:Stream><rsp:Stream Name="pr">${b.toString('base64')}</rsp:Stream>`,
    ),
  )
  assert.equal(parseLiftedRequest(raw, lift(raw)).streamData?.size, 2)
  assert.deepEqual(streamsOf(raw), [a, b])
})

test('anything it cannot lift exactly is left to the text path', () => {
  const b64 = randomBytes(100_000).toString('base64')
  const cases = {
    small: `<rsp:Stream Name="stdin">${randomBytes(100).toString('base64')}</rsp:Stream>`,
    base64url: `<rsp:Stream Name="stdin">${b64.slice(0, 1000)}-_${b64.slice(1002)}</rsp:Stream>`,
    whitespace: `<rsp:Stream Name="stdin">${b64.slice(0, 70_000)}\n${b64.slice(70_001)}A</rsp:Stream>`,
    'padding inside': `<rsp:Stream Name="stdin">${b64.slice(0, 4096)}AA==${b64.slice(4100)}</rsp:Stream>`,
  }
  for (const [name, streams] of Object.entries(cases)) {
    assert.equal(lift(Buffer.from(send(streams))), undefined, name)
  }
})

test('content a comment splits is read from the whole text, not half of it', () => {
  const raw = Buffer.from(
    send(`<rsp:Stream Name="stdin">${randomBytes(60_000).toString('base64')}<!-- c -->QUFB</rsp:Stream>`),
  )
  assert.ok(lift(raw) !== undefined, 'the first run is lifted')
  const req = parseLiftedRequest(raw, lift(raw))
  assert.equal(req.streamData, undefined, 'read from the whole text')
  assert.deepEqual(streamsOf(raw), streamsOfText(raw))
})
