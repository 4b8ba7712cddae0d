/**
 * Every recording of real Windows WinRM traffic in the corpus (pypsrp's, `../shared/corpus/pypsrp`)
 * replayed against our public client (test/replay/runner.ts), one test per recording: no mismatching
 * request, every required exchange consumed, and the results the recording holds. A recording that
 * needs a client change fails with the change it needs; see `npm run test:replay -- -v` for details.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { basename, join } from 'node:path'
import { pypsrpRecordings } from '../helpers/peers.ts'
import { listRecordings } from '../helpers/recordings.ts'
import { runRecording } from '../replay/runner.ts'

const { skip, files } = pypsrpRecordings()

if (files.length === 0) {
  test(
    'replay: recorded corpus',
    { skip: skip === false ? 'no *.yml recordings in the corpus' : skip },
    () => {},
  )
}

for (const file of files) {
  const name = basename(file, '.yml')
  test(`replay: ${name}`, async (t) => {
    const r = await runRecording(file)
    if (r.status === 'skip') {
      t.skip(r.reason)
      return
    }
    assert.equal(r.status, 'pass', `${name}:\n  ${r.problems.join('\n  ')}`)
  })
}

// The project's own recordings (test/recordings: real Windows traffic the shared corpus lacks, see
// each folder's MANIFEST.md) are always present and run with the same rules.
for (const file of listRecordings(join(import.meta.dirname, '../recordings'))) {
  const name = basename(file, '.yml')
  test(`replay (test/recordings): ${name}`, async () => {
    const r = await runRecording(file)
    assert.equal(r.status, 'pass', `${name}: ${r.status}\n  ${r.problems.join('\n  ') || r.reason}`)
  })
}
