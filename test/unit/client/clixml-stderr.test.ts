/**
 * powershell.exe's `#< CLIXML` stderr turned into text: the Windows PowerShell form from pypsrp's
 * recorded data, PowerShell 7's own form from a real pwsh, text around blocks, broken blocks, the
 * stream filter at every chunk boundary, and linear cost.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { ClixmlStderrFilter, clixmlStderrToText } from '../../../src/client/clixml-stderr.ts'
import { corpusDir, findPwsh, pwshSkip } from '../../helpers/peers.ts'
import { assertLinear } from '../complexity/measure.ts'

const corpus = corpusDir()
const data = (name: string): string =>
  readFileSync(join(corpus as string, 'pypsrp/tests/tests_pypsrp/data', name), 'utf8')
const corpusSkip = corpus === undefined ? 'the shared corpus (../shared/corpus) is absent' : false
const NS = 'xmlns="http://schemas.microsoft.com/powershell/2004/04"'
const block = (body: string): string => `#< CLIXML\r\n<Objs Version="1.1.0.1" ${NS}>${body}</Objs>`

test(
  'Windows PowerShell over WinRS: error lines kept, progress dropped (pypsrp data)',
  { skip: corpusSkip },
  () => {
    assert.equal(
      clixmlStderrToText(data('test_sanitise_clixml_with_error.xml')),
      "fake : The term 'fake' is not recognized as the name of a cmdlet, function, script file, or operable program. Check \r\n" +
        'the spelling of the name, or if a path was included, verify that the path is correct and try again.\r\n' +
        'At line:1 char:1\r\n' +
        '+ fake cmdlet\r\n' +
        '+ ~~~~\r\n' +
        '    + CategoryInfo          : ObjectNotFound: (fake:String) [], CommandNotFoundException\r\n' +
        '    + FullyQualifiedErrorId : CommandNotFoundException\r\n' +
        ' \r\n',
    )
    assert.equal(clixmlStderrToText(data('test_sanitise_clixml_with_no_errors.xml')), '')
  },
)

const pwsh = findPwsh()
test(
  'PowerShell 7 -OutputFormat xml: records by their message, warnings prefixed',
  { skip: pwshSkip(pwsh) },
  () => {
    const run = spawnSync(
      pwsh as string,
      [
        '-NoProfile',
        '-NonInteractive',
        '-OutputFormat',
        'xml',
        '-Command',
        "Write-Warning 'careful'; Write-Progress -Activity a -Status b; Write-Error 'oops: ü'; Write-Verbose v -Verbose",
      ],
      { encoding: 'utf8' },
    )
    assert.match(run.stderr, /^#< CLIXML/)
    assert.equal(clixmlStderrToText(run.stderr), 'WARNING: careful\r\noops: ü\r\nVERBOSE: v\r\n')
  },
)

test('text around and between blocks is kept; several blocks each converted', () => {
  const text = `before\n${block('<S S="Error">one_x000D__x000A_</S>')}\nmiddle #< not a marker\n${block('<S S="warning">w</S>')}after`
  assert.equal(clixmlStderrToText(text), 'before\none\r\n\nmiddle #< not a marker\nWARNING: w\r\nafter')
  assert.equal(clixmlStderrToText('no clixml here'), 'no clixml here')
})

test('a block that is cut off, malformed, or not a block is kept as it was', () => {
  const cut = `x${block('<S S="Error">a</S>').slice(0, -7)}`
  assert.equal(clixmlStderrToText(cut), cut)
  const malformed = block('<S S="Error">a</X>')
  assert.equal(clixmlStderrToText(malformed), malformed)
  assert.equal(clixmlStderrToText('#< CLIXML but no document'), '#< CLIXML but no document')
})

test('the stream filter gives the same text at every chunk boundary (UTF-8 split included)', async () => {
  const text = `é start\n${block('<S S="Error">fault ü_x000D__x000A_</S><Obj S="progress" RefId="0"><MS /></Obj>')}\n#< CLIXMX tail ✓`
  const want = clixmlStderrToText(text)
  const bytes = Buffer.from(text, 'utf8')
  for (let cut = 0; cut <= bytes.length; cut++) {
    const out = await buffer(
      Readable.from([bytes.subarray(0, cut), bytes.subarray(cut)]).pipe(new ClixmlStderrFilter()),
    )
    assert.equal(out.toString('utf8'), want, `split at byte ${cut}`)
  }
  const oneByOne = await buffer(
    Readable.from([...bytes].map((b) => Buffer.from([b]))).pipe(new ClixmlStderrFilter()),
  )
  assert.equal(oneByOne.toString('utf8'), want)
})

test('the filter passes plain text on as it arrives, before the stream ends', async () => {
  const filter = new ClixmlStderrFilter()
  const seen: string[] = []
  filter.on('data', (c: Buffer) => seen.push(c.toString('utf8')))
  filter.write(Buffer.from('line one\n#< CL'))
  await new Promise((r) => setImmediate(r))
  assert.deepEqual(seen, ['line one\n'], 'a possible marker start is held back, the rest is not')
  filter.end(Buffer.from('IXML\r\n<Objs><S S="Error">e</S></Objs>'))
  await new Promise((r) => filter.once('end', r).resume())
  assert.equal(seen.join(''), 'line one\ne\r\n')
})

test('cost is linear in the input: many lines, and a block fed in small chunks', () => {
  const many = (n: number): string => block('<S S="Error">line_x000D__x000A_</S>'.repeat(n))
  assertLinear('clixmlStderrToText', many, clixmlStderrToText, { n: 5000 })
  const chunks = (n: number): Buffer[] => {
    const b = Buffer.from(many(n), 'utf8')
    const out: Buffer[] = []
    for (let i = 0; i < b.length; i += 64) out.push(b.subarray(i, i + 64))
    return out
  }
  assertLinear(
    'ClixmlStderrFilter, 64-byte chunks',
    chunks,
    (parts) => {
      const f = new ClixmlStderrFilter()
      let n = 0
      f.on('data', (c: Buffer) => (n += c.length))
      for (const p of parts) f.write(p)
      f.end()
      return n
    },
    { n: 5000, sizeOf: (parts) => (parts as Buffer[]).reduce((s, p) => s + p.length, 0) },
  )
})
