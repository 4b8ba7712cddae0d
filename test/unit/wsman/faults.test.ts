/**
 * Every WS-Management fault shape we know servers to send (test/unit/wsman/fault-shapes.ts, each with
 * its source) is read completely and becomes a typed error:
 *
 * - `parseResponse` gives the full `s:Fault` facts (MS-WSMV 2.2.4.43 `WSManFaultType`; DSP0226
 *   section 14; SOAP 1.2 part 1 section 5.4): code and subcode as sent and resolved, reason, the
 *   `f:WSManFault` code, machine and message (with nested provider faults), `wsman:FaultDetail`, WMI
 *   error details;
 * - an OperationTimeout fault is kind `timedOut` (a Receive polls again), every other fault kind
 *   `fault`;
 * - `faultToError` gives a `WSManFaultError` (`ERR_WSMAN_FAULT`) carrying every fact, its message
 *   never losing the server's text;
 * - over HTTP, `WSManConnection.request` delivers each shape with the status the server sends (500
 *   from Windows, 400 from a server following the SOAP 1.2 HTTP binding, 200 for the recorded timeout)
 *   as that typed error or the `timedOut` result, and bodies that are no fault at all (an empty 500 or
 *   413, an HTML error page) as a ProtocolError, never as a hang.
 */
import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { ProtocolError, WSManFaultError } from '../../../src/errors.ts'
import { WSManConnection } from '../../../src/transport/wsman-connection.ts'
import { Namespace } from '../../../src/wsman/constants.ts'
import { isTimedOutFault } from '../../../src/wsman/fault.ts'
import {
  faultToError,
  parseResponse,
  ResourceUri,
  WSManFaultCode,
  type WSManFaultErrorDetails,
} from '../../../src/wsman/index.ts'
import { noAuth, startServer, type TestServer } from '../../helpers/http-servers.ts'
import { FAULT_SHAPES, type FaultShape } from './fault-shapes.ts'

describe('WS-Man fault shapes: parseResponse and faultToError', () => {
  for (const shape of FAULT_SHAPES) {
    test(`${shape.name} [${shape.source}]`, () => {
      const r = parseResponse(shape.xml)
      assert.equal(r.kind, shape.kind)
      assert.ok(r.kind === 'fault' || r.kind === 'timedOut')
      assert.deepEqual(r.fault, shape.fault)
      assert.equal(isTimedOutFault(r.fault), shape.kind === 'timedOut')

      const err = faultToError(r.fault)
      assert.ok(err instanceof WSManFaultError)
      assert.equal(err.code, 'ERR_WSMAN_FAULT')
      assert.equal(err.name, 'WSManFaultError')
      const d = err.fault as WSManFaultErrorDetails
      assert.equal(d.details, r.fault)
      assert.equal(d.code, shape.fault.code)
      assert.equal(d.subcode, shape.fault.subcode)
      assert.equal(d.reason, shape.fault.reason)
      assert.equal(d.machine, shape.fault.machine)
      assert.equal(d.wsmanFaultCode, shape.fault.wsmanFaultCode)
      assert.equal(d.providerDetail, shape.fault.message)
      assert.equal(d.faultDetail, shape.fault.faultDetail)
      // the server's own words lead the error message: the WSManFault message, else the reason
      const text = shape.fault.message ?? shape.fault.reason
      assert.ok(text !== undefined, 'every shape has a message or a reason')
      assert.ok(err.message.startsWith(text), err.message)
      if (shape.fault.wsmanFaultCode !== undefined)
        assert.match(err.message, new RegExp(`code ${shape.fault.wsmanFaultCode}\\b`))
      if (shape.fault.machine !== undefined) assert.ok(err.message.includes(`on ${shape.fault.machine}`))
      else assert.doesNotMatch(err.message, /\bon \)|\bon ,/)
    })
  }

  test('the shapes cover Sender and Receiver faults, 500 and 400, and faults without WSManFault', () => {
    const names = new Set(FAULT_SHAPES.map((s) => s.fault.codeName?.local))
    assert.ok(names.has('Sender') && names.has('Receiver') && names.has('MustUnderstand'))
    const statuses = new Set(FAULT_SHAPES.map((s) => s.status))
    assert.ok(statuses.has(500) && statuses.has(400) && statuses.has(200))
    assert.ok(FAULT_SHAPES.some((s) => s.fault.wsmanFaultCode === undefined))
    assert.ok(FAULT_SHAPES.some((s) => s.fault.providerFault !== undefined))
    const prefixes = new Set(FAULT_SHAPES.map((s) => s.fault.code?.split(':')[0]))
    for (const p of ['s', 'env', 'soap', 'SOAP-ENV']) assert.ok(prefixes.has(p), p)
  })

  test('codes this package names are the ones Windows sends', () => {
    const codes = new Set(FAULT_SHAPES.map((s) => s.fault.wsmanFaultCode))
    assert.ok(codes.has(WSManFaultCode.OperationTimeout))
    assert.ok(codes.has(WSManFaultCode.InvalidSelectors))
    assert.ok(codes.has(WSManFaultCode.InvalidParameter))
  })

  test('f:ExtendedError is provider data, not message text (WinRM 2008 R2 WMI fault)', () => {
    const shape = FAULT_SHAPES.find((s) => s.xml.includes('<f:ExtendedError>'))
    assert.ok(shape)
    const r = parseResponse(shape.xml)
    assert.ok(r.kind === 'fault')
    for (const leaked of ['ExecQuery', 'WinMgmt', 'Win32_Processa']) {
      assert.ok(!(r.fault.message ?? '').includes(leaked), r.fault.message)
      assert.ok(!(r.fault.providerFault?.message ?? '').includes(leaked), r.fault.providerFault?.message)
    }
  })

  test('mixed-content message pieces are separated, not run together', () => {
    const xml = FAULT_SHAPES[4]?.xml.replace(
      '<f:ProviderFault provider=',
      'Shell plug-in failed.<f:ProviderFault provider=',
    )
    assert.ok(xml !== undefined && xml.includes('Shell plug-in failed.<f:ProviderFault'))
    const r = parseResponse(xml)
    assert.ok(r.kind === 'fault')
    assert.equal(r.fault.message, 'Shell plug-in failed. The parameter is incorrect.')
  })

  test('a subcode in the SOAP envelope namespace resolves to it, whatever the prefix', () => {
    const omi = FAULT_SHAPES.find((s) => s.fault.code === 'SOAP-ENV:Receiver')
    assert.ok(omi)
    const r = parseResponse(omi.xml.replace('wsman:InternalError', 'SOAP-ENV:Receiver'))
    assert.ok(r.kind === 'fault')
    assert.deepEqual(r.fault.subcodeName, { ns: Namespace.s, local: 'Receiver' })
  })
})

// ---------------------------------------------------------------------------------------------------
// Over HTTP: the status the server uses does not change what the caller gets.

const servers: TestServer[] = []
const connections: WSManConnection[] = []
after(async () => {
  for (const c of connections) await c.close()
  for (const s of servers) await s.close()
})

/** The request's MessageID, echoed as RelatesTo the way a server does (DSP0226 5.4.4). */
function withRelatesTo(xml: string, requestBody: string): string {
  const id = /<(?:\w+:)?MessageID[^>]*>([^<]+)</.exec(requestBody)?.[1]
  assert.ok(id !== undefined, 'the request has a MessageID')
  return xml.replace(/(<(\w+:)?RelatesTo>)[^<]*(<\/\2RelatesTo>)/, `$1${id}$3`)
}

async function serve(status: number, body: (req: string) => string): Promise<WSManConnection> {
  const s = await startServer((_req, res, reqBody) => {
    res.writeHead(status, { 'Content-Type': 'application/soap+xml;charset=UTF-8' })
    res.end(body(reqBody))
  })
  servers.push(s)
  const conn = new WSManConnection({
    server: '127.0.0.1',
    port: s.port,
    ssl: false,
    auth: noAuth,
    proxy: false,
    retries: { count: 0, backoffMs: 1 },
    readTimeout: 5000,
    operationTimeout: 5,
  })
  connections.push(conn)
  return conn
}

const GET_CONFIG = { action: 'get', resourceUri: ResourceUri.Config } as const

describe('WS-Man fault shapes over HTTP: WSManConnection.request', () => {
  for (const shape of FAULT_SHAPES) {
    test(`HTTP ${shape.status}: ${shape.name}`, { timeout: 15_000 }, async () => {
      const conn = await serve(shape.status, (req) => withRelatesTo(shape.xml, req))
      await expectDelivered(conn, shape)
    })
  }

  test('a fault shape answered with the other status (400 for a Windows 500 fault) is the same error', async () => {
    const shape = FAULT_SHAPES.find((s) => s.status === 500 && s.kind === 'fault')
    assert.ok(shape)
    const conn = await serve(400, (req) => withRelatesTo(shape.xml, req))
    await expectDelivered(conn, shape)
  })

  test('HTTP 500 with an empty body (Windows refusing an oversized envelope, winrm4j#144) is a ProtocolError', async () => {
    const conn = await serve(500, () => '')
    await assert.rejects(conn.request(GET_CONFIG), (e: unknown) => {
      assert.ok(e instanceof ProtocolError, String(e))
      assert.match(e.message, /HTTP 500 and no body/)
      return true
    })
  })

  test('HTTP 413 with an empty body (request over MaxEnvelopeSizekb, ansible.windows#391) is a ProtocolError', async () => {
    const conn = await serve(413, () => '')
    await assert.rejects(conn.request(GET_CONFIG), (e: unknown) => {
      assert.ok(e instanceof ProtocolError, String(e))
      assert.match(e.message, /HTTP 413/)
      return true
    })
  })

  test('HTTP 500 with an HTML error page (a proxy, IIS) is a ProtocolError', async () => {
    const conn = await serve(500, () => '<html><body><h1>500 Internal Server Error</h1></body></html>')
    await assert.rejects(conn.request(GET_CONFIG), ProtocolError)
  })

  test('HTTP 500 with a fault whose RelatesTo names another request is a ProtocolError', async () => {
    const shape = FAULT_SHAPES[2] as FaultShape
    const conn = await serve(500, () => shape.xml)
    await assert.rejects(conn.request(GET_CONFIG), (e: unknown) => {
      assert.ok(e instanceof ProtocolError, String(e))
      assert.match(e.message, /RelatesTo/)
      return true
    })
  })
})

async function expectDelivered(conn: WSManConnection, shape: FaultShape): Promise<void> {
  if (shape.kind === 'timedOut') {
    const r = await conn.request(GET_CONFIG)
    assert.equal(r.kind, 'timedOut')
    assert.ok(r.kind === 'timedOut')
    assert.deepEqual(r.fault, shape.fault)
    return
  }
  await assert.rejects(conn.request(GET_CONFIG), (e: unknown) => {
    assert.ok(e instanceof WSManFaultError, String(e))
    assert.equal(e.code, 'ERR_WSMAN_FAULT')
    assert.deepEqual((e.fault as WSManFaultErrorDetails).details, shape.fault)
    assert.equal(e.fault.wsmanFaultCode, shape.fault.wsmanFaultCode)
    return true
  })
}
