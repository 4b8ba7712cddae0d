/**
 * A WS-Man fault or an HTTP 500 answer is final: the request is never sent again, and the caller gets
 * a typed error at once (WSManFaultError for a fault, ProtocolError for a body that is not one). Only
 * w:TimedOut on a Receive means "poll again". A server of our own on 127.0.0.1 answers the Create and
 * then each later request as the test says, and counts what it received.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ProtocolError, RunspacePool, WSManFaultError } from '../../../src/index.ts'
import {
  actionOf,
  fault,
  NS,
  relatesTo,
  serveWsman,
  testConnection,
  type TestAnswer,
} from '../../helpers/wsman-answers.ts'

function createResponse(request: string): string {
  const shellId = /ShellId="([^"]+)"/.exec(request)?.[1] ?? ''
  return (
    `<s:Envelope ${NS}><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse</a:Action>` +
    `<a:RelatesTo>${relatesTo(request)}</a:RelatesTo></s:Header><s:Body><x:ResourceCreated>` +
    `<a:Address>http://127.0.0.1/wsman</a:Address><a:ReferenceParameters><w:SelectorSet>` +
    `<w:Selector Name="ShellId">${shellId}</w:Selector></w:SelectorSet></a:ReferenceParameters>` +
    `</x:ResourceCreated></s:Body></s:Envelope>`
  )
}

type Answer = (request: string) => TestAnswer

const cases: [string, Answer, (e: unknown) => boolean][] = [
  [
    'an InvalidSelectors fault (HTTP 500)',
    (r) => ({ status: 500, body: fault(r, 'InvalidSelectors', '2150858843') }),
    (e) => e instanceof WSManFaultError && e.fault.wsmanFaultCode === 2150858843,
  ],
  [
    'an AccessDenied fault (HTTP 500)',
    (r) => ({ status: 500, body: fault(r, 'AccessDenied', '5') }),
    (e) => e instanceof WSManFaultError && e.fault.wsmanFaultCode === 5,
  ],
  ['HTTP 500 with no body', () => ({ status: 500, body: '' }), (e) => e instanceof ProtocolError],
  [
    'HTTP 500 with an HTML page',
    () => ({ status: 500, body: '<html><body>Internal Server Error</body></html>' }),
    (e) => e instanceof ProtocolError,
  ],
]

for (const [name, answer, typed] of cases) {
  test(`RunspacePool.open fails at once on ${name} to its Receive, without sending it again`, async () => {
    const server = await serveWsman((r) =>
      actionOf(r) === 'Create' ? { status: 200, body: createResponse(r) } : answer(r),
    )
    try {
      const started = Date.now()
      await assert.rejects(
        RunspacePool.open(testConnection(server.port), { timeout: 15_000 }),
        (e: unknown) => {
          assert.ok(typed(e), `typed error, got ${String(e)}`)
          return true
        },
      )
      assert.ok(Date.now() - started < 5000, `rejected after ${Date.now() - started} ms`)
      const seen = server.requests.map(actionOf)
      assert.equal(seen.filter((a) => a === 'Receive').length, 1, `requests: ${seen.join(', ')}`)
    } finally {
      server.stop()
    }
  })
}
