/**
 * The one cancellation primitive of the I/O layers: a caller's `{ signal, timeout }` (plus any other
 * signals, such as a client's close) folded into one {@link CancelScope}, with one cleanup. Its
 * signal's `reason` is always the {@link PsrpError} to reject with: a {@link TimeoutError} when the
 * time is up, an {@link AbortError} when the caller aborted (or a parent's own `PsrpError`).
 *
 * ```ts
 * const scope = cancelScope(options, { what: 'opening the runspace pool' })
 * try { return await scope.race(work, () => undo()) } finally { scope.dispose() }
 * // or, the same in one call:
 * await withCancel(work, options, 'opening the runspace pool', () => undo())
 * ```
 *
 * It lives in `transport/` because it owns a timer; the sans-IO cores below never wait.
 *
 * @module
 */
import { AbortError, PsrpError, TimeoutError } from '../errors.ts'

/** Cancellation and time limit of a call: the options of every method that can take long. */
export interface CallOptions {
  /** Aborting rejects the call with {@link AbortError} (and stops a pipeline on the server). */
  signal?: AbortSignal | undefined
  /** Milliseconds before the call rejects with {@link TimeoutError}. */
  timeout?: number | undefined
}

/** How a {@link CancelScope} names its errors and what else cancels it. */
export interface CancelScopeOptions {
  /**
   * The operation, for the messages `${what} was aborted` and `${what} timed out after N ms`. With
   * it, an abort is always an {@link AbortError} with the caller's reason as `cause`; without it, a
   * parent's `PsrpError` reason passes through as is and any other reason becomes the `cause` of a
   * plain {@link AbortError}.
   */
  readonly what?: string | undefined
  /** More signals that cancel the scope (a client's close, an outer scope). */
  readonly also?: ReadonlyArray<AbortSignal | undefined> | undefined
  /** The error of a timeout after `ms` (default: a {@link TimeoutError} naming `what`). */
  readonly timeoutError?: ((ms: number) => PsrpError) | undefined
}

/** Converts any abort reason to a {@link PsrpError} (a caller's plain reason becomes {@link AbortError}). */
export function abortReason(signal: AbortSignal): PsrpError {
  const reason: unknown = signal.reason
  return reason instanceof PsrpError ? reason : new AbortError(undefined, { cause: reason })
}

/** One operation's cancellation: aborted by the first parent to abort or by the timer. */
export class CancelScope {
  readonly #controller = new AbortController()
  readonly #cleanups: (() => void)[] = []
  #timedOut = false

  constructor(options: CallOptions | undefined, scopeOptions: CancelScopeOptions = {}) {
    const { what, also = [], timeoutError } = scopeOptions
    const toError = (parent: AbortSignal): PsrpError =>
      what === undefined
        ? abortReason(parent)
        : new AbortError(`${what} was aborted`, { cause: parent.reason as unknown })
    for (const parent of [options?.signal, ...also]) {
      if (parent === undefined) continue
      if (parent.aborted) {
        this.#controller.abort(toError(parent))
        break
      }
      const listener = (): void => {
        this.dispose()
        this.#controller.abort(toError(parent))
      }
      parent.addEventListener('abort', listener, { once: true })
      this.#cleanups.push(() => parent.removeEventListener('abort', listener))
    }
    const ms = options?.timeout
    if (!this.#controller.signal.aborted && ms !== undefined) {
      const timer = setTimeout(() => {
        this.dispose()
        this.#timedOut = true
        this.#controller.abort(
          timeoutError?.(ms) ?? new TimeoutError(`${what ?? 'the operation'} timed out after ${ms} ms`, ms),
        )
      }, ms)
      this.#cleanups.push(() => clearTimeout(timer))
    }
    if (this.#controller.signal.aborted) this.dispose()
  }

  /** Aborted when a parent aborts or the time is up; `reason` is the {@link PsrpError} to reject with. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** True when the scope ended by its timer. */
  get timedOut(): boolean {
    return this.#timedOut
  }

  /** The error to reject with, once aborted. */
  get reason(): PsrpError | undefined {
    return this.signal.aborted ? (this.signal.reason as PsrpError) : undefined
  }

  /**
   * Settles like `work`, or rejects with {@link reason} when the scope aborts first; `onCancel` then
   * runs (synchronously, before the rejection) to undo what `work` started.
   */
  race<T>(work: Promise<T>, onCancel?: () => void): Promise<T> {
    const signal = this.signal
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        onCancel?.()
        reject(signal.reason)
      }
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      work.then(
        (v) => {
          signal.removeEventListener('abort', onAbort)
          resolve(v)
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort)
          reject(e)
        },
      )
    })
  }

  /** Removes the listeners from the parents and clears the timer. Idempotent. */
  dispose(): void {
    for (const c of this.#cleanups.splice(0)) c()
  }
}

/** A {@link CancelScope} over `options` (and `scopeOptions.also`). */
export function cancelScope(
  options: CallOptions | undefined,
  scopeOptions?: CancelScopeOptions,
): CancelScope {
  return new CancelScope(options, scopeOptions)
}

/**
 * Runs `work` under the caller's `signal`/`timeout`: rejects with `${what} was aborted` /
 * `${what} timed out after N ms` when they fire first (after running `onCancel`), and cleans up
 * either way. Without a signal or timeout, `work` is returned as is.
 */
export function withCancel<T>(
  work: Promise<T>,
  options: CallOptions | undefined,
  what: string,
  onCancel?: () => void,
): Promise<T> {
  if (options?.signal === undefined && options?.timeout === undefined) return work
  const scope = new CancelScope(options, { what })
  const raced = scope.race(work, onCancel)
  raced.then(
    () => scope.dispose(),
    () => scope.dispose(),
  )
  return raced
}
