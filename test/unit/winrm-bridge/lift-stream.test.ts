/**
 * The WinRM test bridge takes a Send's large base64 payload out of the raw body before decoding it to
 * text (test/helpers/winrm-bridge/soap.ts liftStream): same bytes as decoding the text, and a refusal
 * (the caller then decodes as before) for anything it cannot do exactly.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { liftStream, parseRequest, streamBytes } from '../../helpers/winrm-bridge/soap.ts'
import { nsChild } from '../../../src/wsman/xml-ns.ts'
import { Namespace } from '../../../src/wsman/constants.ts'

const send = (streams: string): string =>
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">` +
  `<s:Header><a:Action>http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send</a:Action><a:MessageID>uuid:1</a:MessageID>` +
  `<w:ResourceURI>http://schemas.microsoft.com/powershell/Microsoft.PowerShell</w:ResourceURI></s:Header>` +
  `<s:Body><rsp:Send>${streams}</rsp:Send></s:Body></s:Envelope>`

test('a large stream comes out as the bytes its text decodes to, at every padding', () => {
  for (const size of [150_000, 150_001, 150_002, 3 * 65_536]) {
    const payload = randomBytes(size)
    const raw = Buffer.from(
      send(`<rsp:Stream Name="stdin" CommandId="X">${payload.toString('base64')}</rsp:Stream>`),
    )
    const lifted = liftStream(raw)
    assert.ok(lifted !== undefined, `lifted at ${size}`)
    assert.deepEqual(Buffer.from(lifted.data), payload)
    const req = { ...parseRequest(lifted.text), streamData: lifted.data }
    const stream = nsChild(req.body, Namespace.rsp, 'Stream')
    assert.ok(stream !== undefined)
    assert.equal(stream.text, '')
    assert.deepEqual(Buffer.from(streamBytes(req, stream) as Uint8Array), payload)
  }
})

test('anything it cannot lift exactly is left to the text path', () => {
  const b64 = randomBytes(100_000).toString('base64')
  const cases = {
    small: `<rsp:Stream Name="stdin">${randomBytes(100).toString('base64')}</rsp:Stream>`,
    two: `<rsp:Stream Name="stdin">${b64}</rsp:Stream><rsp:Stream Name="pr">${b64}</rsp:Stream>`,
    base64url: `<rsp:Stream Name="stdin">${b64.slice(0, 1000)}-_${b64.slice(1002)}</rsp:Stream>`,
    whitespace: `<rsp:Stream Name="stdin">${b64.slice(0, 70_000)}\n${b64.slice(70_001)}A</rsp:Stream>`,
    'padding inside': `<rsp:Stream Name="stdin">${b64.slice(0, 4096)}AA==${b64.slice(4100)}</rsp:Stream>`,
  }
  for (const [name, streams] of Object.entries(cases)) {
    assert.equal(liftStream(Buffer.from(send(streams))), undefined, name)
  }
})
