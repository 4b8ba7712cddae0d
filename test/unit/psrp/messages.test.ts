/** Every one of the 31 message types encodes and decodes back to the same typed fields. */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  ALL_MESSAGE_TYPES,
  decodeMessage,
  decodeMessageBody,
  encodeMessage,
  encodeMessageBody,
  MessageType,
  VOID_HOST_METHODS,
} from '../../../src/psrp/index.ts'
import { HostInfo, ProgressRecord, PSThreadOptions } from '../../../src/clixml/index.ts'
import { ProtocolError } from '../../../src/errors.ts'
import { sampleMessages } from './samples.ts'

const samples = sampleMessages

/** Plain comparable view: PSObjects by their serialized form. */
function plain(v: unknown): unknown {
  return JSON.parse(
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === 'bigint'
        ? `${x}n`
        : x instanceof Map
          ? Object.fromEntries(x)
          : x instanceof Uint8Array
            ? [...x]
            : x,
    ),
  )
}

test('all 31 message types round-trip through encode/decode with their typed fields', () => {
  assert.equal(ALL_MESSAGE_TYPES.length, 31)
  for (const type of ALL_MESSAGE_TYPES) {
    const fields = samples[type]
    const body = encodeMessageBody(type, fields as never)
    const raw = encodeMessage({
      destination: 'server',
      type: MessageType[type],
      rpid: '6e2f4cc5-3bd8-4a4a-9d52-27e5b0f0a6c1',
      data: body,
      bom: true,
    })
    const msg = decodeMessage(raw)
    const decoded = decodeMessageBody(msg.type, msg.data)
    assert.equal(decoded.type, type)
    const { methodName: _m, ...comparable } = decoded.fields as Record<string, unknown>
    const { methodName: _n, ...expected } = fields as Record<string, unknown>
    assert.deepEqual(plain(comparable), plain(expected), type)
  }
})

test('typed views: records, host info, enums and call ids decode to the right classes', () => {
  const p = decodeMessageBody(
    MessageType.PROGRESS_RECORD,
    encodeMessageBody('PROGRESS_RECORD', samples.PROGRESS_RECORD),
  )
  assert.ok(
    p.type === 'PROGRESS_RECORD' &&
      p.fields.record instanceof ProgressRecord &&
      p.fields.record.percentComplete === 7,
  )
  const i = decodeMessageBody(
    MessageType.INIT_RUNSPACEPOOL,
    encodeMessageBody('INIT_RUNSPACEPOOL', samples.INIT_RUNSPACEPOOL),
  )
  assert.ok(
    i.type === 'INIT_RUNSPACEPOOL' && i.fields.hostInfo instanceof HostInfo && i.fields.threadOptions === 0,
  )
  assert.match(
    encodeMessageBody('INIT_RUNSPACEPOOL', samples.INIT_RUNSPACEPOOL),
    /<ToString>Default<\/ToString><I32>0<\/I32>/,
  )
  assert.equal(PSThreadOptions.of(0).name, 'Default')
  const h = decodeMessageBody(
    MessageType.PIPELINE_HOST_CALL,
    encodeMessageBody('PIPELINE_HOST_CALL', samples.PIPELINE_HOST_CALL),
  )
  assert.ok(
    h.type === 'PIPELINE_HOST_CALL' && h.fields.methodName === 'SetWindowSize' && h.fields.callId === 7n,
  )
  assert.ok(VOID_HOST_METHODS.has('SetWindowSize') && !VOID_HOST_METHODS.has('ReadLine'))
  assert.equal(encodeMessageBody('END_OF_PIPELINE_INPUT', {}), '')
})

test('CREATE_PIPELINE omits merge fields the negotiated protocol does not know', () => {
  const v21 = encodeMessageBody('CREATE_PIPELINE', { ...samples.CREATE_PIPELINE, protocolVersion: '2.1' })
  assert.ok(!v21.includes('MergeWarning') && !v21.includes('MergeInformation'))
  const v22 = encodeMessageBody('CREATE_PIPELINE', { ...samples.CREATE_PIPELINE, protocolVersion: '2.2' })
  assert.ok(v22.includes('MergeWarning') && !v22.includes('MergeInformation'))
  assert.ok(encodeMessageBody('CREATE_PIPELINE', samples.CREATE_PIPELINE).includes('MergeInformation'))
  assert.throws(
    () => encodeMessageBody('CREATE_PIPELINE', { ...samples.CREATE_PIPELINE, statements: [] }),
    ProtocolError,
  )
})

test('bodies missing required fields or with bad XML are ProtocolErrors naming the message', () => {
  assert.throws(
    () => decodeMessageBody(MessageType.PIPELINE_STATE, '<Obj RefId="0"><MS /></Obj>'),
    /PIPELINE_STATE is missing PipelineState/,
  )
  assert.throws(
    () => decodeMessageBody(MessageType.SET_MAX_RUNSPACES, '<S>x</S>'),
    /SET_MAX_RUNSPACES body is not an object/,
  )
  assert.throws(
    () => decodeMessageBody(MessageType.RUNSPACEPOOL_STATE, '<Obj RefId="0"><MS><I32 N="RunspaceState">x'),
    (e: unknown) => e instanceof ProtocolError && /RUNSPACEPOOL_STATE body/.test(e.message),
  )
  assert.throws(() => decodeMessageBody(0x0bad0bad, '<S />'), /unknown message type 0x0bad0bad/)
})

test('an empty PIPELINE_OUTPUT or PIPELINE_INPUT body is $null (PowerShell sends no <Nil /> for it)', () => {
  for (const type of ['PIPELINE_OUTPUT', 'PIPELINE_INPUT'] as const) {
    const d = decodeMessageBody(MessageType[type], '')
    assert.equal(d.type, type)
    assert.deepEqual(d.fields, { value: null })
    assert.deepEqual(decodeMessageBody(MessageType[type], '<Nil />').fields, { value: null })
  }
})
