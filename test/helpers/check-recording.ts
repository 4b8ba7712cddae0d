/**
 * Checks that a recording file is intact: it parses as a recording, every envelope is well-formed
 * XML, and every base64 PSRP payload is a whole number of well-formed fragments whose reassembled
 * messages hold well-formed CLIXML. Used when a recording is added to `test/recordings/` by hand
 * (a transcription error in base64 shows up as a fragment length or CLIXML error).
 *
 * ```sh
 * node --import tsx test/helpers/check-recording.ts FILE [EXPECTED_CHARS]
 * ```
 *
 * Prints the exchange count and the file's length in characters (code points); exits 1 on any error.
 */
import { readFileSync } from 'node:fs'
import { parseRecording } from './recordings.ts'
import { parseEnvelope, requestPayloads, responsePayloads } from './winrm-replay/envelope.ts'
import { unb64 } from './winrm-replay/psrp.ts'
import { Defragmenter, decodeMessage } from '../../src/psrp/index.ts'
import { deserialize } from '../../src/clixml/deserialize.ts'

/** Problems found in one recording text (empty when it is intact). */
export function checkRecordingText(text: string): { exchanges: number; problems: string[] } {
  const problems: string[] = []
  let exchanges = 0
  try {
    const recording = parseRecording(text)
    exchanges = recording.length
    // a message's fragments may span several envelopes (one Receive ends mid-message)
    const sent = new Defragmenter()
    const received = new Defragmenter()
    recording.forEach((ex, i) => {
      let psrp = false
      for (const [side, xml] of [
        ['request', ex.request],
        ['response', ex.response],
      ] as const) {
        if (xml === undefined) continue
        try {
          const env = parseEnvelope(xml)
          if (side === 'request') psrp = env.psrp
          if (!psrp) continue
          const payloads = side === 'request' ? requestPayloads(env) : responsePayloads(env)
          const defragmenter = side === 'request' ? sent : received
          for (const p of payloads) {
            for (const message of defragmenter.push(unb64(p.b64))) {
              const body = decodeMessage(message).data
              if (body.length > 0) deserialize(body)
            }
          }
        } catch (e) {
          problems.push(`messages[${i}].${side}: ${(e as Error).message}`)
        }
      }
    })
  } catch (e) {
    problems.push((e as Error).message)
  }
  return { exchanges, problems }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, expected] = process.argv.slice(2)
  if (file === undefined) {
    console.error('usage: check-recording.ts FILE [EXPECTED_CHARS]')
    process.exit(2)
  }
  const text = readFileSync(file, 'utf8')
  const chars = [...text].length
  const { exchanges, problems } = checkRecordingText(text)
  console.log(`${file}: ${exchanges} exchanges, ${chars} characters`)
  for (const p of problems) console.log(`  ERROR ${p}`)
  if (expected !== undefined && Number(expected) !== chars) {
    console.log(`  ERROR length ${chars} differs from the expected ${expected}`)
    problems.push('length')
  }
  process.exit(problems.length > 0 ? 1 : 0)
}
