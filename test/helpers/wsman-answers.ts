/**
 * WS-Man response envelopes for tests whose server of their own (a plain `node:http` server on
 * 127.0.0.1) answers as Windows does: a fault, and the `winrm/config` Get; and the connection such
 * tests open to it.
 */
import { WSManConnection, type WSManConnectionOptions } from '../../src/index.ts'

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
