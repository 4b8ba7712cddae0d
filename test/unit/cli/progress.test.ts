import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  bar,
  formatBytes,
  formatDuration,
  formatProgressRecord,
  formatTransfer,
  ProgressLine,
} from '../../../src/cli/progress.ts'
import { TransferProgressBar, baseName } from '../../../src/cli/transfer.ts'

/** A fake terminal that records writes. */
function fakeTty(
  columns = 80,
  isTTY = true,
): { isTTY: boolean; columns: number; text: string; write(t: string): boolean } {
  return {
    isTTY,
    columns,
    text: '',
    write(t: string) {
      this.text += t
      return true
    },
  }
}

test('sizes, durations and bars', () => {
  assert.equal(formatBytes(0), '0 B')
  assert.equal(formatBytes(1023), '1023 B')
  assert.equal(formatBytes(1536), '1.5 KiB')
  assert.equal(formatBytes(10 * 1024 * 1024), '10.0 MiB')
  assert.equal(formatBytes(3 * 1024 ** 4), '3.0 TiB')
  assert.equal(formatDuration(7), '0:07')
  assert.equal(formatDuration(725), '12:05')
  assert.equal(formatDuration(3723), '1:02:03')
  assert.equal(formatDuration(Number.NaN), '--:--')
  assert.equal(bar(0, 12), '[          ]')
  assert.equal(bar(0.5, 12), '[=====>    ]')
  assert.equal(bar(1, 12), '[==========]')
  assert.equal(bar(7, 6), '[====]')
})

test('transfer line: percentage, bar, amounts, average rate and ETA', () => {
  const line = formatTransfer(
    { bytes: 5 * 1024 * 1024, totalBytes: 10 * 1024 * 1024, elapsedMs: 2000, label: 'data.bin' },
    100,
  )
  assert.match(line, /^data\.bin {2} 50% \[=+> *\] 5\.0 MiB\/10\.0 MiB {2}2\.5 MiB\/s {2}ETA 0:02$/)
  assert.ok(line.length <= 100)
  // unknown total: no bar, no ETA
  assert.equal(formatTransfer({ bytes: 2048, elapsedMs: 1000 }, 80), '2.0 KiB  2.0 KiB/s')
  // an empty file is complete at once
  assert.match(
    formatTransfer({ bytes: 0, totalBytes: 0, elapsedMs: 0 }, 80),
    /^100% \[=+\] 0 B\/0 B {2}-- B\/s {2}ETA --:--$/,
  )
  // narrow terminals: the label is cut first, everything fits
  for (const cols of [30, 45, 60]) {
    const narrow = formatTransfer(
      { bytes: 1, totalBytes: 4, elapsedMs: 1000, label: 'a-very-long-file-name-that-does-not-fit.iso' },
      cols,
    )
    assert.ok(narrow.length <= cols, `${cols}: ${narrow}`)
    assert.match(narrow, /25%/)
  }
})

test('PowerShell progress record line', () => {
  const l = formatProgressRecord(
    { activity: 'Copying', statusDescription: 'file 3 of 7', percentComplete: 45, secondsRemaining: 12 },
    90,
  )
  assert.match(l, /^Copying {2}\[=+> *\] 45% {2}file 3 of 7 {2}0:12 left$/)
  assert.equal(
    formatProgressRecord({ activity: 'Waiting', statusDescription: 'busy', percentComplete: -1 }, 80),
    'Waiting  busy',
  )
  assert.ok(formatProgressRecord({ activity: 'x'.repeat(200), percentComplete: 10 }, 50).length <= 50)
})

test('ProgressLine draws in place on a TTY, rate-limited, and nothing elsewhere', () => {
  let now = 0
  const tty = fakeTty(20)
  const line = new ProgressLine(tty, { now: () => now, minIntervalMs: 100 })
  line.draw('one')
  now = 50
  line.draw('two') // too soon: skipped
  now = 60
  line.draw('three', true) // forced
  assert.equal(tty.text, '\r\x1b[2Kone\r\x1b[2Kthree')
  assert.equal(line.shown, true)
  line.clear()
  assert.equal(tty.text.endsWith('\r\x1b[2K'), true)
  assert.equal(line.shown, false)
  line.clear() // nothing drawn: nothing written
  assert.equal(tty.text, '\r\x1b[2Kone\r\x1b[2Kthree\r\x1b[2K')
  line.draw('x'.repeat(50), true)
  const written: string = tty.text
  assert.ok(written.endsWith(`${'x'.repeat(18)}…`), 'cut to the width')
  const pipe = fakeTty(80, false)
  const off = new ProgressLine(pipe)
  off.draw('hidden', true)
  off.finish('done')
  assert.equal(pipe.text, '')
  assert.equal(off.enabled, false)
})

test('TransferProgressBar: ticks, final tick always drawn, summary', () => {
  let now = 1000
  const tty = fakeTty(100)
  const b = new TransferProgressBar(tty, { now: () => now })
  now = 1500
  b.update({ bytes: 1024, totalBytes: 4096, file: 'C:\\temp\\big.bin' })
  assert.match(tty.text, /big\.bin {2} 25% .* 1\.0 KiB\/4\.0 KiB {2}2\.0 KiB\/s {2}ETA 0:02/)
  now = 1510
  b.update({ bytes: 4096, totalBytes: 4096, file: 'C:\\temp\\big.bin' })
  assert.match(tty.text, /100% \[=+\] 4\.0 KiB\/4\.0 KiB/)
  now = 3000
  b.finish('sent')
  assert.match(tty.text, /sent 4\.0 KiB in 0:02 \(2\.0 KiB\/s\)\n$/)
  assert.equal(baseName('/tmp/x/y.txt'), 'y.txt')
  assert.equal(baseName('C:\\a\\b\\'), 'b')
})
