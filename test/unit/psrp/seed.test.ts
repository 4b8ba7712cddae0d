/** The seed walkthrough's creationXml: exact fragment and message layout, and byte-exact re-encoding. */
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
  MessageType,
  guidFromBytes,
  swapGuidByteOrder,
} from '../../../src/psrp/index.ts'
import { PSEnum, HostInfo, PSThreadOptions } from '../../../src/clixml/index.ts'

const b64 = readFileSync(new URL('../../vectors/psrp/seed-creation-xml.b64', import.meta.url), 'utf8').trim()
const expected = JSON.parse(
  readFileSync(new URL('../../vectors/psrp/seed-creation-xml.json', import.meta.url), 'utf8'),
)
const bytes = Uint8Array.from(Buffer.from(b64, 'base64'))

test('seed creationXml: two whole fragments, ObjectIds 1 and 2, 199 and 765 bytes', () => {
  assert.equal(bytes.length, 1006)
  const frags = decodeFragments(bytes)
  assert.equal(frags.length, 2)
  frags.forEach((f, i) => {
    const e = expected.fragments[i]
    assert.equal(f.objectId, BigInt(e.objectId))
    assert.equal(f.fragmentId, BigInt(e.fragmentId))
    assert.equal(f.start, e.start)
    assert.equal(f.end, e.end)
    assert.equal(f.data.length, e.blobLength)
    const msg = decodeMessage(f.data)
    assert.equal(msg.typeName, e.type)
    assert.equal(msg.destination, e.destination)
    assert.equal(guidFromBytes(msg.rpidBytes, 0, expected.rpidByteOrder), expected.rpid)
    assert.equal(msg.pid, '00000000-0000-0000-0000-000000000000')
  })
})

test('seed creationXml: typed SESSION_CAPABILITY and INIT_RUNSPACEPOOL values', () => {
  const [cap, init] = decodeFragments(bytes).map((f) => decodeMessage(f.data))
  const c = decodeMessageBody(cap!.type, cap!.data)
  assert.equal(c.type, 'SESSION_CAPABILITY')
  if (c.type === 'SESSION_CAPABILITY') assert.deepEqual({ ...c.fields }, expected.sessionCapability)
  const i = decodeMessageBody(init!.type, init!.data)
  assert.equal(i.type, 'INIT_RUNSPACEPOOL')
  if (i.type !== 'INIT_RUNSPACEPOOL') return
  const e = expected.initRunspacePool
  assert.equal(i.fields.minRunspaces, e.minRunspaces)
  assert.equal(i.fields.maxRunspaces, e.maxRunspaces)
  assert.equal(i.fields.threadOptions, e.threadOptions.value)
  assert.equal(i.fields.apartmentState, e.apartmentState.value)
  assert.equal(i.fields.applicationArguments, null)
  const host = i.fields.hostInfo as HostInfo
  assert.equal(host.isHostNull, e.hostInfo._isHostNull)
  assert.equal(host.useRunspaceHost, e.hostInfo._useRunspaceHost)
})

// our encoder writes .NET order; the GUID whose .NET bytes are the seed's RFC bytes reproduces them
const rpidForEncoding = expected.rpidByteOrder === 'be' ? swapGuidByteOrder(expected.rpid) : expected.rpid

test('seed creationXml: our encoder reproduces the bytes exactly given the same ids', () => {
  const e = expected.initRunspacePool
  const fragmenter = new Fragmenter()
  const cap = encodeMessage({
    destination: 'server',
    type: MessageType.SESSION_CAPABILITY,
    rpid: rpidForEncoding,
    data: encodeMessageBody('SESSION_CAPABILITY', expected.sessionCapability),
  })
  const init = encodeMessage({
    destination: 'server',
    type: MessageType.INIT_RUNSPACEPOOL,
    rpid: rpidForEncoding,
    data: encodeMessageBody('INIT_RUNSPACEPOOL', {
      minRunspaces: e.minRunspaces,
      maxRunspaces: e.maxRunspaces,
      threadOptions: PSThreadOptions.of(e.threadOptions.value),
      // the seed was written by pypsrp, which names ApartmentState differently from .NET
      apartmentState: PSEnum.create(e.apartmentState.typeName, e.apartmentState.value, e.apartmentState.name),
      hostInfo: HostInfo.create(),
      applicationArguments: null,
    }),
  })
  const out = [...fragmenter.fragment(cap, 32768), ...fragmenter.fragment(init, 32768)].map(encodeFragment)
  assert.equal(Buffer.concat(out).toString('base64'), b64)
})
