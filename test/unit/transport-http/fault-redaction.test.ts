/**
 * A hostile server (or a man in the middle on plain HTTP) that echoes our `Authorization` header into
 * its fault text must not get our credentials into the `WSManFaultError` we throw: its message and
 * its details are free of the header value, its base64 part and the decoded `user:password`.
 */
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { WSManFaultError } from '../../../src/errors.ts'
import { WSManConnection } from '../../../src/transport/wsman-connection.ts'
import { credentialRedactor } from '../../../src/transport/http/soap-client.ts'
import { ResourceUri } from '../../../src/wsman/index.ts'

const NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
  'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

function echoingFault(request: string, echoed: string): string {
  const messageId = /<(?:\w+:)?MessageID>([^<]+)</.exec(request)?.[1] ?? ''
  const text = esc(echoed)
  return (
    `<s:Envelope ${NS}><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>` +
    `<a:RelatesTo>${messageId}</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value>` +
    `<s:Subcode><s:Value>w:AccessDenied</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">` +
    `denied: ${text}</s:Text></s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" ` +
    `Code="5" Machine="${text}"><f:Message>you sent ${text}</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`
  )
}

test('credentials echoed by the server are redacted from WSManFaultError (message and details)', async () => {
  const username = 'alice'
  const password = 'S3cr&t <pass> word'
  const header = `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`
  const base64 = header.slice(6)
  const echoes = [
    header,
    base64,
    `${username}:${password}`,
    `Authorization: ${header}`,
    `${base64}, and again ${username}:${password}`,
  ]
  let i = 0
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      assert.equal(req.headers.authorization, header)
      const echoed = echoes[i++ % echoes.length] as string
      res
        .writeHead(500, { 'content-type': 'application/soap+xml;charset=UTF-8' })
        .end(echoingFault(Buffer.concat(chunks).toString('utf8'), echoed))
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  const conn = new WSManConnection({
    server: '127.0.0.1',
    port,
    ssl: false,
    auth: 'basic',
    username,
    password,
    allowUnencryptedBasic: true,
    proxy: false,
    retries: { count: 0, backoffMs: 1 },
    readTimeout: 5000,
  })
  try {
    for (let k = 0; k < echoes.length; k++) {
      const err = await conn.request({ action: 'get', resourceUri: ResourceUri.Config }).then(
        () => assert.fail('expected a fault'),
        (e: unknown) => e,
      )
      assert.ok(err instanceof WSManFaultError, String(err))
      const everything = `${err.message}\n${JSON.stringify(err.fault)}\n${String(err.stack)}`
      for (const secret of [header, base64, `${username}:${password}`, password]) {
        assert.ok(!everything.includes(secret), `echo ${k} leaks ${JSON.stringify(secret)}: ${everything}`)
      }
      assert.match(err.message, /<redacted>/)
    }
  } finally {
    await conn.http.close()
    await new Promise<void>((r) => server.close(() => r()))
  }
})

test('credentialRedactor: value, token and decoded Basic credentials, longest first; other text kept', () => {
  const basic = `Basic ${Buffer.from('bob:pw with  spaces').toString('base64')}`
  const redact = credentialRedactor([basic, 'Negotiate TlRMTVNTUAADAAAA', 'Bearer'])
  assert.equal(redact(`x ${basic} y`), 'x <redacted> y')
  assert.equal(redact(`token TlRMTVNTUAADAAAA.`), 'token <redacted>.')
  assert.equal(redact('user bob:pw with spaces here'), 'user <redacted> here')
  assert.equal(redact('bob:pw with  spaces'), '<redacted>')
  assert.equal(
    redact('a scheme alone is no secret: Bearer (a.b)'),
    'a scheme alone is no secret: Bearer (a.b)',
  )
  assert.equal(credentialRedactor([])('text'), 'text')
})
