/**
 * Recordings are YAML, and a recorder may write any YAML form. Every corpus recording is re-emitted
 * in each scalar style (plain folded, single-quoted with `''` escapes, double-quoted with `\` escapes,
 * literal and folded block scalars) and with Python's `!!python/unicode` tags, and must read back as
 * exactly the same exchanges; the replay of a re-emitted recording must still pass. A file that is
 * not a recording is one FAIL line from the runner, never a crash.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import type { Scalar } from 'yaml'
import { Document, stringify } from 'yaml'
import { pypsrpRecordings } from '../../helpers/peers.ts'
import { parseRecording, readRecording, RecordingFormatError } from '../../helpers/recordings.ts'
import { runRecording } from '../../replay/runner.ts'

const { skip, files } = pypsrpRecordings()

type Style = 'PLAIN' | 'QUOTE_SINGLE' | 'QUOTE_DOUBLE' | 'BLOCK_LITERAL' | 'BLOCK_FOLDED'
const styles: Style[] = ['PLAIN', 'QUOTE_SINGLE', 'QUOTE_DOUBLE', 'BLOCK_LITERAL', 'BLOCK_FOLDED']

/** The recording's text written again with every request/response scalar in one style. */
function reEmit(text: string, style: Style, pythonTag = false): string {
  const messages = parseRecording(text).map((ex) => ({
    request: ex.request,
    ...(ex.response === undefined ? {} : { response: ex.response }),
    ...ex.flagValues,
  }))
  const doc = new Document({ messages })
  for (const item of (doc.get('messages') as { items: { items: { key: Scalar; value: unknown }[] }[] })
    .items) {
    for (const pair of item.items) {
      if (pair.key.value !== 'request' && pair.key.value !== 'response') continue
      const value = pair.value as Scalar
      value.type = style
      if (pythonTag) value.tag = 'tag:yaml.org,2002:python/unicode'
    }
  }
  return doc.toString({ lineWidth: 120 })
}

test('every corpus recording reads the same in every YAML scalar style', { skip }, () => {
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const original = parseRecording(text)
    assert.ok(original.length > 0, basename(file))
    for (const style of styles) {
      const again = parseRecording(reEmit(text, style))
      assert.deepEqual(again, original, `${basename(file)} as ${style}`)
    }
    assert.deepEqual(
      parseRecording(reEmit(text, 'PLAIN', true)),
      original,
      `${basename(file)} with !!python/unicode`,
    )
  }
})

test('single-quoted scalars with quote escapes and backslashes are read verbatim', () => {
  const request = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>it's C:\\Temp\\x</s:Body></s:Envelope>`
  const text = `messages:\n- request: '${request.replace(/'/g, "''")}'\n  response: !!python/unicode "<a/>"\n  http_error: yes\n`
  const [ex] = parseRecording(text)
  assert.equal(ex?.request, request)
  assert.equal(ex?.response, '<a/>')
  assert.equal(ex?.flags['http_error'], 'yes')
  assert.equal(stringify({ a: 1 }).trim(), 'a: 1')
})

test('a file that is not a recording is a typed error naming what is wrong', () => {
  assert.throws(() => parseRecording('messages: [\n'), RecordingFormatError)
  assert.throws(() => parseRecording('other: 1\n'), /no `messages:` list/)
  assert.throws(() => parseRecording('messages:\n- response: x\n'), /messages\[0\] has no request/)
})

test('the runner reports an unreadable or underivable recording as FAIL and returns', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'psrp-replay-'))
  try {
    const cases: [string, string][] = [
      ['not-yaml', 'messages: [\n  - request: "unterminated\n'],
      ['not-xml', "messages:\n- request: 'plain text, no envelope'\n  response: 'also not XML'\n"],
      [
        'truncated-envelope',
        "messages:\n- request: '<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Header>'\n  response: '<x/>'\n",
      ],
    ]
    for (const [name, text] of cases) {
      const file = join(tmp, `${name}.yml`)
      writeFileSync(file, text)
      const r = await runRecording(file, { stepTimeoutMs: 2000 })
      assert.equal(r.status, 'fail', `${name}: ${r.reason}`)
      assert.match(r.reason, /\S/, name)
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
})

test(
  'a recording re-emitted with single quotes and Python tags replays as the original does',
  { skip },
  async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'psrp-replay-'))
    try {
      for (const name of ['test_psrp_open_runspace', 'test_winrs_standard', 'test_psrp_with_input']) {
        const file = files.find((f) => basename(f, '.yml') === name)
        assert.ok(file !== undefined, name)
        const out = join(tmp, `${name}.yml`)
        writeFileSync(out, reEmit(readFileSync(file, 'utf8'), 'QUOTE_SINGLE', true))
        assert.deepEqual(readRecording(out), readRecording(file))
        const r = await runRecording(out)
        assert.equal(r.status, 'pass', `${name}: ${r.problems.join('; ')}`)
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  },
)
