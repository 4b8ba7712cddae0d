/**
 * For tests whose WinRM server is a plain `node:http` server of their own on 127.0.0.1: that server
 * (each request answered as the test says), WS-Man response envelopes as Windows sends them (a fault,
 * the `winrm/config` Get), and the connection such tests open to it.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { WSManConnection, type WSManConnectionOptions } from '../../src/index.ts'

/** The answer to one request: a SOAP body with its status, or the connection closed unanswered; either after `delayMs`. */
export type TestAnswer =
  | { readonly status: number; readonly body: string; readonly delayMs?: number }
  | { readonly drop: true; readonly delayMs?: number }

/** A running {@link serveWsman} server. */
export interface TestWsmanServer {
  readonly port: number
  /** Every request body received, in order. */
  readonly requests: string[]
  /** Closes the server and its connections. */
  stop(): void
}

/** Starts a server on 127.0.0.1 that answers request number `index` (from 0) with `answer`. */
export async function serveWsman(
  answer: (request: string, index: number) => TestAnswer,
): Promise<TestWsmanServer> {
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      requests.push(body)
      const a = answer(body, requests.length - 1)
      setTimeout(() => {
        if ('drop' in a) req.socket.destroy()
        else res.writeHead(a.status, { 'content-type': 'application/soap+xml;charset=UTF-8' }).end(a.body)
      }, a.delayMs ?? 0)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    stop: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

/** The last path segment of a request's `wsa:Action` (`Create`, `Receive`, …), or `?`. */
export function actionOf(request: string): string {
  return /<(?:\w+:)?Action[^>]*>[^<]*\/(\w+)</.exec(request)?.[1] ?? '?'
}

/** A plain-HTTP Basic connection to a test server on 127.0.0.1, with `extra` options on top. */
export function testConnection(port: number, extra: Partial<WSManConnectionOptions> = {}): WSManConnection {
  return new WSManConnection({
    server: '127.0.0.1',
    port,
    ssl: false,
    auth: 'basic',
    username: 'u',
    password: 'p',
    allowUnencryptedBasic: true,
    ...extra,
  })
}

/** The namespace declarations of the envelopes below. */
export const NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
  'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"'

/** The `MessageID` of a request, for the answer's `RelatesTo`. */
export function relatesTo(request: string): string {
  return /<(?:\w+:)?MessageID>([^<]+)</.exec(request)?.[1] ?? ''
}

/** Windows' shape of a fault (HTTP 500), as recorded from Server 2016 (InvalidSelectors). */
export function fault(request: string, subcode: string, code: string): string {
  return (
    `<s:Envelope ${NS}><s:Header><a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>` +
    `<a:RelatesTo>${relatesTo(request)}</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value>` +
    `<s:Subcode><s:Value>w:${subcode}</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">refused</s:Text>` +
    `</s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="${code}" ` +
    `Machine="m"><f:Message>refused</f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>`
  )
}

/**
 * The GetResponse of `winrm/config` (shape of test_wsman_update_envelope_size_500.yml, cut to its
 * first elements): `MaxEnvelopeSizekb` as given, left out when undefined.
 */
export function configResponse(request: string, maxEnvelopeSizeKb: string | undefined): string {
  const size =
    maxEnvelopeSizeKb === undefined
      ? ''
      : `<cfg:MaxEnvelopeSizekb>${maxEnvelopeSizeKb}</cfg:MaxEnvelopeSizekb>`
  return (
    `<s:Envelope ${NS}><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse</a:Action>` +
    `<a:RelatesTo>${relatesTo(request)}</a:RelatesTo></s:Header><s:Body>` +
    `<cfg:Config xmlns:cfg="http://schemas.microsoft.com/wbem/wsman/1/config">${size}` +
    `<cfg:MaxTimeoutms>60000</cfg:MaxTimeoutms><cfg:MaxBatchItems>32000</cfg:MaxBatchItems></cfg:Config>` +
    `</s:Body></s:Envelope>`
  )
}
