/**
 * Replays every recording under `PSRP_REPLAY_DIR` (default: `../shared/corpus/pypsrp` and the
 * project's own `test/recordings`) against our public client and prints one line per file:
 *
 * ```text
 * PASS test_psrp_open_runspace
 * FAIL test_winrs_send: client gap: …
 * SKIP name: reason
 * 40 passed, 12 failed, 0 skipped
 * ```
 *
 * A recording that cannot be read or derived is a FAIL line too: the summary line is always printed.
 * Exits 1 when any recording fails. Arguments filter the files by name (substring); `-v` prints every
 * problem, tolerance and note; `--log` prints the replay server's exchange log.
 *
 * ```sh
 * npm run test:replay
 * npm run test:replay -- -v winrs_send
 * ```
 */
import { existsSync } from 'node:fs'
import { basename, resolve } from 'node:path'
import { listRecordings } from '../helpers/recordings.ts'
import { runRecording } from './runner.ts'

const args = process.argv.slice(2)
const verbose = args.includes('-v') || args.includes('--verbose')
const log = args.includes('--log')
const filters = args.filter((a) => !a.startsWith('-'))
const given = process.env['PSRP_REPLAY_DIR']
const dirs =
  given === undefined
    ? [resolve('../shared/corpus/pypsrp'), resolve(import.meta.dirname, '../recordings')].filter(existsSync)
    : [resolve(given)]

if (dirs.length === 0 || !dirs.every(existsSync)) {
  console.error(`no recordings: ${given ?? '../shared/corpus/pypsrp'} does not exist (set PSRP_REPLAY_DIR)`)
  process.exit(2)
}
const files = dirs
  .flatMap(listRecordings)
  .filter((f) => filters.length === 0 || filters.some((x) => basename(f, '.yml').includes(x)))
if (files.length === 0) {
  console.error(
    `no *.yml recordings under ${dirs.join(', ')}${filters.length > 0 ? ` matching ${filters.join(', ')}` : ''}`,
  )
  process.exit(2)
}

// an error that escapes the client's own promise chains (a bug, or a recording that provokes one) is
// charged to the recording being replayed; it must not end the run before its summary line
const stray: string[] = []
const charge = (e: unknown): void => {
  stray.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e))
}
process.on('unhandledRejection', charge)
process.on('uncaughtException', charge)

let passed = 0
let failed = 0
let skipped = 0
for (const file of files) {
  const r = await runRecording(file, { log })
  if (stray.length > 0) {
    const reason = `an error escaped the client: ${stray.splice(0).join('; ')}`
    if (r.status === 'fail') r.problems.push(reason)
    else Object.assign(r, { status: 'fail', reason, problems: [reason, ...r.problems] })
  }
  if (r.status === 'pass') {
    passed++
    console.log(`PASS ${r.name}`)
  } else if (r.status === 'skip') {
    skipped++
    console.log(`SKIP ${r.name}: ${r.reason}`)
  } else {
    failed++
    console.log(`FAIL ${r.name}: ${r.reason}`)
  }
  if (verbose) {
    for (const p of r.problems.slice(1)) console.log(`  - ${p}`)
    for (const t of r.tolerances) console.log(`  tolerated: ${t}`)
    for (const n of r.notes) console.log(`  note: ${n}`)
    for (const c of r.checked) console.log(`  checked: ${c}`)
    console.log(`  (${r.ms} ms)`)
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
process.exitCode = failed > 0 ? 1 : 0
