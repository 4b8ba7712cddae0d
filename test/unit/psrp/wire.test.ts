import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  decodeFragment,
  decodeMessage,
  Defragmenter,
  encodeFragment,
  encodeMessage,
  Fragmenter,
  FRAGMENT_HEADER_SIZE,
  MessageType,
  messageTypeName,
  guidToBytes,
  guidFromBytes,
  swapGuidByteOrder,
} from '../../../src/psrp/index.ts'
import { ProtocolError } from '../../../src/errors.ts'

const RPID = '6e2f4cc5-3bd8-4a4a-9d52-27e5b0f0a6c1'
const PID = '4a2c1b8e-5f3d-4e6a-8b9c-0d1e2f3a4b5c'

test('the 31 message types have their MS-PSRP values', () => {
  assert.equal(Object.keys(MessageType).length, 31)
  assert.equal(MessageType.PROGRESS_RECORD, 0x00041010)
  assert.equal(messageTypeName(0x0002100b), 'RUNSPACEPOOL_INIT_DATA')
  assert.equal(messageTypeName(0x12345678), undefined)
})

test('GUIDs: .NET byte order on the wire, RFC order readable, swap helper', () => {
  // transports.md §1.8: RPID bytes_le
  assert.deepEqual([...guidToBytes(RPID)].slice(0, 8), [0xc5, 0x4c, 0x2f, 0x6e, 0xd8, 0x3b, 0x4a, 0x4a])
  assert.equal(guidFromBytes(guidToBytes(RPID)), RPID)
  assert.equal(guidFromBytes(guidToBytes(RPID, 'be'), 0, 'be'), RPID)
  assert.equal(guidFromBytes(guidToBytes(RPID, 'be')), swapGuidByteOrder(RPID))
})

test('END_OF_PIPELINE_INPUT matches the worked example of transports.md §1.8 byte for byte', () => {
  const msg = encodeMessage({
    destination: 'server',
    type: MessageType.END_OF_PIPELINE_INPUT,
    rpid: RPID,
    pid: PID,
    data: '',
  })
  const frag = encodeFragment({ objectId: 5n, fragmentId: 0n, start: true, end: true, data: msg })
  assert.equal(
    Buffer.from(frag).toString('base64'),
    'AAAAAAAAAAUAAAAAAAAAAAMAAAAoAgAAAAMQBADFTC9u2DtKSp1SJ+Ww8KbBjhssSj1fak6LnA0eLzpLXA==',
  )
})

test('message header: BOM optional, destination checked, short input rejected', () => {
  const m = encodeMessage({
    destination: 'client',
    type: MessageType.PIPELINE_OUTPUT,
    rpid: RPID,
    pid: PID,
    data: '<S>x</S>',
    bom: true,
  })
  const d = decodeMessage(m)
  assert.equal(d.hasBom, true)
  assert.equal(d.data, '<S>x</S>')
  assert.equal(d.pid, PID)
  assert.throws(() => decodeMessage(m.subarray(0, 39)), ProtocolError)
  const bad = m.slice()
  bad[0] = 7
  assert.throws(() => decodeMessage(bad), /destination 7/)
})

test('message body: ASCII, other UTF-8 and a U+FEFF after the BOM decode exactly; invalid UTF-8 is refused', () => {
  const body = (data: string, bom = false): Uint8Array =>
    encodeMessage({
      destination: 'client',
      type: MessageType.PIPELINE_OUTPUT,
      rpid: RPID,
      pid: PID,
      data,
      bom,
    })
  for (const data of ['<BA>QUJD</BA>', '<S>\u007f\u0000x</S>', '<S>é ü 💩</S>', ''])
    for (const bom of [false, true]) assert.equal(decodeMessage(body(data, bom)).data, data)
  // a U+FEFF after PowerShell's BOM is text
  assert.equal(decodeMessage(body('\ufeff<S>x</S>', true)).data, '\ufeff<S>x</S>')
  const latin1 = body('<S>xé</S>')
  // é as one Latin-1 byte (0xE9) is not UTF-8: refused, not read as Latin-1
  const i = latin1.indexOf(0xc3)
  const bad = Uint8Array.from([...latin1.subarray(0, i), 0xe9, ...latin1.subarray(i + 2)])
  assert.throws(() => decodeMessage(bad), /not valid UTF-8/)
})

test('fragmenter splits to the size limit and the defragmenter reassembles interleaved objects', () => {
  const f = new Fragmenter()
  const a = Uint8Array.from({ length: 100 }, (_, i) => i)
  const b = Uint8Array.from({ length: 45 }, (_, i) => 200 - i)
  const fa = f.fragment(a, FRAGMENT_HEADER_SIZE + 30)
  const fb = f.fragment(b, FRAGMENT_HEADER_SIZE + 30)
  assert.equal(fa.length, 4)
  assert.deepEqual(
    fa.map((x) => [x.objectId, x.fragmentId, x.start, x.end, x.data.length]),
    [
      [1n, 0n, true, false, 30],
      [1n, 1n, false, false, 30],
      [1n, 2n, false, false, 30],
      [1n, 3n, false, true, 10],
    ],
  )
  assert.equal(fb[0]?.objectId, 2n)
  // interleave and split the byte stream at awkward places
  const order = [fa[0], fb[0], fa[1], fa[2], fb[1], fa[3]].map((x) => encodeFragment(x!))
  const stream = Buffer.concat(order)
  const d = new Defragmenter()
  const done: Uint8Array[] = []
  for (let i = 0; i < stream.length; i += 7) done.push(...d.push(stream.subarray(i, i + 7)))
  assert.deepEqual(done, [b, a])
  assert.equal(d.incompleteObjects, 0)
  assert.equal(d.bufferedBytes, 0)
  assert.throws(() => f.fragment(a, FRAGMENT_HEADER_SIZE), ProtocolError)
})

test('inconsistent fragment sequences are ProtocolErrors', () => {
  const frag = (objectId: bigint, fragmentId: bigint, start: boolean, end: boolean) =>
    encodeFragment({ objectId, fragmentId, start, end, data: Uint8Array.of(1) })
  const cases: [Uint8Array[], RegExp][] = [
    [[frag(1n, 1n, false, true)], /without its start/],
    [[frag(1n, 0n, true, false), frag(1n, 0n, true, true)], /started twice/],
    [[frag(1n, 0n, true, false), frag(1n, 2n, false, true)], /expected fragment 1, got 2/],
    [[frag(1n, 3n, true, true)], /starts with fragment 3/],
  ]
  for (const [frags, re] of cases) {
    const d = new Defragmenter()
    assert.throws(
      () => frags.forEach((x) => d.push(x)),
      (e: unknown) => e instanceof ProtocolError && re.test(e.message),
    )
  }
  const big = new Defragmenter({ maxObjectSize: 10 })
  assert.throws(
    () =>
      big.push(
        encodeFragment({ objectId: 1n, fragmentId: 0n, start: true, end: true, data: new Uint8Array(11) }),
      ),
    /exceeds/,
  )
  const flags = encodeFragment({
    objectId: 1n,
    fragmentId: 0n,
    start: true,
    end: true,
    data: Uint8Array.of(1),
  })
  flags[16] = 0x83
  assert.throws(() => decodeFragment(flags), /reserved flag/)
  assert.equal(decodeFragment(flags.subarray(0, 10)), undefined)
})

test('decodeMessage: the pool and pipeline ids of consecutive messages are each their own', () => {
  const other = '9d3e7a10-2b4c-4d5e-8f60-718293a4b5c6'
  const seq: [string, string | undefined][] = [
    [RPID, PID],
    [RPID, PID],
    [RPID, undefined],
    [other, PID],
    [RPID, other],
    [RPID, PID],
  ]
  for (const [rpid, pid] of seq) {
    const m = decodeMessage(
      encodeMessage({ destination: 'client', type: MessageType.PIPELINE_OUTPUT, rpid, pid, data: '<Nil />' }),
    )
    assert.equal(m.rpid, rpid)
    assert.equal(m.pid, pid ?? '00000000-0000-0000-0000-000000000000')
  }
})

test('Defragmenter: whole one-fragment messages between the fragments of another object; limits hold', () => {
  const one = (objectId: bigint, data: Uint8Array): Uint8Array =>
    encodeFragment({ objectId, fragmentId: 0n, start: true, end: true, data })
  const d = new Defragmenter({ maxObjectSize: 8 })
  assert.deepEqual(d.push(one(1n, Uint8Array.of(1, 2))), [Uint8Array.of(1, 2)])
  // object 2 in two fragments, a whole object 3 between them
  const first = encodeFragment({
    objectId: 2n,
    fragmentId: 0n,
    start: true,
    end: false,
    data: Uint8Array.of(5),
  })
  const last = encodeFragment({
    objectId: 2n,
    fragmentId: 1n,
    start: false,
    end: true,
    data: Uint8Array.of(6),
  })
  assert.deepEqual(d.push(first), [])
  assert.deepEqual(d.push(one(3n, Uint8Array.of(7))), [Uint8Array.of(7)])
  assert.deepEqual(d.push(last), [Uint8Array.of(5, 6)])
  // the returned message is a copy: changing the input afterwards does not change it
  const input = one(4n, Uint8Array.of(9))
  const [msg] = d.push(input)
  input.fill(0)
  assert.deepEqual(msg, Uint8Array.of(9))
  assert.throws(() => d.push(one(5n, new Uint8Array(9))), ProtocolError)
  const d2 = new Defragmenter()
  assert.throws(
    () =>
      d2.push(
        encodeFragment({ objectId: 1n, fragmentId: 1n, start: true, end: true, data: Uint8Array.of(1) }),
      ),
    /starts with fragment 1/,
  )
})
