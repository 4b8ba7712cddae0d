/**
 * Fleets: one script (or one function) run on many hosts at once, at most `throttle` at a time, with
 * each host's result delivered as soon as that host finishes — PowerShell's `Invoke-Command
 * -ComputerName a,b,c -ThrottleLimit 32`, with objects, per-host failures and cancellation.
 *
 * ```ts
 * import { runOnHosts } from 'psrp'
 *
 * for await (const r of runOnHosts(['win1', 'win2', 'ssh://ops@linux1'], 'Get-Service WinRM', {
 *   throttle: 32,
 *   perHostTimeout: 60_000,
 *   wsman: { auth: 'kerberos' },
 * })) {
 *   if (r.ok) console.log(r.host, r.output)
 *   else console.error(r.host, r.error.code, r.error.message)
 * }
 * ```
 *
 * Resources: at most `throttle` hosts are in flight, each with one connection and one runspace pool;
 * a host's client is closed as soon as its last entry in `targets` finishes (its result is yielded
 * first; its slot is taken by the next host once the connection is closed). Targets naming the same
 * endpoint as the same user share one client (and so one WinRM connection, its authentication and
 * Kerberos tickets, or one SSH session). Memory per in-flight host is one connection plus whatever its
 * output holds: pass `onOutput` to stream objects instead of collecting them.
 *
 * @module
 */
import { setMaxListeners } from 'node:events'
import {
  AbortError,
  AuthenticationError,
  InvalidArgumentError,
  TimeoutError,
  TransportError,
} from '../errors.ts'
import { cancelScope } from '../transport/cancel.ts'
import { SSHConnection, type SSHConnectionOptions } from '../transport/ssh.ts'
import type { ProcessConnectionOptions } from '../transport/process.ts'
import { Client, type ClientOptions, type ClientWSManOptions } from './client.ts'
import { PowerShell, type PSDataStreams } from './powershell.ts'
import { Attr, hostAttributes, recordError, SpanName, withSpan } from '../internal/telemetry.ts'
import {
  fleetTargetKey,
  parseFleetTarget,
  type FleetTargetKind,
  type FleetTargetSpec,
} from './fleet-target.ts'

/** A target: its text (see {@link parseFleetTarget}) or an already parsed {@link FleetTargetSpec}. */
export type FleetTarget = string | FleetTargetSpec

/** What a function passed to {@link runOnHosts} gets besides the client. */
export interface FleetWorkContext {
  /** The host's name (what results report as `host`). */
  readonly host: string
  /** The target as parsed. */
  readonly target: FleetTargetSpec
  /** Aborted when the run is aborted or the host's time is up: pass it to every call. */
  readonly signal: AbortSignal
  /** 1 for the first attempt, 2 after one retry … */
  readonly attempt: number
}

/** Work done on each host by a function: it gets the host's {@link Client}, already connected. */
export type FleetWork<T> = (client: Client, context: FleetWorkContext) => Promise<T>

/** Options of {@link runOnHosts}. */
export interface RunOnHostsOptions {
  /** Most hosts in flight at once (default 32, like `Invoke-Command -ThrottleLimit`). */
  throttle?: number | undefined
  /**
   * Milliseconds one host may take, connecting included, per attempt (default: no limit). When it
   * passes, the host's work is stopped, its connection closed, and its result is a
   * {@link TimeoutError}.
   */
  perHostTimeout?: number | undefined
  /**
   * Further attempts for a host whose connection could not be made (a {@link TransportError} or
   * {@link TimeoutError} before the pool opened; default 0). Authentication failures and anything
   * after the pool opened are never retried: the script may have run.
   */
  retries?: number | undefined
  /** Milliseconds before the first retry, doubled for each further one (default 1 000). */
  retryDelay?: number | undefined
  /** Aborting stops every host in flight, closes every connection, and the iteration throws {@link AbortError}. */
  signal?: AbortSignal | undefined
  /** The kind of a target written without a scheme (default `wsman`). */
  defaultKind?: Exclude<FleetTargetKind, 'local'> | undefined
  /** Options of every WinRM client (credentials, auth, TLS …); a target's port, TLS and path win. */
  wsman?: ClientWSManOptions | undefined
  /** Options of every SSH connection; a target's user and port win. */
  ssh?: Omit<SSHConnectionOptions, 'host'> | undefined
  /** Options of every local `pwsh` process. */
  local?: ProcessConnectionOptions | undefined
  /** Client options for SSH and local targets (runspaces, host, pool options); WinRM takes them from `wsman`. */
  client?: ClientOptions | undefined
  /**
   * Opens the client of a target instead of the built-in choice (per-host credentials, a custom
   * connection). The fleet closes it when done with it.
   */
  connect?: ((target: FleetTargetSpec) => Client) | undefined
  /**
   * With a script: receives each output object as it arrives, and results carry no `output` (bounded
   * memory for large outputs).
   */
  onOutput?: ((host: string, object: unknown) => void) | undefined
}

/** Where a host's run stood when it failed. */
export type FleetPhase = 'connect' | 'run'

/** One host's outcome, delivered by {@link runOnHosts} as soon as the host finishes. */
export type HostResult<T = unknown[]> = HostSuccess<T> | HostFailure

/** What every {@link HostResult} carries, success or failure. */
export interface HostResultBase {
  /** The host's name (`PSComputerName`). */
  readonly host: string
  /** The target as parsed. */
  readonly target: FleetTargetSpec
  /** Milliseconds from the host's start to its result, retries included. */
  readonly durationMs: number
  /** Attempts made (1 without retries). */
  readonly attempts: number
}

/** A host whose work completed (its script may still have written errors: see `hadErrors`). */
export interface HostSuccess<T> extends HostResultBase {
  readonly ok: true
  /** A script's output objects (empty with `onOutput`), or what the function returned. */
  readonly value: T
  /** A script's output objects; undefined for a function or with `onOutput`. */
  readonly output: unknown[] | undefined
  /** A script's record streams; undefined for a function. */
  readonly streams: PSDataStreams | undefined
  /** True when a script wrote an error record. */
  readonly hadErrors: boolean
}

/** A host that failed: could not connect or authenticate, timed out, or its work threw. */
export interface HostFailure extends HostResultBase {
  readonly ok: false
  /** Why; a `PsrpError` for every failure of the library (a function's own errors pass as they are). */
  readonly error: Error
  /** `connect` when the pool never opened, `run` when the work failed after it did. */
  readonly phase: FleetPhase
  /** Streams a script wrote before it failed. */
  readonly streams: PSDataStreams | undefined
  readonly hadErrors: boolean
}

const DEFAULT_THROTTLE = 32
const DEFAULT_RETRY_DELAY = 1000

/**
 * Runs `work` on every target, at most `throttle` at a time, and yields each host's
 * {@link HostResult} as it finishes (completion order, not target order). One host's failure never
 * stops the others. Breaking out of the loop, or aborting `signal`, stops the hosts in flight and
 * closes their connections before the iteration ends.
 *
 * `work` is a script (run as with {@link Client.runPs}; its output is the result's `output`) or a
 * function given the host's connected {@link Client}.
 */
export function runOnHosts(
  targets: Iterable<FleetTarget>,
  work: string,
  options?: RunOnHostsOptions,
): AsyncIterableIterator<HostResult<unknown[]>>
export function runOnHosts<T>(
  targets: Iterable<FleetTarget>,
  work: FleetWork<T>,
  options?: RunOnHostsOptions,
): AsyncIterableIterator<HostResult<T>>
export function runOnHosts<T>(
  targets: Iterable<FleetTarget>,
  work: string | FleetWork<T>,
  options: RunOnHostsOptions = {},
): AsyncIterableIterator<HostResult<T | unknown[]>> {
  const throttle = options.throttle ?? DEFAULT_THROTTLE
  if (!Number.isSafeInteger(throttle) || throttle < 1)
    throw new InvalidArgumentError('throttle must be a positive integer')
  const retries = options.retries ?? 0
  if (!Number.isSafeInteger(retries) || retries < 0)
    throw new InvalidArgumentError('retries must be a non-negative integer')
  const specs = [...targets].map((t) =>
    typeof t === 'string' ? parseFleetTarget(t, options.defaultKind) : t,
  )
  return new FleetRun<T>(specs, work, options, throttle, retries).results()
}

/** One run of {@link runOnHosts}: the queue, the throttle and the clients. */
class FleetRun<T> {
  readonly #specs: FleetTargetSpec[]
  readonly #work: string | FleetWork<T>
  readonly #options: RunOnHostsOptions
  readonly #throttle: number
  readonly #retries: number
  /** Aborted by the caller's signal or when the iteration ends early. */
  readonly #stop = new AbortController()
  /** Entries not yet finished, per endpoint: a shared client closes when its count reaches 0. */
  readonly #remaining = new Map<string, number>()
  /** The client of each endpoint in use, shared by its entries. */
  readonly #clients = new Map<string, Client>()
  readonly #done: HostResult<T | unknown[]>[] = []
  #wake: (() => void) | undefined
  #inFlight = 0

  constructor(
    specs: FleetTargetSpec[],
    work: string | FleetWork<T>,
    options: RunOnHostsOptions,
    throttle: number,
    retries: number,
  ) {
    this.#specs = specs
    this.#work = work
    this.#options = options
    this.#throttle = throttle
    this.#retries = retries
    // every host in flight listens on the stop signal: as many listeners as the throttle allows
    setMaxListeners(0, this.#stop.signal)
    for (const s of specs) {
      const key = fleetTargetKey(s)
      this.#remaining.set(key, (this.#remaining.get(key) ?? 0) + 1)
    }
  }

  async *results(): AsyncIterableIterator<HostResult<T | unknown[]>> {
    const outer = this.#options.signal
    const onAbort = (): void => {
      this.#stop.abort()
      this.#wake?.()
    }
    outer?.addEventListener('abort', onAbort, { once: true })
    const running = new Set<Promise<void>>()
    let next = 0
    let finished = false
    try {
      if (outer?.aborted === true) throw new AbortError('the fleet run was aborted', { cause: outer.reason })
      while (next < this.#specs.length || this.#inFlight > 0 || this.#done.length > 0) {
        while (this.#inFlight < this.#throttle && next < this.#specs.length && !this.#stop.signal.aborted) {
          const spec = this.#specs[next++] as FleetTargetSpec
          this.#inFlight++
          // the result is yielded as soon as it is known; the host's slot is free once its
          // connection is closed too (at most `throttle` connections are ever open)
          const task = this.#runHost(spec).then(async ({ result, released }) => {
            this.#done.push(result)
            this.#wake?.()
            await released
            this.#inFlight--
            this.#wake?.()
          })
          running.add(task)
          void task.finally(() => running.delete(task))
        }
        if (this.#done.length === 0) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve
          })
          this.#wake = undefined
        }
        if (isAborted(outer)) throw new AbortError('the fleet run was aborted', { cause: outer?.reason })
        const result = this.#done.shift()
        if (result !== undefined) yield result
      }
      finished = true
    } finally {
      outer?.removeEventListener('abort', onAbort)
      if (!finished) this.#stop.abort()
      // nothing outlives the iteration: every host's work has stopped and its connection is closed
      await Promise.allSettled([...running])
      await Promise.allSettled([...this.#clients.values()].map((c) => c.close()))
      this.#clients.clear()
    }
  }

  /**
   * The host's whole run in its `psrp.fleet.host` span (connect, pool and pipeline spans nest under
   * it): attempts and retries, then the release of its client, which is started in the span but not
   * waited for: `released` settles when the connection is closed. Never rejects.
   */
  #runHost(spec: FleetTargetSpec): Promise<{ result: HostResult<T | unknown[]>; released: Promise<void> }> {
    const attributes = {
      ...hostAttributes(spec.host, spec.port),
      [Attr.transport]: spec.kind,
      [Attr.fleetTarget]: spec.text,
    }
    return withSpan(SpanName.fleetHost, attributes, async (span) => {
      const key = fleetTargetKey(spec)
      let result: HostResult<T | unknown[]>
      try {
        result = await this.#runHostAttempts(spec, key)
      } catch (e) {
        await this.#release(key)
        throw e
      }
      span.setAttributes({ [Attr.fleetOk]: result.ok, [Attr.fleetAttempts]: result.attempts })
      if (!result.ok) recordError(span, result.error)
      return { result, released: this.#release(key) }
    })
  }

  async #runHostAttempts(spec: FleetTargetSpec, key: string): Promise<HostResult<T | unknown[]>> {
    const started = performance.now()
    const base = (attempts: number): HostResultBase => ({
      host: spec.host,
      target: spec,
      durationMs: performance.now() - started,
      attempts,
    })
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.#attempt(spec, key, attempt)
      if (outcome.ok) return { ...base(attempt), ...outcome }
      const retry =
        outcome.phase === 'connect' &&
        attempt <= this.#retries &&
        !this.#stop.signal.aborted &&
        isConnectFailure(outcome.error)
      if (!retry) return { ...base(attempt), ...outcome }
      this.#discard(key)
      const delay = (this.#options.retryDelay ?? DEFAULT_RETRY_DELAY) * 2 ** (attempt - 1)
      if (!(await sleep(delay, this.#stop.signal))) return { ...base(attempt), ...outcome }
    }
  }

  /** One attempt: connect (open the pool) and run the work, under the host's time limit. */
  async #attempt(
    spec: FleetTargetSpec,
    key: string,
    attempt: number,
  ): Promise<
    Omit<HostSuccess<T | unknown[]>, keyof HostResultBase> | Omit<HostFailure, keyof HostResultBase>
  > {
    const scope = cancelScope(
      { signal: this.#stop.signal, timeout: this.#options.perHostTimeout },
      { timeoutError: (ms) => new TimeoutError(`${spec.host} did not finish within ${ms} ms`, ms) },
    )
    let phase: FleetPhase = 'connect'
    let ps: PowerShell | undefined
    try {
      const client = this.#client(spec, key)
      // a host's time limit closes its client: that stops whatever it was waiting for
      const onCancel = (): void => {
        if (scope.timedOut) this.#discard(key)
      }
      const pool = await scope.race(client.pool({ signal: scope.signal }), onCancel)
      phase = 'run'
      const call = { signal: scope.signal }
      if (typeof this.#work !== 'string') {
        const context: FleetWorkContext = { host: spec.host, target: spec, signal: scope.signal, attempt }
        const value = await scope.race(this.#work(client, context), onCancel)
        return { ok: true, value, output: undefined, streams: undefined, hadErrors: false }
      }
      const onOutput = this.#options.onOutput
      if (onOutput === undefined) {
        const run = client.runPs(this.#work, call)
        const { output, streams, hadErrors } = await scope.race(run, onCancel)
        return { ok: true, value: output, output, streams, hadErrors }
      }
      ps = new PowerShell(pool).addScript(this.#work)
      const streaming = (async (): Promise<void> => {
        for await (const object of (ps as PowerShell).stream(undefined, call)) onOutput(spec.host, object)
      })()
      await scope.race(streaming, onCancel)
      return { ok: true, value: [], output: undefined, streams: ps.streams, hadErrors: ps.hadErrors }
    } catch (e) {
      const error = scope.reason ?? (e instanceof Error ? e : new NonErrorThrown(e))
      return { ok: false, error, phase, streams: ps?.streams, hadErrors: ps?.hadErrors ?? false }
    } finally {
      scope.dispose()
    }
  }

  /** The endpoint's client, created on first use. */
  #client(spec: FleetTargetSpec, key: string): Client {
    let client = this.#clients.get(key)
    if (client === undefined) {
      client = this.#open(spec)
      this.#clients.set(key, client)
    }
    return client
  }

  /** A new client for `spec`, as the options say. */
  #open(spec: FleetTargetSpec): Client {
    const o = this.#options
    if (o.connect !== undefined) return o.connect(spec)
    switch (spec.kind) {
      case 'local':
        return new Client({ ...o.local, local: true }, o.client)
      case 'ssh':
        // the pool owns an SSH transport: closing the client's pool closes the SSH session
        return new Client(
          new SSHConnection({
            ...o.ssh,
            host: spec.host,
            ...(spec.port === undefined ? {} : { port: spec.port }),
            ...(spec.username === undefined ? {} : { username: spec.username }),
          }),
          o.client,
        )
      case 'wsman':
        return new Client(spec.host, {
          ...o.wsman,
          ...(spec.port === undefined ? {} : { port: spec.port }),
          ...(spec.username === undefined ? {} : { username: spec.username }),
          ...(spec.ssl === undefined ? {} : { ssl: spec.ssl }),
          ...(spec.path === undefined ? {} : { path: spec.path }),
        })
    }
  }

  /** Forgets (and closes) the endpoint's client: the next attempt opens a fresh one. */
  #discard(key: string): void {
    const client = this.#clients.get(key)
    if (client === undefined) return
    this.#clients.delete(key)
    void client.close().catch(() => undefined)
  }

  /** One entry of the endpoint is done; the last one closes its client. */
  async #release(key: string): Promise<void> {
    const left = (this.#remaining.get(key) ?? 1) - 1
    this.#remaining.set(key, left)
    if (left > 0) return
    this.#remaining.delete(key)
    const client = this.#clients.get(key)
    if (client === undefined) return
    this.#clients.delete(key)
    await client.close().catch(() => undefined)
  }
}

/** Wraps a non-Error thrown by a user's function. */
class NonErrorThrown extends Error {
  constructor(value: unknown) {
    super(`the host's work threw a non-Error value: ${String(value)}`)
    this.name = 'Error'
  }
}

/** A failure of reaching the server at all, worth another attempt. */
function isConnectFailure(error: Error): boolean {
  if (error instanceof AuthenticationError) return false
  return error instanceof TransportError || error instanceof TimeoutError
}

/** Waits `ms`; false when `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false)
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    const onAbort = (): void => {
      clearTimeout(timer)
      resolve(false)
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** True when `signal` is aborted (a function, so that TypeScript does not narrow it across awaits). */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true
}
