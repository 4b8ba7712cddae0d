/**
 * Fuzzing the byte and text parsers between the socket and PSRP: OutOfProc lines and packets (the
 * session with tiny reads), WS-Man responses (`parseResponse`), HTTP/1.1 response heads and chunked
 * bodies (`ResponseParser`, with reads of one byte up to all at once), WinRM encrypted bodies
 * (`decryptWinRMBody`), the KDC reply framing, and every ASN.1 / NTLM / SPNEGO / Kerberos / CredSSP
 * decoder. Seeds: encodings made here, test vectors, recorded WinRM traffic (test/recordings,
 * ../shared/corpus: pypsrp YAML, pyspnego token files) and hostile shapes. Property (harness.ts): a
 * result or a PsrpError subclass, never another error, never over the time budget.
 */
import { test } from 'node:test'
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { ProtocolError } from '../../src/errors.ts'
import { decodeLine, encodePacketLine, OutOfProcSession, SESSION_GUID } from '../../src/outofproc/index.ts'
import { parseResponse, parseResponseBytes } from '../../src/wsman/response.ts'
import { ResponseParser } from '../../src/transport/http/http1.ts'
import { KdcReplyReader } from '../../src/transport/kdc.ts'
import {
  CREDSSP_ENCRYPTED,
  decryptWinRMBody,
  encryptWinRMBody,
  KERBEROS_ENCRYPTED,
  SPNEGO_ENCRYPTED,
  type WinRMEncryptionProtocol,
} from '../../src/auth/winrm-encryption.ts'
import { decodeDerTree, decodeGssInitialContextToken, decodeOidContent } from '../../src/auth/asn1/index.ts'
import { decodeTsRequest } from '../../src/auth/credssp/ts-request.ts'
import { decodeTsCredentials, decodeTsPasswordCreds } from '../../src/auth/credssp/ts-credentials.ts'
import { serverRandomFromFlight, tlsRecords } from '../../src/auth/credssp/tls-record.ts'
import { subjectPublicKey } from '../../src/auth/credssp/public-key.ts'
import { decodeNegTokenResp, decodeSpnegoToken } from '../../src/auth/spnego/tokens.ts'
import { decodeChallenge } from '../../src/auth/ntlm/challenge.ts'
import { decodeAuthenticate } from '../../src/auth/ntlm/authenticate.ts'
import { decodeNegotiate } from '../../src/auth/ntlm/negotiate.ts'
import { decodeAvPairs } from '../../src/auth/ntlm/av-pairs.ts'
import { decodeVersion } from '../../src/auth/ntlm/version.ts'
import { decodeClientChallenge, decodeNtlmv2Response } from '../../src/auth/ntlm/client-challenge.ts'
import { decodeKrbError } from '../../src/auth/kerberos/messages/krb-error.ts'
import { decodeKdcRep, decodeEncKdcRepPart } from '../../src/auth/kerberos/messages/kdc-rep.ts'
import { decodeKdcReq } from '../../src/auth/kerberos/messages/kdc-req.ts'
import { decodeKrbCred, decodeEncKrbCredPart } from '../../src/auth/kerberos/messages/krb-cred.ts'
import { decodeApRep, decodeEncApRepPart } from '../../src/auth/kerberos/messages/ap-rep.ts'
import { decodeApReq, decodeAuthenticator } from '../../src/auth/kerberos/messages/ap-req.ts'
import { decodeTicket } from '../../src/auth/kerberos/messages/ticket.ts'
import { decodeGssChecksum } from '../../src/auth/kerberos/messages/gss-checksum.ts'
import {
  decodeEtypeInfo2,
  decodeMethodData,
  decodePaEncTsEnc,
} from '../../src/auth/kerberos/messages/pa-data.ts'
import { parseKdcReply } from '../../src/auth/kerberos/kdc-exchange.ts'
import { parseMicHeader, parseWrapHeader } from '../../src/auth/kerberos/wrap-token.ts'
import { parseCCache } from '../../src/auth/kerberos/ccache.ts'
import { parseKeytab } from '../../src/auth/kerberos/keytab.ts'
import {
  corpusDir,
  filesUnder,
  mutatedBytes,
  mutatedText,
  params,
  seedsFirst,
  readSizes,
  reads,
  recordedEnvelopes,
  TIMEOUT,
  typedWithinBudget,
} from './harness.ts'

const seedB64 = readFileSync(new URL('../vectors/psrp/seed-creation-xml.b64', import.meta.url), 'utf8').trim()
const PIPE = '5a416ea5-fb2a-4aaa-91bf-77bf51043386'

// ---------------------------------------------------------------------------------------------------
// OutOfProc

const oopStream = [
  encodePacketLine({
    kind: 'data',
    guid: SESSION_GUID,
    stream: 'default',
    data: Buffer.from(seedB64, 'base64'),
  }),
  encodePacketLine({ kind: 'dataAck', guid: SESSION_GUID }),
  encodePacketLine({ kind: 'commandAck', guid: PIPE }),
  encodePacketLine({ kind: 'data', guid: PIPE, stream: 'promptResponse', data: Uint8Array.of(1, 2, 3) }),
  encodePacketLine({ kind: 'signalAck', guid: PIPE }),
  encodePacketLine({ kind: 'closeAck', guid: PIPE }),
  '__NamedPipeError__ the pipe broke\n',
  encodePacketLine({ kind: 'closeAck', guid: SESSION_GUID }),
].join('')
const oopSeeds = [
  oopStream,
  `<Data Stream='Default' PSGuid='${SESSION_GUID}'>${'QUFB'.repeat(2000)}</Data>\n`,
  `<Data ${"Stream='Default' ".repeat(200)}>\n`,
  `<DataAck PSGuid='${'0'.repeat(2000)}' />\n`,
  `${'<'.repeat(3000)}\n`,
]

test(
  'OutOfProc: lines and a session fed in reads of any size: a result or a PsrpError, in time',
  { timeout: TIMEOUT },
  () => {
    fc.assert(
      fc.property(mutatedText(oopSeeds), readSizes, (text, sizes) => {
        for (const line of text.split('\n')) typedWithinBudget('OutOfProc decodeLine', line, decodeLine)
        typedWithinBudget('OutOfProc session', text, (t) => {
          const s = new OutOfProcSession({ maxLineLength: 64 * 1024 })
          s.send({ data: Uint8Array.of(1), stream: 'default' })
          s.command(PIPE)
          while (s.nextPacketToSend() !== undefined);
          for (const chunk of reads(Buffer.from(t), sizes)) {
            s.receiveData(chunk)
            while (s.nextEvent() !== undefined);
          }
          s.receiveEnd()
        })
      }),
      seedsFirst(
        params(1500),
        oopSeeds.map((s) => [s, [1]] as [string, number[]]),
      ),
    )
  },
)

// ---------------------------------------------------------------------------------------------------
// WS-Man

const wsmanSeeds = [
  ...recordedEnvelopes(120),
  // many namespace declarations, deep nesting, many attributes
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"${Array.from({ length: 200 }, (_, i) => ` xmlns:p${i}="urn:${i}"`).join('')}><s:Header/><s:Body>${'<p1:x>'.repeat(100)}${'</p1:x>'.repeat(100)}</s:Body></s:Envelope>`,
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><rsp:ReceiveResponse xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">${'<rsp:Stream Name="stdout" CommandId="C">AAAA</rsp:Stream>'.repeat(100)}</rsp:ReceiveResponse></s:Body></s:Envelope>`,
]

test('WS-Man parseResponse: a response or a PsrpError, in time', { timeout: TIMEOUT }, () => {
  fc.assert(
    fc.property(mutatedText(wsmanSeeds), (xml) => {
      typedWithinBudget('WS-Man parseResponse', xml, (x) => parseResponse(x))
    }),
    seedsFirst(
      params(1500),
      wsmanSeeds.map((s) => [s] as [string]),
    ),
  )
})

/** Receive responses whose Stream contents are long enough to be lifted from the bytes. */
const RSP_NS = 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell'
const liftedSeeds = [
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:rsp="${RSP_NS}"><s:Header><a:Action>${RSP_NS}/ReceiveResponse</a:Action></s:Header><s:Body><rsp:ReceiveResponse>` +
    `<rsp:Stream Name="stdout" CommandId="C">${Buffer.alloc(13_000, 7).toString('base64')}</rsp:Stream>` +
    `<rsp:Stream Name='stdout' CommandId='C'>\n${Buffer.alloc(12_289, 1).toString('base64')}\n</rsp:Stream>` +
    `<rsp:CommandState CommandId="C" State="${RSP_NS}/CommandState/Running"/></rsp:ReceiveResponse></s:Body></s:Envelope>`,
  // a Stream element whose text is part of the answer (a Get's body): never lifted away
  `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse</a:Action></s:Header><s:Body>` +
    `<p:Data xmlns:p="urn:x"><p:Stream Name="x">${Buffer.alloc(13_000, 3).toString('base64')}</p:Stream></p:Data></s:Body></s:Envelope>`,
]

test(
  'WS-Man parseResponseBytes: the result or the error of parseResponse of the text',
  { timeout: TIMEOUT },
  () => {
    const outcome = (run: () => unknown): unknown => {
      try {
        return run()
      } catch (e) {
        if (!(e instanceof ProtocolError)) throw e
        return `ProtocolError: ${e.message}`
      }
    }
    fc.assert(
      fc.property(mutatedText([...liftedSeeds, ...wsmanSeeds.slice(-2)]), (xml) => {
        const bytes = Buffer.from(xml, 'utf8')
        const fromBytes = typedWithinBudget('WS-Man parseResponseBytes', bytes, (b) =>
          outcome(() => parseResponseBytes(b)),
        )
        // a lone surrogate has no UTF-8: its bytes are U+FFFD, which is what the text path must read
        assert.deepEqual(
          fromBytes,
          outcome(() => parseResponse(bytes.toString('utf8'))),
        )
      }),
      seedsFirst(
        params(600),
        liftedSeeds.map((s) => [s] as [string]),
      ),
    )
  },
)

// ---------------------------------------------------------------------------------------------------
// HTTP/1.1 responses

const httpSeeds = [
  'HTTP/1.1 200 OK\r\nContent-Type: application/soap+xml;charset=UTF-8\r\nContent-Length: 5\r\n\r\nhello',
  'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nWWW-Authenticate: Kerberos\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\nx\r\n0\r\nTrailer: v\r\n\r\n',
  'HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nbody to the end',
  `HTTP/1.1 200 OK\r\n${'X:\r\n'.repeat(200)}Content-Length: 0\r\n\r\n`,
  `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'1\r\nx\r\n'.repeat(200)}0\r\n\r\n`,
].map((s) => Buffer.from(s, 'latin1'))

test(
  'HTTP/1.1 ResponseParser, reads of 1 byte to all at once: a response or a PsrpError, in time',
  { timeout: TIMEOUT },
  () => {
    fc.assert(
      fc.property(mutatedBytes(httpSeeds), readSizes, fc.boolean(), (wire, sizes, connect) => {
        typedWithinBudget('HTTP ResponseParser', wire, (w) => {
          const p = new ResponseParser({ connect, maxBodySize: 1 << 20 })
          for (const chunk of reads(w, sizes)) if (p.push(Buffer.from(chunk)) !== undefined) return
          return p.end()
        })
      }),
      seedsFirst(
        params(2000),
        httpSeeds.map((s) => [s, [1], false] as [Uint8Array, number[], boolean]),
      ),
    )
  },
)

// ---------------------------------------------------------------------------------------------------
// WinRM encrypted bodies (the decode side; the sealer and unsealer here are identities)

const PROTOCOLS: WinRMEncryptionProtocol[] = [SPNEGO_ENCRYPTED, KERBEROS_ENCRYPTED, CREDSSP_ENCRYPTED]
const encSeeds = PROTOCOLS.map((protocol) => {
  const envelope = Buffer.from(recordedEnvelopes(1)[0] ?? '<s:Envelope/>')
  const r = encryptWinRMBody(envelope, (p) => ({ header: new Uint8Array(16).fill(7), data: p }), protocol, {
    chunkSize: protocol === CREDSSP_ENCRYPTED ? 100 : Infinity,
  })
  return { protocol, body: Buffer.from(r.body), contentType: r.contentType }
})

test('WinRM decryptWinRMBody: a body or a PsrpError, in time', { timeout: TIMEOUT }, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: encSeeds.length - 1 }),
      mutatedBytes(encSeeds.map((s) => s.body)),
      mutatedText(
        encSeeds.map((s) => s.contentType),
        2,
      ),
      fc.constantFrom(...PROTOCOLS),
      (i, body, contentType, protocol) => {
        const useOwn = i % 2 === 0
        typedWithinBudget('decryptWinRMBody', body, (b) =>
          decryptWinRMBody(
            b,
            useOwn ? (encSeeds[i]?.contentType ?? contentType) : contentType,
            (m) => m.data,
            protocol,
          ),
        )
      },
    ),
    params(2000),
  )
})

// ---------------------------------------------------------------------------------------------------
// ASN.1 / NTLM / SPNEGO / Kerberos / CredSSP

const decoders: [string, (b: Uint8Array) => unknown][] = [
  ['decodeDerTree', (b) => decodeDerTree(b)],
  ['decodeGssInitialContextToken', decodeGssInitialContextToken],
  ['decodeOidContent', decodeOidContent],
  ['decodeSpnegoToken', decodeSpnegoToken],
  ['decodeNegTokenResp', decodeNegTokenResp],
  ['decodeNegotiate', decodeNegotiate],
  ['decodeChallenge', decodeChallenge],
  ['decodeAuthenticate', decodeAuthenticate],
  ['decodeAvPairs', decodeAvPairs],
  ['decodeVersion', decodeVersion],
  ['decodeClientChallenge', decodeClientChallenge],
  ['decodeNtlmv2Response', decodeNtlmv2Response],
  ['decodeKrbError', decodeKrbError],
  ['decodeKdcRep', decodeKdcRep],
  ['decodeEncKdcRepPart', decodeEncKdcRepPart],
  ['decodeKdcReq', decodeKdcReq],
  ['decodeKrbCred', decodeKrbCred],
  ['decodeEncKrbCredPart', decodeEncKrbCredPart],
  ['decodeApRep', decodeApRep],
  ['decodeEncApRepPart', decodeEncApRepPart],
  ['decodeApReq', decodeApReq],
  ['decodeAuthenticator', decodeAuthenticator],
  ['decodeTicket', decodeTicket],
  ['decodeGssChecksum', decodeGssChecksum],
  ['decodeEtypeInfo2', decodeEtypeInfo2],
  ['decodeMethodData', decodeMethodData],
  ['decodePaEncTsEnc', decodePaEncTsEnc],
  ['parseKdcReply', parseKdcReply],
  ['parseWrapHeader', parseWrapHeader],
  ['parseMicHeader', parseMicHeader],
  ['parseCCache', parseCCache],
  ['parseKeytab', parseKeytab],
  ['decodeTsRequest', decodeTsRequest],
  ['decodeTsCredentials', decodeTsCredentials],
  ['decodeTsPasswordCreds', decodeTsPasswordCreds],
  ['tlsRecords', (b) => [...tlsRecords(b)]],
  ['serverRandomFromFlight', serverRandomFromFlight],
  ['subjectPublicKey', subjectPublicKey],
  [
    'KdcReplyReader',
    (b) => {
      const r = new KdcReplyReader('kdc:88')
      for (let i = 0; i < b.length; i += 3) if (r.push(b.subarray(i, i + 3)) !== undefined) return
    },
  ],
]

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'))
function vectorTokens(): Uint8Array[] {
  const out: Uint8Array[] = []
  const spnego = JSON.parse(
    readFileSync(new URL('../vectors/auth/spnego/mit-spnego-ntlm.json', import.meta.url), 'utf8'),
  ) as { tokens: { hex?: string }[] }
  for (const t of spnego.tokens) {
    if (typeof t.hex !== 'string') continue
    const bytes = hex(t.hex)
    out.push(bytes)
    const ntlm = Buffer.from(bytes).indexOf('NTLMSSP\0')
    if (ntlm !== -1) out.push(bytes.subarray(ntlm))
  }
  const gss = JSON.parse(
    readFileSync(new URL('../vectors/auth/kerberos/mit-gss-tokens.json', import.meta.url), 'utf8'),
  ) as { contexts: { mit?: { token?: string }[] }[] }
  for (const c of gss.contexts) {
    for (const t of (c.mit ?? []).slice(0, 4)) if (typeof t.token === 'string') out.push(hex(t.token))
  }
  return out
}
/** pyspnego's captured tokens (Kerberos AS/TGS, AP-REQ/REP, NTLM, SPNEGO, CredSSP, TLS), when present. */
const corpusTokens = filesUnder(corpusDir(), /^(credssp|initial_context|krb|neg_token|ntlm|tls)/)
  .filter((f) => !basename(f).endsWith('.md'))
  .map((f) => Uint8Array.from(readFileSync(f)))

/** A random DER tree (tags Kerberos, SPNEGO and CredSSP use), encoded. */
const der: fc.Arbitrary<Uint8Array> = fc.letrec<{ node: Uint8Array }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc
      .tuple(
        fc.constantFrom(0x01, 0x02, 0x03, 0x04, 0x06, 0x0a, 0x18, 0x1b, 0x05),
        fc.uint8Array({ maxLength: 24 }),
      )
      .map(([tag, body]) => tlv(tag, body)),
    fc
      .tuple(
        fc.constantFrom(
          0x30,
          0x31,
          0xa0,
          0xa1,
          0xa2,
          0xa3,
          0xa4,
          0xa5,
          0xa9,
          0xab,
          0x60,
          0x61,
          0x6a,
          0x6b,
          0x6d,
          0x6e,
          0x6f,
          0x7e,
          0x76,
        ),
        fc.array(tie('node'), { maxLength: 5 }),
      )
      .map(([tag, kids]) => tlv(tag, Buffer.concat(kids))),
  ),
})).node

function tlv(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length
  const len: number[] = []
  if (n < 0x80) len.push(n)
  else {
    for (let x = n; x > 0; x = Math.floor(x / 256)) len.unshift(x & 0xff)
    len.unshift(0x80 | len.length)
  }
  return Buffer.concat([Uint8Array.of(tag), Uint8Array.from(len), body])
}

const authSeeds = [...vectorTokens(), ...corpusTokens]

test(
  'every ASN.1 / NTLM / SPNEGO / Kerberos / CredSSP decoder: a result or a PsrpError, in time',
  { timeout: TIMEOUT },
  () => {
    fc.assert(
      fc.property(
        fc.oneof(
          mutatedBytes(authSeeds),
          der,
          der.chain((d) => mutatedBytes([d], 2)),
        ),
        (bytes) => {
          for (const [name, decode] of decoders) typedWithinBudget(name, bytes, decode)
        },
      ),
      seedsFirst(
        params(1000),
        authSeeds.map((s) => [s] as [Uint8Array]),
      ),
    )
  },
)
