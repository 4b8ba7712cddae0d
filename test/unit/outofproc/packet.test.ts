import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ProtocolError } from '../../../src/errors.ts'
import {
  MAX_PACKET_DATA,
  SESSION_GUID,
  decodeLine,
  encodePacket,
  encodePacketLine,
  type OutOfProcPacket,
} from '../../../src/outofproc/index.ts'

const P = '4a2c1b8e-5f3d-4e6a-8b9c-0d1e2f3a4b5c'
const Z = SESSION_GUID

/** transports.md §1.8: END_OF_PIPELINE_INPUT for pipeline P, 61 raw bytes. */
const EOPI_B64 = 'AAAAAAAAAAUAAAAAAAAAAAMAAAAoAgAAAAMQBADFTC9u2DtKSp1SJ+Ww8KbBjhssSj1fak6LnA0eLzpLXA=='
const EOPI = new Uint8Array(Buffer.from(EOPI_B64, 'base64'))

function remoteError(line: string, match: RegExp): void {
  assert.throws(
    () => decodeLine(line),
    (e: unknown) => e instanceof ProtocolError && e.side === 'remote' && match.test(e.message),
    `expected ProtocolError(${match}) for ${line}`,
  )
}

describe('encodePacket', () => {
  test('every packet kind in PowerShell’s exact format', () => {
    const cases: [OutOfProcPacket, string][] = [
      [
        { kind: 'data', guid: P, stream: 'default', data: EOPI },
        `<Data Stream='Default' PSGuid='${P}'>${EOPI_B64}</Data>`,
      ],
      [
        { kind: 'data', guid: Z, stream: 'promptResponse', data: new Uint8Array([0, 1, 2]) },
        `<Data Stream='PromptResponse' PSGuid='${Z}'>AAEC</Data>`,
      ],
      [{ kind: 'dataAck', guid: Z }, `<DataAck PSGuid='${Z}' />`],
      [{ kind: 'command', guid: P }, `<Command PSGuid='${P}' />`],
      [{ kind: 'commandAck', guid: P }, `<CommandAck PSGuid='${P}' />`],
      [{ kind: 'signal', guid: P }, `<Signal PSGuid='${P}' />`],
      [{ kind: 'signalAck', guid: P }, `<SignalAck PSGuid='${P}' />`],
      [{ kind: 'close', guid: P }, `<Close PSGuid='${P}' />`],
      [{ kind: 'close', guid: Z }, `<Close PSGuid='00000000-0000-0000-0000-000000000000' />`],
      [{ kind: 'closeAck', guid: Z }, `<CloseAck PSGuid='${Z}' />`],
    ]
    for (const [packet, line] of cases) {
      assert.equal(encodePacket(packet), line)
      assert.equal(encodePacketLine(packet), `${line}\n`)
      assert.deepEqual(decodeLine(line), packet, 'round trip')
    }
  })

  test('GUIDs are written lower-case D format', () => {
    assert.equal(encodePacket({ kind: 'command', guid: `{${P.toUpperCase()}}` }), `<Command PSGuid='${P}' />`)
  })

  test('local errors: bad GUID, empty or oversized data', () => {
    const local = (p: OutOfProcPacket): void =>
      assert.throws(
        () => encodePacket(p),
        (e: unknown) => e instanceof ProtocolError && e.side === 'local',
      )
    local({ kind: 'command', guid: 'nope' })
    local({ kind: 'data', guid: P, stream: 'default', data: new Uint8Array(0) })
    local({ kind: 'data', guid: P, stream: 'default', data: new Uint8Array(MAX_PACKET_DATA + 1) })
    const full = encodePacket({
      kind: 'data',
      guid: P,
      stream: 'default',
      data: new Uint8Array(MAX_PACKET_DATA),
    })
    assert.equal(full.length, 43_692 + `<Data Stream='Default' PSGuid='${P}'></Data>`.length)
  })
})

describe('decodeLine', () => {
  test('tolerates what XmlReader tolerates: quotes, attribute order, whitespace, GUID case, CR/LF', () => {
    const want = { kind: 'data', guid: P, stream: 'default', data: EOPI }
    for (const line of [
      `<Data Stream="Default" PSGuid="${P}">${EOPI_B64}</Data>`,
      `<Data PSGuid='${P.toUpperCase()}' Stream='Default'>${EOPI_B64}</Data>`,
      `<Data  Stream = 'Default'\tPSGuid='{${P}}' >${EOPI_B64}</Data >\r\n`,
      `<Data Stream='default' PSGuid='${P}'>${EOPI_B64}</Data>\n`,
      `  <Data Stream='Default' PSGuid='${P}'>${EOPI_B64}</Data>\r`,
    ]) {
      assert.deepEqual(decodeLine(line), want, line)
    }
    assert.deepEqual(decodeLine(`<CloseAck PSGuid="${Z}"/>`), { kind: 'closeAck', guid: Z })
    assert.deepEqual(decodeLine(`<CommandAck PSGuid='${P}'></CommandAck>`), { kind: 'commandAck', guid: P })
    assert.deepEqual(decodeLine(`<SignalAck PSGuid='&#x34;a2c1b8e-5f3d-4e6a-8b9c-0d1e2f3a4b5c' />`), {
      kind: 'signalAck',
      guid: P,
    })
    const pr = decodeLine(`<Data Stream='PROMPTRESPONSE' PSGuid='${P}'>AA==</Data>`)
    assert.equal(pr.kind === 'data' ? pr.stream : undefined, 'promptResponse')
  })

  test('server error lines', () => {
    assert.deepEqual(decodeLine('__NamedPipeError__:An unknown element "" was received.\r\n'), {
      kind: 'serverError',
      prefix: '__NamedPipeError__',
      message: 'An unknown element "" was received.',
    })
    assert.deepEqual(decodeLine('__HyperVSocketError__:boom'), {
      kind: 'serverError',
      prefix: '__HyperVSocketError__',
      message: 'boom',
    })
  })

  test('strict: unknown element, attribute count and names', () => {
    remoteError(`<Foo PSGuid='${P}' />`, /unknown element <Foo>/)
    remoteError(`<data Stream='Default' PSGuid='${P}'>AA==</data>`, /unknown element <data>/)
    remoteError(`<Command PSGuid='${P}' Extra='1' />`, /exactly 1 attribute, got 2/)
    remoteError(`<Command />`, /exactly 1 attribute, got 0/)
    remoteError(`<Command Guid='${P}' />`, /no PSGuid/)
    remoteError(`<Data PSGuid='${P}'>AA==</Data>`, /exactly 2 attributes, got 1/)
    remoteError(`<Data Stream='Default' PSGuid='${P}' X='1'>AA==</Data>`, /exactly 2 attributes, got 3/)
    remoteError(`<Data Stream='Default' Stream='Default'>AA==</Data>`, /duplicate attribute Stream/)
    remoteError(`<Data Strm='Default' PSGuid='${P}'>AA==</Data>`, /no Stream/)
    remoteError(`<Data Stream='stdin' PSGuid='${P}'>AA==</Data>`, /unknown Stream/)
  })

  test('strict: bad GUID', () => {
    remoteError(`<DataAck PSGuid='not-a-guid' />`, /bad PSGuid/)
    remoteError(`<DataAck PSGuid='${P.slice(0, -1)}' />`, /bad PSGuid/)
    remoteError(`<DataAck PSGuid='${P}0' />`, /bad PSGuid/)
    remoteError(`<DataAck PSGuid='' />`, /bad PSGuid/)
  })

  test('strict: bad or missing base64', () => {
    remoteError(`<Data Stream='Default' PSGuid='${P}'>A!==</Data>`, /not valid base64/)
    remoteError(`<Data Stream='Default' PSGuid='${P}'>AAA</Data>`, /not valid base64/)
    remoteError(`<Data Stream='Default' PSGuid='${P}'></Data>`, /no content/)
    remoteError(`<Data Stream='Default' PSGuid='${P}' />`, /no content/)
    remoteError(`<Data Stream='Default' PSGuid='${P}'><X/></Data>`, /only base64 text/)
  })

  test('strict: framing', () => {
    remoteError('', /not an XML element/)
    remoteError('hello', /not an XML element/)
    remoteError(`<Command PSGuid='${P}' /> trailing`, /unexpected text/)
    remoteError(`<Command PSGuid='${P}' /><Command PSGuid='${P}' />`, /unexpected text/)
    remoteError(`<Command PSGuid='${P}'`, /unterminated/)
    remoteError(`<Command PSGuid='${P}'>x</Command>`, /must be empty/)
    remoteError(`<Command PSGuid='${P}'></Close>`, /must be empty/)
    remoteError(`<Data Stream='Default' PSGuid='${P}'>AA==`, /not closed/)
    remoteError(`<Data Stream='Default' PSGuid='${P}'>AA==</Data`, /bad end tag/)
    remoteError(`<Command PSGuid=${P} />`, /bad value/)
    remoteError(`<Command PSGuid='${P}'PSGuid='${P}' />`, /whitespace/)
    remoteError(`<Command PSGuid='a&b' />`, /bare "&"/)
  })

  test('error messages quote and truncate the offending line', () => {
    const long = `<Nope PSGuid='${P}'>${'A'.repeat(10_000)}</Nope>`
    assert.throws(
      () => decodeLine(long),
      (e: unknown) => e instanceof ProtocolError && e.message.length < 400 && e.message.includes('<Nope'),
    )
  })
})

describe('decodeLine: the canonical <Data> line (fast path)', () => {
  const Q = '9d3e7a10-2b4c-4d5e-8f60-718293a4b5c6'
  const canonical = (guid: string, b64: string): string =>
    `<Data Stream='Default' PSGuid='${guid}'>${b64}</Data>`

  test('alternating GUIDs each decode to their own GUID and bytes', () => {
    for (const guid of [P, Q, P, Z, Q]) {
      assert.deepEqual(decodeLine(canonical(guid, EOPI_B64)), {
        kind: 'data',
        guid,
        stream: 'default',
        data: EOPI,
      })
    }
  })

  test('lines that only look canonical get the general path’s result or error', () => {
    // an upper-case GUID is accepted (and lower-cased) as XmlReader/Guid would
    const upper = decodeLine(canonical(P.toUpperCase(), EOPI_B64))
    assert.equal(upper.kind === 'data' && upper.guid, P)
    // base64 with whitespace is accepted by both paths
    const spaced = decodeLine(canonical(P, `${EOPI_B64.slice(0, 8)} ${EOPI_B64.slice(8)}`))
    assert.deepEqual(spaced.kind === 'data' && spaced.data, EOPI)
    remoteError(canonical(P, 'A'), /not valid base64/)
    remoteError(canonical(P, '!!!!'), /not valid base64/)
    remoteError(canonical(P.replace('4a2c', '4a2x'), EOPI_B64), /bad PSGuid/)
    remoteError(`${canonical(P, EOPI_B64)}x`, /unexpected text after the element/)
    remoteError(canonical(P, `${EOPI_B64}<b/>`), /may contain only base64/)
  })
})
