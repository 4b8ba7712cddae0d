/**
 * Cancellation plumbing for the HTTP client: every wait takes one `AbortSignal` whose `reason` is
 * already the {@link PsrpError} to reject with ({@link AbortError}, {@link TimeoutError} or the
 * client's close error), so socket code only has to `reject(signal.reason)`.
 *
 * @module
 */
import { AbortError, PsrpError, type TimeoutError } from '../../errors.ts'

/** A derived signal plus the function that releases its listeners and timer. */
export interface Scope {
  /** Aborted when a parent aborts or the timer fires; `reason` is a {@link PsrpError}. */
  readonly signal: AbortSignal
  /** Removes the listeners from the parents and clears the timer. Idempotent. */
  dispose(): void
}

/** Converts any abort reason to a {@link PsrpError} (a caller's plain reason becomes {@link AbortError}). */
export function abortReason(signal: AbortSignal): PsrpError {
  const reason: unknown = signal.reason
  return reason instanceof PsrpError ? reason : new AbortError(undefined, { cause: reason })
}

/**
 * A signal aborted when any parent aborts (reason converted by {@link abortReason}) or, when
 * `timeoutMs` is given, after that many milliseconds with `onTimeout()` as reason.
 */
export function scope(
  parents: ReadonlyArray<AbortSignal | undefined>,
  timeoutMs?: number,
  onTimeout?: () => TimeoutError,
): Scope {
  const controller = new AbortController()
  const cleanups: Array<() => void> = []
  const dispose = (): void => {
    for (const c of cleanups.splice(0)) c()
  }
  for (const parent of parents) {
    if (parent === undefined) continue
    if (parent.aborted) {
      controller.abort(abortReason(parent))
      break
    }
    const listener = (): void => {
      controller.abort(abortReason(parent))
      dispose()
    }
    parent.addEventListener('abort', listener, { once: true })
    cleanups.push(() => parent.removeEventListener('abort', listener))
  }
  if (!controller.signal.aborted && timeoutMs !== undefined && onTimeout !== undefined) {
    const timer = setTimeout(() => {
      controller.abort(onTimeout())
      dispose()
    }, timeoutMs)
    cleanups.push(() => clearTimeout(timer))
  }
  if (controller.signal.aborted) dispose()
  return { signal: controller.signal, dispose }
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal))
      return
    }
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(abortReason(signal))
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
