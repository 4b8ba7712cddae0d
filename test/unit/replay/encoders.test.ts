/**
 * Our PSRP encoders against pypsrp's recorded client messages: every client→server message in the
 * corpus, decoded to typed fields and encoded again by src/psrp, is the same message to the replay
 * server's semantic comparison. So the replay server will accept what our client sends for the same
 * action, and any difference it reports in a replay is a behaviour difference, not serializer noise.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { basename, join } from 'node:path'
import { corpusDir, peerSkip } from '../../helpers/peers.ts'
import { listRecordings, readRecording } from '../../helpers/recordings.ts'
import { canonicalClixml, diffCanon, prepareRecording } from '../../helpers/winrm-replay.ts'
import {
  decodeMessageBody,
  encodeMessageBody,
  type MessageFieldsMap,
  type MessageTypeName,
} from '../../../src/psrp/index.ts'

const corpus = corpusDir()
const dir = corpus === undefined ? undefined : join(corpus, 'pypsrp')
const skip = peerSkip(
  'recorded corpus',
  dir !== undefined && existsSync(dir),
  'put the shared folder beside the checkout (../shared/corpus)',
)

test('encoders: our re-encoding of every recorded client message matches semantically', { skip }, () => {
  const counts = new Map<string, number>()
  const failures: string[] = []
  for (const file of listRecordings(dir as string)) {
    for (const ex of prepareRecording(readRecording(file)).exchanges) {
      for (const m of ex.messages) {
        const decoded = decodeMessageBody(m.type, m.data)
        const type = decoded.type as MessageTypeName
        const fields =
          type === 'CREATE_PIPELINE'
            ? { ...(decoded.fields as MessageFieldsMap['CREATE_PIPELINE']), protocolVersion: '2.3' }
            : decoded.fields
        const ours = encodeMessageBody(type, fields as never)
        const canon = (xml: string): ReturnType<typeof canonicalClixml> =>
          xml.trim() === '' ? null : canonicalClixml(xml)
        const diffs = diffCanon(canon(m.data), canon(ours))
        if (diffs.length > 0)
          failures.push(`${basename(file)} exchange ${ex.index} ${type}: ${diffs.join('; ')}`)
        counts.set(type, (counts.get(type) ?? 0) + 1)
      }
    }
  }
  console.log('encoders: client messages re-encoded:', Object.fromEntries([...counts].sort()))
  assert.deepEqual(failures, [])
})
