/**
 * Published vectors: the MS-PSRP example bodies (test/vectors/psrp/spec) decode to their typed
 * fields, and the creationXml worked example of shared/notes/transports.md §1.8 (.NET GUID order)
 * is reproduced byte for byte. Also pins down how message GUIDs are read in either byte order.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import {
  decodeFragments,
  decodeMessage,
  decodeMessageBody,
  encodeFragment,
  encodeMessage,
  encodeMessageBody,
  Fragmenter,
  guidFromBytes,
  MessageType,
  type MessageTypeName,
} from '../../../src/psrp/index.ts'
import { HostInfo, InformationRecord } from '../../../src/clixml/index.ts'
import { ProtocolError } from '../../../src/errors.ts'

const specDir = new URL('../../vectors/psrp/spec/', import.meta.url)
const expected = JSON.parse(readFileSync(new URL('expected.json', specDir), 'utf8')) as Record<
  string,
  {
    type: MessageTypeName
    fields?: Record<string, unknown>
    record?: Record<string, unknown>
    /** The example is known not to decode; the reason (see README.md). */
    error?: string
    todo?: string
  }
>

const plain = (v: unknown): unknown =>
  JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)))

for (const [file, e] of Object.entries(expected)) {
  test(
    `MS-PSRP example ${file} ${e.error === undefined ? 'decodes' : 'is refused'} as ${e.type}`,
    e.todo === undefined ? {} : { todo: e.todo },
    () => {
      const xml = readFileSync(new URL(file, specDir), 'utf8')
      if (e.error !== undefined) {
        assert.throws(() => decodeMessageBody(MessageType[e.type], xml), ProtocolError, e.error)
        return
      }
      const d = decodeMessageBody(MessageType[e.type], xml)
      assert.equal(d.type, e.type)
      if (e.fields !== undefined) assert.deepEqual(plain(d.fields), e.fields)
      if (e.record !== undefined) {
        assert.ok(d.type === 'INFORMATION_RECORD')
        const rec = d.fields.record
        assert.ok(rec instanceof InformationRecord)
        for (const [k, v] of Object.entries(e.record)) assert.equal(rec.get(k), v, k)
      }
    },
  )
}

const RPID = '6e2f4cc5-3bd8-4a4a-9d52-27e5b0f0a6c1'
const t18 = readFileSync(
  new URL('../../vectors/psrp/transports-1.8-creation-xml.b64', import.meta.url),
  'utf8',
).trim()

test('transports.md §1.8 creationXml (.NET type names, RPID in .NET order) is reproduced byte for byte', () => {
  const f = new Fragmenter()
  const cap = encodeMessage({
    destination: 'server',
    type: MessageType.SESSION_CAPABILITY,
    rpid: RPID,
    data: encodeMessageBody('SESSION_CAPABILITY', {
      protocolVersion: '2.3',
      psVersion: '2.0',
      serializationVersion: '1.1.0.1',
    }),
  })
  const init = encodeMessage({
    destination: 'server',
    type: MessageType.INIT_RUNSPACEPOOL,
    rpid: RPID,
    data: encodeMessageBody('INIT_RUNSPACEPOOL', {
      minRunspaces: 1,
      maxRunspaces: 1,
      threadOptions: 0,
      apartmentState: 2,
      hostInfo: HostInfo.create(),
      applicationArguments: null,
    }),
  })
  const bytes = Buffer.concat([...f.fragment(cap, 32768), ...f.fragment(init, 32768)].map(encodeFragment))
  assert.equal(bytes.length, 984)
  assert.equal(bytes.toString('base64'), t18)
})

test('message GUIDs: read in .NET order by default; rpidBytes/pidBytes give the raw bytes for RFC-order recordings', () => {
  // §1.8 was written in .NET order: the default reading is right
  const [le] = decodeFragments(Buffer.from(t18, 'base64')).map((f) => decodeMessage(f.data))
  assert.equal(le?.rpid, RPID)
  assert.equal(Buffer.from(le!.rpidBytes).toString('hex'), 'c54c2f6ed83b4a4a9d5227e5b0f0a6c1')
  // the seed was written by pypsrp < 0.3.1 in RFC order: read the raw bytes as 'be' to get the real id
  const seed = Buffer.from(
    readFileSync(new URL('../../vectors/psrp/seed-creation-xml.b64', import.meta.url), 'utf8').trim(),
    'base64',
  )
  const [be] = decodeFragments(seed).map((f) => decodeMessage(f.data))
  assert.equal(guidFromBytes(be!.rpidBytes, 0, 'be'), '5a416ea5-fb2a-4aaa-91bf-77bf51043386')
  assert.equal(be!.rpid, 'a56e415a-2afb-aa4a-91bf-77bf51043386')
  assert.equal(guidFromBytes(be!.pidBytes, 0, 'be'), be!.pid) // the nil GUID reads the same either way
})

const msg = (body: Uint8Array): Uint8Array => {
  const head = encodeMessage({
    destination: 'client',
    type: MessageType.PIPELINE_OUTPUT,
    rpid: RPID,
    data: '',
  })
  return Uint8Array.from([...head, ...body])
}

test('message body: one leading BOM is removed and flagged', () => {
  const d = decodeMessage(msg(Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from('<S>x</S>')])))
  assert.equal(d.hasBom, true)
  assert.equal(d.data, '<S>x</S>')
})

test('message body: a second BOM is data and is kept (lossless)', () => {
  const d = decodeMessage(
    msg(Uint8Array.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, ...Buffer.from('<S>x</S>')])),
  )
  assert.equal(d.hasBom, true)
  assert.equal(d.data, '\ufeff<S>x</S>')
  // without a leading BOM a U+FEFF later in the body is kept too
  assert.equal(decodeMessage(msg(Buffer.from('<S>\ufeff</S>'))).data, '<S>\ufeff</S>')
})

test('message body: invalid UTF-8 is a ProtocolError, not silently replaced by U+FFFD', () => {
  assert.throws(
    () => decodeMessage(msg(Uint8Array.from([0x3c, 0x53, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x53, 0x3e]))),
    ProtocolError,
  )
  // a truncated sequence, an overlong form and an encoded surrogate are refused as well
  for (const bad of [
    [0xe2, 0x82],
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
  ]) {
    assert.throws(() => decodeMessage(msg(Uint8Array.from(bad))), ProtocolError, JSON.stringify(bad))
  }
  // a U+FFFD that was really sent is data
  assert.equal(decodeMessage(msg(Buffer.from('\ufffd'))).data, '\ufffd')
})
