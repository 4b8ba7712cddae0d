/**
 * `psrp --trace <file> <command> …`: records the spans the library emits during one CLI run and
 * writes them to a file as OTLP JSON (the OpenTelemetry protocol's JSON encoding of an
 * `ExportTraceServiceRequest`: `resourceSpans` → `scopeSpans` → `spans`, trace and span ids as hex,
 * times as decimal strings of nanoseconds since the Unix epoch), which `otel-cli`, the collector's
 * `otlpjsonfile` receiver and Jaeger's OTLP import read.
 *
 * Why a recorder of our own instead of the OpenTelemetry SDK and an exporter: psrp depends on
 * `@opentelemetry/api` only (the SDK is the application's choice, and is a devDependency here); npm
 * has no maintained OTLP-JSON *file* exporter for JavaScript (the SDK's OTLP exporters send over
 * HTTP/gRPC); and a CLI run needs only to keep every span and write them once at the end. So this file
 * registers a minimal recording {@link TracerProvider} (ids from `crypto.randomBytes`, times from the
 * monotonic clock anchored to the wall clock once) with an `AsyncLocalStorage` context manager, and
 * encodes the finished spans. No sampling, no limits beyond the run's own size, no batching.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Context,
  type ContextManager,
  type Exception,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  type TimeInput,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api'

/** Nanoseconds since the Unix epoch, from the monotonic clock anchored to the wall clock at load. */
const epochOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint()
function nowNs(): bigint {
  return epochOffsetNs + process.hrtime.bigint()
}

function timeNs(time: TimeInput | undefined): bigint {
  if (time === undefined) return nowNs()
  if (time instanceof Date) return BigInt(time.getTime()) * 1_000_000n
  if (Array.isArray(time)) return BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])
  return BigInt(Math.round((time as number) * 1_000_000))
}

/** The active context in an `AsyncLocalStorage`, so it follows awaits and callbacks. */
class AsyncLocalContextManager implements ContextManager {
  readonly #storage = new AsyncLocalStorage<Context>()

  active(): Context {
    return this.#storage.getStore() ?? ROOT_CONTEXT
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.#storage.run(ctx, () => fn.call(thisArg, ...args))
  }

  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target
    const fn = target as unknown as (...args: unknown[]) => unknown
    return ((...args: unknown[]) => this.with(ctx, () => fn(...args))) as unknown as T
  }

  enable(): this {
    return this
  }

  disable(): this {
    this.#storage.disable()
    return this
  }
}

interface RecordedEvent {
  readonly name: string
  readonly timeNs: bigint
  readonly attributes: Attributes
}

/** One span as recorded. */
class RecordedSpan implements Span {
  readonly scope: { name: string; version: string | undefined }
  readonly kind: SpanKind
  readonly parentSpanId: string | undefined
  readonly startNs: bigint
  readonly attributes: Attributes = {}
  readonly events: RecordedEvent[] = []
  readonly links: Link[] = []
  name: string
  status: SpanStatus = { code: SpanStatusCode.UNSET }
  endNs: bigint | undefined
  readonly #context: SpanContext
  readonly #onEnd: (span: RecordedSpan) => void

  constructor(
    name: string,
    options: SpanOptions,
    parent: SpanContext | undefined,
    scope: { name: string; version: string | undefined },
    onEnd: (span: RecordedSpan) => void,
  ) {
    this.name = name
    this.scope = scope
    this.kind = options.kind ?? SpanKind.INTERNAL
    this.parentSpanId = parent?.spanId
    this.startNs = timeNs(options.startTime)
    this.#context = {
      traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
      spanId: randomBytes(8).toString('hex'),
      traceFlags: TraceFlags.SAMPLED,
    }
    this.#onEnd = onEnd
    this.setAttributes(options.attributes ?? {})
    this.addLinks(options.links ?? [])
  }

  spanContext(): SpanContext {
    return this.#context
  }

  setAttribute(key: string, value: AttributeValue): this {
    if (this.endNs === undefined && value !== undefined) this.attributes[key] = value
    return this
  }

  setAttributes(attributes: Attributes): this {
    for (const [k, v] of Object.entries(attributes)) if (v !== undefined) this.setAttribute(k, v)
    return this
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.endNs !== undefined) return this
    const isTime =
      typeof attributesOrTime === 'number' ||
      attributesOrTime instanceof Date ||
      Array.isArray(attributesOrTime)
    const attributes = isTime || attributesOrTime === undefined ? {} : (attributesOrTime as Attributes)
    this.events.push({ name, attributes, timeNs: timeNs(isTime ? (attributesOrTime as TimeInput) : time) })
    return this
  }

  addLink(link: Link): this {
    this.links.push(link)
    return this
  }

  addLinks(links: Link[]): this {
    this.links.push(...links)
    return this
  }

  setStatus(status: SpanStatus): this {
    if (this.endNs === undefined) this.status = status
    return this
  }

  updateName(name: string): this {
    if (this.endNs === undefined) this.name = name
    return this
  }

  end(endTime?: TimeInput): void {
    if (this.endNs !== undefined) return
    this.endNs = timeNs(endTime)
    this.#onEnd(this)
  }

  isRecording(): boolean {
    return this.endNs === undefined
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const e = typeof exception === 'string' ? { message: exception } : exception
    const attributes: Attributes = {}
    if ('name' in e && e.name !== undefined) attributes['exception.type'] = e.name
    if ('code' in e && e.code !== undefined) attributes['exception.type'] ??= String(e.code)
    if (e.message !== undefined) attributes['exception.message'] = e.message
    this.addEvent('exception', attributes, time)
  }
}

/** Records every span of every tracer until {@link TraceRecording.write}. */
class RecordingTracerProvider implements TracerProvider {
  readonly finished: RecordedSpan[] = []

  getTracer(name: string, version?: string): Tracer {
    const scope = { name, version }
    const onEnd = (span: RecordedSpan): void => {
      this.finished.push(span)
    }
    const startSpan = (spanName: string, options: SpanOptions = {}, ctx?: Context): Span => {
      const parent = options.root === true ? undefined : trace.getSpanContext(ctx ?? context.active())
      return new RecordedSpan(spanName, options, parent, scope, onEnd)
    }
    function startActiveSpan<F extends (span: Span) => unknown>(
      spanName: string,
      ...rest: [F] | [SpanOptions, F] | [SpanOptions, Context, F]
    ): ReturnType<F> {
      const fn = rest[rest.length - 1] as F
      const options = rest.length >= 2 ? (rest[0] as SpanOptions) : {}
      const parentContext = rest.length === 3 ? (rest[1] as Context) : context.active()
      const span = startSpan(spanName, options, parentContext)
      return context.with(trace.setSpan(parentContext, span), () => fn(span)) as ReturnType<F>
    }
    return { startSpan, startActiveSpan } as Tracer
  }
}

type OtlpAnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: string }
  | { doubleValue: number }
  | { arrayValue: { values: OtlpAnyValue[] } }

function otlpValue(value: unknown): OtlpAnyValue {
  if (typeof value === 'boolean') return { boolValue: value }
  if (typeof value === 'number')
    return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value }
  if (Array.isArray(value)) return { arrayValue: { values: value.map(otlpValue) } }
  return { stringValue: String(value) }
}

function otlpAttributes(attributes: Attributes): Array<{ key: string; value: OtlpAnyValue }> {
  return Object.entries(attributes)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([key, v]) => ({ key, value: otlpValue(v) }))
}

/**
 * The OTLP JSON document of `spans` (one resource, `service.name` = `psrp`; one scope per tracer).
 * Span kind and status code follow the OTLP enums (kind is the API's value + 1).
 */
export function encodeOtlpJson(spans: readonly RecordedSpan[]): string {
  const scopes = new Map<string, { scope: { name: string; version?: string }; spans: unknown[] }>()
  for (const s of spans) {
    const key = `${s.scope.name}@${s.scope.version ?? ''}`
    let entry = scopes.get(key)
    if (entry === undefined) {
      const scope =
        s.scope.version === undefined ? { name: s.scope.name } : { ...s.scope, version: s.scope.version }
      scopes.set(key, (entry = { scope, spans: [] }))
    }
    const ctx = s.spanContext()
    entry.spans.push({
      traceId: ctx.traceId,
      spanId: ctx.spanId,
      ...(s.parentSpanId === undefined ? {} : { parentSpanId: s.parentSpanId }),
      name: s.name,
      kind: s.kind + 1,
      startTimeUnixNano: s.startNs.toString(),
      endTimeUnixNano: (s.endNs ?? s.startNs).toString(),
      attributes: otlpAttributes(s.attributes),
      events: s.events.map((e) => ({
        timeUnixNano: e.timeNs.toString(),
        name: e.name,
        attributes: otlpAttributes(e.attributes),
      })),
      links: s.links.map((l) => ({
        traceId: l.context.traceId,
        spanId: l.context.spanId,
        attributes: otlpAttributes(l.attributes ?? {}),
      })),
      status: {
        code: s.status.code,
        ...(s.status.message === undefined ? {} : { message: s.status.message }),
      },
    })
  }
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: otlpAttributes({ 'service.name': 'psrp' }) },
        scopeSpans: [...scopes.values()],
      },
    ],
  })
}

/** A trace recording started by {@link startTraceRecording}. */
export interface TraceRecording {
  /**
   * Runs the CLI command `fn` inside the root span `psrp <command>` (attribute `psrp.cli.command`;
   * never its arguments, which hold script text), so one run is one trace; the exit code is recorded
   * as `process.exit.code`, a thrown error as the span's error status.
   */
  run(command: string, fn: () => Promise<number>): Promise<number>
  /** Writes the spans finished so far to `file` as OTLP JSON and stops recording. */
  write(file: string): Promise<void>
}

/**
 * Registers the recording tracer provider and context manager globally (before any span is made) and
 * returns the handle that writes the spans at the end of the run.
 */
export function startTraceRecording(): TraceRecording {
  const provider = new RecordingTracerProvider()
  const manager = new AsyncLocalContextManager()
  context.setGlobalContextManager(manager)
  trace.setGlobalTracerProvider(provider)
  return {
    run(command: string, fn: () => Promise<number>): Promise<number> {
      const attributes = { 'psrp.cli.command': command }
      return trace.getTracer('psrp-cli').startActiveSpan(`psrp ${command}`, { attributes }, async (span) => {
        try {
          const code = await fn()
          span.setAttribute('process.exit.code', code)
          return code
        } catch (err) {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: err instanceof Error ? err.message : String(err),
          })
          throw err
        } finally {
          span.end()
        }
      })
    },
    async write(file: string): Promise<void> {
      const text = encodeOtlpJson(provider.finished)
      trace.disable()
      context.disable()
      await writeFile(file, `${text}\n`)
    },
  }
}
