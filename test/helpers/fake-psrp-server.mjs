#!/usr/bin/env node
// A misbehaving `pwsh -s` for fault tests: acks the client's first Data packet, then sends PSRP data
// that is broken in the way the mode names. Usage: node fake-psrp-server.mjs <mode>
//   orphan-fragment   a fragment that continues an object that never started
//   bad-clixml        a whole SESSION_CAPABILITY message whose CLIXML is cut off
//   garbled           a line that is not an OutOfProc packet
import { createInterface } from 'node:readline'

const mode = process.argv[2] ?? 'orphan-fragment'
const Z = '00000000-0000-0000-0000-000000000000'
const out = (s) => process.stdout.write(`${s}\n`)

function fragment(objectId, fragmentId, flags, blob) {
  const h = Buffer.alloc(21)
  h.writeBigUInt64BE(BigInt(objectId), 0)
  h.writeBigUInt64BE(BigInt(fragmentId), 8)
  h[16] = flags
  h.writeUInt32BE(blob.length, 17)
  return Buffer.concat([h, blob])
}

function message(type, xml) {
  const h = Buffer.alloc(40)
  h.writeUInt32LE(1, 0)
  h.writeUInt32LE(type, 4)
  return Buffer.concat([h, Buffer.from(xml)])
}

let done = false
createInterface({ input: process.stdin }).on('line', (line) => {
  if (done || !line.startsWith('<Data')) return
  done = true
  out(`<DataAck PSGuid='${Z}' />`)
  let payload
  if (mode === 'garbled') return out('<Data Stream=Default PSGuid=nope>%%%')
  if (mode === 'orphan-fragment') payload = fragment(1, 3, 0x2, Buffer.from('xyz'))
  else
    payload = fragment(
      1,
      0,
      0x3,
      message(0x00010002, '<Obj RefId="0"><MS><Version N="protocolversion">2.3</Ver'),
    )
  out(`<Data Stream='Default' PSGuid='${Z}'>${payload.toString('base64')}</Data>`)
})
