/**
 * `psrp --trace <file>`: the recording tracer provider of src/cli/trace-file.ts nests psrp's spans
 * through the active context and writes them as OTLP JSON (hex ids, nanosecond strings, OTLP kind and
 * status enums, typed attribute values). Also: the tracer's version is package.json's.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTraceRecording } from '../../../src/cli/trace-file.ts'
import { Attr, SpanKind, SpanName, TRACER_VERSION, withSpan } from '../../../src/internal/telemetry.ts'
import { AuthenticationError } from '../../../src/errors.ts'

interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: Array<{ key: string; value: Record<string, unknown> }>
  events: Array<{ name: string; attributes: Array<{ key: string; value: Record<string, unknown> }> }>
  status: { code: number; message?: string }
}

test('the tracer version is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  assert.equal(TRACER_VERSION, pkg.version)
})

test('spans of a run are written as OTLP JSON, nested through the active context', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'psrp-trace-'))
  try {
    const recording = startTraceRecording()
    await withSpan(SpanName.poolOpen, { [Attr.serverAddress]: 'win1', [Attr.serverPort]: 5986 }, async () => {
      await withSpan(
        SpanName.wsmanRequest,
        { [Attr.wsmanAction]: 'create', [Attr.tls]: true },
        async (span) => {
          span.setAttribute(Attr.httpResponseStatusCode, 200)
          await new Promise((r) => setImmediate(r)) // the context survives an await
        },
        { kind: SpanKind.CLIENT },
      )
      await assert.rejects(
        withSpan(SpanName.auth, {}, () => Promise.reject(new AuthenticationError('refused'))),
        AuthenticationError,
      )
    })
    const file = join(dir, 'spans.json')
    await recording.write(file)

    const doc = JSON.parse(readFileSync(file, 'utf8')) as {
      resourceSpans: Array<{
        resource: { attributes: Array<{ key: string; value: { stringValue: string } }> }
        scopeSpans: Array<{ scope: { name: string; version: string }; spans: OtlpSpan[] }>
      }>
    }
    const [resource] = doc.resourceSpans
    assert.deepEqual(resource?.resource.attributes, [{ key: 'service.name', value: { stringValue: 'psrp' } }])
    const [scope] = resource?.scopeSpans ?? []
    assert.deepEqual(scope?.scope, { name: 'psrp', version: TRACER_VERSION })
    const spans = scope?.spans ?? []
    assert.deepEqual(spans.map((s) => s.name).sort(), ['psrp.auth', 'psrp.pool.open', 'wsman.request'])
    const byName = new Map(spans.map((s) => [s.name, s]))
    const open = byName.get('psrp.pool.open') as OtlpSpan
    const request = byName.get('wsman.request') as OtlpSpan
    const auth = byName.get('psrp.auth') as OtlpSpan

    assert.match(open.traceId, /^[0-9a-f]{32}$/)
    assert.match(open.spanId, /^[0-9a-f]{16}$/)
    assert.equal(open.parentSpanId, undefined)
    assert.equal(request.parentSpanId, open.spanId)
    assert.equal(auth.parentSpanId, open.spanId)
    assert.equal(request.traceId, open.traceId)
    assert.equal(open.kind, 1) // SPAN_KIND_INTERNAL
    assert.equal(request.kind, 3) // SPAN_KIND_CLIENT
    for (const s of spans) {
      assert.match(s.startTimeUnixNano, /^\d{19}$/)
      assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano))
    }
    assert.ok(BigInt(open.startTimeUnixNano) <= BigInt(request.startTimeUnixNano))
    assert.deepEqual(open.attributes, [
      { key: 'server.address', value: { stringValue: 'win1' } },
      { key: 'server.port', value: { intValue: '5986' } },
    ])
    assert.deepEqual(request.attributes, [
      { key: 'psrp.wsman.action', value: { stringValue: 'create' } },
      { key: 'psrp.tls', value: { boolValue: true } },
      { key: 'http.response.status_code', value: { intValue: '200' } },
    ])
    assert.deepEqual(auth.status, { code: 2, message: 'refused' }) // STATUS_CODE_ERROR
    assert.ok(
      auth.attributes.some(
        (a) => a.key === 'psrp.error.code' && a.value['stringValue'] === 'ERR_AUTHENTICATION',
      ),
    )
    assert.deepEqual(
      auth.events.map((e) => e.name),
      ['exception'],
    )
    assert.equal(open.status.code, 0) // unset: it succeeded
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
