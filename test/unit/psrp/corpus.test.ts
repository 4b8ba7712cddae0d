/**
 * Every PSRP payload in the recorded Windows traffic (pypsrp's recordings, ../shared/corpus):
 * defragments, every message decodes to its typed form, and every CLIXML body deserializes and
 * re-serializes to equivalent CLIXML.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { existsSync } from 'node:fs'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'
import {
  isPsrpEnvelope,
  listRecordings,
  readRecording,
  requestPayloads,
  responsePayloads,
  shellIdOf,
} from '../../helpers/recordings.ts'
import { canonicalClixml } from '../../helpers/clixml-tree.ts'
import { Defragmenter, decodeMessage, decodeMessageBody, guidFromBytes } from '../../../src/psrp/index.ts'
import { deserialize, serialize } from '../../../src/clixml/index.ts'

const NIL = '00000000-0000-0000-0000-000000000000'
const corpus = corpusDir()
const dir = corpus === undefined ? undefined : join(corpus, 'pypsrp')
const skip = peerSkip(
  'recorded corpus',
  dir !== undefined && existsSync(dir),
  'put the shared folder beside the checkout (../shared/corpus)',
)

test('corpus: every recorded PSRP message decodes and round-trips losslessly', { skip }, () => {
  const files = listRecordings(dir as string)
  assert.ok(files.length >= 50, `expected the pypsrp recordings, found ${files.length}`)
  const typeCounts = new Map<string, number>()
  let messages = 0
  let psrpFiles = 0
  // RPID byte order per file: the PSRP ShellId is the RPID, so each message's raw RPID bytes must
  // read as the ShellId in .NET order (current pypsrp) or RFC order (pypsrp < 0.3.1)
  const orders = { le: 0, be: 0 }
  let nilRpid = 0
  for (const file of files) {
    const defrag = new Map<string, Defragmenter>()
    const feed = (key: string, b64: string): Uint8Array[] => {
      let d = defrag.get(key)
      if (d === undefined) defrag.set(key, (d = new Defragmenter()))
      return d.push(Uint8Array.from(Buffer.from(b64, 'base64')))
    }
    let sawPsrp = false
    const fileOrders = new Set<'le' | 'be'>()
    for (const [i, ex] of readRecording(file).entries()) {
      if (!isPsrpEnvelope(ex.request)) continue
      sawPsrp = true
      const shell = shellIdOf(ex.request) ?? 'none'
      const payloads: [string, string][] = [
        ...requestPayloads(ex.request).map((p): [string, string] => [`c:${shell}`, p]),
        ...responsePayloads(ex.response ?? '').map((p): [string, string] => [`s:${shell}`, p]),
      ]
      for (const [key, b64] of payloads) {
        for (const raw of feed(key, b64)) {
          const where = `${file.split('/').pop()} exchange ${i}`
          const msg = decodeMessage(raw)
          assert.equal(msg.destination, key.startsWith('c:') ? 'server' : 'client', `${where}: destination`)
          if (msg.rpid === NIL) nilRpid++
          else if (shell !== 'none') {
            const order =
              msg.rpid === shell ? 'le' : guidFromBytes(msg.rpidBytes, 0, 'be') === shell ? 'be' : undefined
            assert.ok(
              order !== undefined,
              `${where}: RPID ${msg.rpid} is the ShellId ${shell} in neither byte order`,
            )
            fileOrders.add(order)
          }
          assert.ok(msg.typeName !== undefined, `${where}: unknown type 0x${msg.type.toString(16)}`)
          const decoded = decodeMessageBody(msg.type, msg.data)
          assert.equal(decoded.type, msg.typeName)
          typeCounts.set(decoded.type, (typeCounts.get(decoded.type) ?? 0) + 1)
          messages++
          if (msg.data.trim() !== '') {
            const again = serialize(deserialize(msg.data))
            assert.equal(
              canonicalClixml(again),
              canonicalClixml(msg.data),
              `${where}: ${msg.typeName} round trip differs`,
            )
          }
        }
      }
    }
    for (const [key, d] of defrag) {
      assert.equal(d.incompleteObjects, 0, `${file}: ${key} has unfinished objects`)
      assert.equal(d.bufferedBytes, 0, `${file}: ${key} has trailing bytes`)
    }
    if (sawPsrp) psrpFiles++
    assert.ok(fileOrders.size <= 1, `${file}: RPIDs in both byte orders`)
    for (const o of fileOrders) orders[o]++
  }
  console.log(
    `corpus: ${files.length} recordings (${psrpFiles} PSRP; RPIDs in .NET order in ${orders.le}, RFC order in ${orders.be}; ${nilRpid} messages with a zeroed RPID), ` +
      `${messages} messages, ${typeCounts.size} of 31 message types:`,
    Object.fromEntries([...typeCounts].sort()),
  )
  assert.ok(messages > 500, `only ${messages} messages decoded`)
  assert.ok(typeCounts.size >= 25, `only ${typeCounts.size} message types seen`)
})
