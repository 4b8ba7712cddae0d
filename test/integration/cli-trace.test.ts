/**
 * `psrp --trace <file> run …` against a local pwsh: the file is OTLP JSON with one trace — the
 * `psrp run` root span, psrp.pool.open (with psrp.process.start under it) and psrp.pipeline under it —
 * and holds neither the script text nor the value it carries. A failing script still writes the file.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli } from '../helpers/cli.ts'
import { findPwsh, pwshSkip } from '../helpers/peers.ts'

const pwsh = findPwsh()
const skip = pwshSkip(pwsh)
const dir = mkdtempSync(join(tmpdir(), 'psrp-cli-trace-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface Span {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  status: { code: number }
}

function spansOf(file: string): { text: string; spans: Span[] } {
  const text = readFileSync(file, 'utf8')
  const doc = JSON.parse(text) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Span[] }> }> }
  return { text, spans: doc.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans)) }
}

describe('psrp --trace', { skip }, () => {
  const env = { ...process.env, PSRP_PWSH: pwsh ?? '', NO_COLOR: '' }

  test('writes the run as one trace of OTLP JSON without the script text', async () => {
    const file = join(dir, 'ok.json')
    const secret = 'cli-trace-secret-5d41402a'
    const r = await runCli(['--trace', file, 'run', `$v = '${secret}'; $v.Length`], { env })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), String(secret.length))
    const { text, spans } = spansOf(file)
    assert.ok(!text.includes(secret), 'the script text is not in the trace file')
    const byName = (name: string): Span => {
      const s = spans.find((x) => x.name === name)
      assert.ok(s !== undefined, `a ${name} span in ${spans.map((x) => x.name).join(', ')}`)
      return s
    }
    const root = byName('psrp run')
    const open = byName('psrp.pool.open')
    const start = byName('psrp.process.start')
    const pipeline = byName('psrp.pipeline')
    assert.equal(root.parentSpanId, undefined)
    assert.equal(open.parentSpanId, root.spanId)
    assert.equal(pipeline.parentSpanId, root.spanId)
    assert.equal(start.parentSpanId, open.spanId)
    assert.ok(spans.every((s) => s.traceId === root.traceId))
  })

  test('a failing script still writes its spans, the pipeline marked as an error', async () => {
    const file = join(dir, 'failed.json')
    const r = await runCli([`--trace=${file}`, 'run', 'throw "boom"'], { env })
    assert.equal(r.code, 1)
    const { spans } = spansOf(file)
    assert.equal(spans.find((s) => s.name === 'psrp.pipeline')?.status.code, 2)
  })
})
