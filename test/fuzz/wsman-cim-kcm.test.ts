/**
 * Fuzzing the newer parsers: WS-Man `parseActionResponse` (the answer to any action), CIM instances
 * and method outputs read as `CimSession` reads them (`parseResponse` → `parseCimInstance` for Get and
 * Enumerate/Pull items, `parseActionResponse` → `parseCimMethodOutput` for a method call, with and
 * without a schema typing every property), and the KCM credential-cache client (`KcmReplyReader` fed
 * in reads of any size, `readKcmCCache` over an in-memory connection answering with mutated replies).
 * Seeds: recorded WinRM traffic (test/recordings, ../shared/corpus: pypsrp YAML and the WinRb mock
 * envelopes of Windows CIM answers), Windows-shaped CIM envelopes written here, replies of a real
 * sssd-kcm (test/vectors/auth/kerberos/kcm-replies.json) and hostile shapes. Property (harness.ts): a
 * result or a PsrpError subclass, never another error, never over the time budget, never a hang.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { parseActionResponse } from '../../src/wsman/action-response.ts'
import { parseResponse } from '../../src/wsman/response.ts'
import { parseCimInstance, parseCimMethodOutput, type CimSchema, type CimType } from '../../src/wsman/cim.ts'
import type { NsElement } from '../../src/wsman/xml-ns.ts'
import { KcmReplyReader, readKcmCCache, type KcmConnection } from '../../src/auth/kerberos/ccache-kcm.ts'
import { TransportError } from '../../src/errors.ts'
import {
  corpusDir,
  filesUnder,
  mutatedBytes,
  mutatedText,
  params,
  readSizes,
  reads,
  recordedEnvelopes,
  seedsFirst,
  TIMEOUT,
  typedWithinBudget,
  typedWithinBudgetAsync,
} from './harness.ts'

// ---------------------------------------------------------------------------------------------------
// WS-Man action responses and CIM

const ENVELOPE_OPEN =
  '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
  'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" ' +
  'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer">'
const WMI = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/'
const header = (action: string): string =>
  `<s:Header><a:Action>${action}</a:Action><a:MessageID>uuid:28C4B795-2C5F-472D-929A-A911586DC18B</a:MessageID>` +
  '<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>' +
  '<a:RelatesTo>uuid:7B8C31C7-122A-4F6C-98CA-3327B4D39CD4</a:RelatesTo></s:Header>'
const instance = (cls: string, props: string): string =>
  `<p:${cls} xmlns:p="${WMI}${cls}" xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" ` +
  `xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ` +
  `xsi:type="p:${cls}_Type">${props}</p:${cls}>`
const service = (name: string, state: string): string =>
  instance(
    'Win32_Service',
    `<p:AcceptStop>true</p:AcceptStop><p:ExitCode>0</p:ExitCode><p:InstallDate xsi:nil="true"/>` +
      `<p:Name>${name}</p:Name><p:ProcessId>1234</p:ProcessId><p:State>${state}</p:State>`,
  )

/** Envelopes shaped like Windows' CIM answers (MS-WSMV 4.1.4; the WinRb mock recordings). */
const cimShapes = [
  ENVELOPE_OPEN +
    header('http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse') +
    `<s:Body>${instance(
      'Win32_OperatingSystem',
      '<p:BuildNumber>20348</p:BuildNumber><p:Caption>Microsoft Windows Server 2022 Datacenter</p:Caption>' +
        '<p:FreePhysicalMemory>9007199254740993</p:FreePhysicalMemory><p:NumberOfProcesses>120</p:NumberOfProcesses>' +
        '<p:Primary>true</p:Primary><p:CurrentTimeZone>-300</p:CurrentTimeZone>' +
        '<p:LastBootUpTime><cim:Datetime>2024-01-02T03:04:05.123456-05:00</cim:Datetime></p:LastBootUpTime>' +
        '<p:MUILanguages>en-US</p:MUILanguages><p:MUILanguages>de-DE</p:MUILanguages>' +
        '<p:CSDVersion xsi:nil="true"/><p:Typed xsi:type="xs:int">-7</p:Typed><p:Real xsi:type="xs:double">-1.5E3</p:Real>' +
        '<p:Ref><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>' +
        '<a:ReferenceParameters><w:ResourceURI>x</w:ResourceURI><w:SelectorSet><w:Selector Name="Name">WinRM</w:Selector></w:SelectorSet></a:ReferenceParameters></p:Ref>' +
        '<p:__proto__>safe</p:__proto__>',
    )}</s:Body></s:Envelope>`,
  ENVELOPE_OPEN +
    header('http://schemas.xmlsoap.org/ws/2004/09/enumeration/EnumerateResponse') +
    '<s:Body><n:EnumerateResponse><n:EnumerationContext>uuid:12AE5286-91FE-48F3-937E-0C22FF1AD7A1</n:EnumerationContext>' +
    `<w:Items>${service('WinRM', 'Running')}${service('Spooler', 'Stopped')}</w:Items></n:EnumerateResponse></s:Body></s:Envelope>`,
  ENVELOPE_OPEN +
    header('http://schemas.xmlsoap.org/ws/2004/09/enumeration/PullResponse') +
    `<s:Body><n:PullResponse><n:Items>${service('W32Time', 'Running')}</n:Items><n:EndOfSequence/></n:PullResponse></s:Body></s:Envelope>`,
  ENVELOPE_OPEN +
    header(`${WMI}Win32_Service/StopServiceResponse`) +
    `<s:Body><p:StopService_OUTPUT xmlns:p="${WMI}Win32_Service"><p:ReturnValue>5</p:ReturnValue></p:StopService_OUTPUT></s:Body></s:Envelope>`,
  // hostile shapes: a wide instance, one property repeated, long numbers under xsi:type
  ENVELOPE_OPEN +
    header('http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse') +
    `<s:Body>${instance('Win32_Service', '<p:ExitCode>0</p:ExitCode>'.repeat(300) + Array.from({ length: 300 }, (_, i) => `<p:P${i}>${i}</p:P${i}>`).join(''))}</s:Body></s:Envelope>`,
  ENVELOPE_OPEN +
    header('http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse') +
    `<s:Body>${instance('X', `<p:A xsi:type="xs:double">${'9'.repeat(3000)}e</p:A><p:B xsi:type="xs:long">${'1'.repeat(3000)}</p:B><p:C xsi:type="xs:boolean">maybe</p:C>`)}</s:Body></s:Envelope>`,
]

/** Windows' CIM answers recorded by WinRb (../shared/corpus), when the corpus is present. */
const corpusCim = filesUnder(corpusDir(), /\.xml$/)
  .map((f) => readFileSync(f, 'utf8'))
  .filter((x) => x.includes('<s:Envelope'))

const actionSeeds = [...cimShapes, ...corpusCim, ...recordedEnvelopes(80)]

test('WS-Man parseActionResponse: a response or a PsrpError, in time', { timeout: TIMEOUT }, () => {
  fc.assert(
    fc.property(mutatedText(actionSeeds), fc.boolean(), (xml, relates) => {
      typedWithinBudget('WS-Man parseActionResponse', xml, (x) =>
        parseActionResponse(x, relates ? { relatesTo: 'uuid:7B8C31C7-122A-4F6C-98CA-3327B4D39CD4' } : {}),
      )
    }),
    seedsFirst(
      params(1500),
      actionSeeds.map((s) => [s, true] as [string, boolean]),
    ),
  )
})

const CIM_TYPES: CimType[] = [
  'boolean',
  'string',
  'char16',
  'datetime',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'sint8',
  'sint16',
  'sint32',
  'sint64',
  'real32',
  'real64',
]

/** A schema giving every property of `e` a type from `types` (cycled). */
function schemaFor(e: NsElement, types: readonly CimType[]): CimSchema {
  const schema: Record<string, CimType> = {}
  e.children.forEach((c, i) => {
    if (!Object.hasOwn(schema, c.local)) schema[c.local] = types[i % types.length] as CimType
  })
  return schema
}

/** Reads `xml` as CimSession does (Get, Enumerate/Pull, a method call), optionally with a typing schema. */
function readCim(xml: string, types: readonly CimType[]): unknown {
  const out: unknown[] = []
  const parse = (e: NsElement): void => {
    out.push(parseCimInstance(e, types.length === 0 ? {} : { schema: schemaFor(e, types) }))
  }
  const res = parseResponse(xml)
  if (res.kind === 'get' && res.body !== undefined) parse(res.body)
  if (res.kind === 'enumerated' || res.kind === 'pulled') for (const item of res.items) parse(item)
  const action = parseActionResponse(xml)
  if (action.kind === 'response') {
    const local = action.content?.local ?? ''
    const method = local.endsWith('_OUTPUT') ? local.slice(0, -'_OUTPUT'.length) : 'StopService'
    const uri = action.content?.ns ?? `${WMI}Win32_Service`
    out.push(
      parseCimMethodOutput(
        action.content,
        uri,
        method,
        types.length === 0 ? {} : { schema: schemaFor(action.content ?? action.body, types) },
      ),
    )
  }
  return out
}

const cimSeeds = [...cimShapes, ...corpusCim]

test(
  'CIM parseCimInstance and parseCimMethodOutput, with and without a schema: a result or a PsrpError, in time',
  { timeout: TIMEOUT },
  () => {
    fc.assert(
      fc.property(
        mutatedText(cimSeeds),
        fc.array(fc.constantFrom(...CIM_TYPES), { maxLength: 4 }),
        (xml, types) => {
          typedWithinBudget('CIM instances and method output', xml, (x) => readCim(x, types))
        },
      ),
      seedsFirst(params(1500), [
        ...cimSeeds.map((s) => [s, []] as [string, CimType[]]),
        ...cimSeeds.map((s) => [s, CIM_TYPES] as [string, CimType[]]),
      ]),
    )
  },
)

// ---------------------------------------------------------------------------------------------------
// KCM

const kcmVectors = JSON.parse(
  readFileSync(new URL('../vectors/auth/kerberos/kcm-replies.json', import.meta.url), 'utf8'),
) as { sessions: string[] }
/** What sssd-kcm sent on each connection, framed as read from the socket. */
const kcmStreams = kcmVectors.sessions.map((h) => Uint8Array.from(Buffer.from(h, 'hex')))

/** The framed replies of one stream, split as the reader splits them. */
function framedReplies(stream: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  const view = Buffer.from(stream)
  for (let at = 0; at + 8 <= view.length;) {
    const end = at + 8 + view.readUInt32BE(at)
    out.push(stream.subarray(at, end))
    at = end
  }
  return out
}
const kcmReplies = kcmStreams.flatMap(framedReplies)

const kcmStreamSeeds = [
  ...kcmStreams,
  // hostile framing: many empty replies, a length at the limit with nothing after it, a transport error
  Uint8Array.from(Buffer.concat(Array.from({ length: 500 }, () => Buffer.from('0000000000000000', 'hex')))),
  Uint8Array.from(Buffer.from('00a0000000000000', 'hex')),
  Uint8Array.from(Buffer.from('0000000496c73a43', 'hex')),
]

/** The replies (hex) read from `chunks`, and the error that stopped the reader, if any. */
function readReplies(chunks: Iterable<Uint8Array>): { replies: string[]; error: unknown } {
  const r = new KcmReplyReader()
  const replies: string[] = []
  try {
    for (const chunk of chunks) {
      r.push(chunk)
      for (let reply = r.next(); reply !== undefined; reply = r.next()) {
        replies.push(Buffer.from(reply).toString('hex'))
      }
    }
  } catch (error) {
    return { replies, error }
  }
  return { replies, error: undefined }
}

test(
  'KCM KcmReplyReader, reads of 1 byte to all at once: the same replies or a PsrpError, in time',
  { timeout: TIMEOUT },
  () => {
    fc.assert(
      fc.property(mutatedBytes(kcmStreamSeeds), readSizes, (wire, sizes) => {
        const split = typedWithinBudget('KcmReplyReader', wire, (w) => {
          const got = readReplies(reads(w, sizes))
          if (got.error !== undefined) throw got.error
          return got.replies
        })
        // however the bytes are split, the replies are those of one read of everything
        const whole = readReplies([wire])
        if (Array.isArray(split)) assert.deepEqual(split, whole.replies)
        else assert.equal((split as Error).message, (whole.error as Error | undefined)?.message)
      }),
      seedsFirst(
        params(2000),
        kcmStreamSeeds.map((s) => [s, [1]] as [Uint8Array, number[]]),
      ),
    )
  },
)

/** A KCM connection that answers each call with the next of `replies` (framed), read through the reader. */
function replayConnection(replies: readonly Uint8Array[]): KcmConnection {
  let next = 0
  return {
    call: async () => {
      const framed = replies[next++]
      if (framed === undefined) throw new TransportError('Kerberos: the KCM daemon closed the connection')
      const reader = new KcmReplyReader()
      reader.push(framed)
      const reply = reader.next()
      if (reply === undefined) throw new TransportError('Kerberos: the KCM daemon closed the connection')
      return reply
    },
    close: () => {},
  }
}

test(
  'KCM readKcmCCache over replayed replies, each mutated: a cache or a PsrpError, in time, never a hang',
  { timeout: TIMEOUT },
  async () => {
    const sessions = kcmStreams.map(framedReplies)
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: sessions.length - 1 }),
        fc.array(fc.tuple(fc.nat(), mutatedBytes(kcmReplies, 3)), { maxLength: 3 }),
        fc.constantFrom('', '0:psrp-fuzz-seed'),
        async (which, swaps, residual) => {
          const replies = [...(sessions[which] as Uint8Array[])]
          for (const [at, bytes] of swaps) if (replies.length > 0) replies[at % replies.length] = bytes
          await typedWithinBudgetAsync('readKcmCCache', replies, (r) =>
            readKcmCCache(replayConnection(r), residual, { maxCredentials: 64 }),
          )
        },
      ),
      seedsFirst(
        params(1500),
        sessions.map(
          (_, i) => [i, [], i === 1 ? '' : '0:psrp-fuzz-seed'] as [number, [number, Uint8Array][], string],
        ),
      ),
    )
  },
)
