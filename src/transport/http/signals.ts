/**
 * Cancellation plumbing for the HTTP client: every wait takes one `AbortSignal` whose `reason` is
 * already the `PsrpError` to reject with (`AbortError`, {@link TimeoutError} or the client's close
 * error), so socket code only has to `reject(signal.reason)`. The scopes are the shared
 * {@link CancelScope} (`../cancel.ts`).
 *
 * @module
 */
import type { TimeoutError } from '../../errors.ts'
import { abortReason, cancelScope, type CancelScope } from '../cancel.ts'

/** A derived signal plus the function that releases its listeners and timer. */
export type Scope = Pick<CancelScope, 'signal' | 'dispose'>

export { abortReason }

/**
 * A signal aborted when any parent aborts (reason converted by {@link abortReason}) or, when
 * `timeoutMs` is given, after that many milliseconds with `onTimeout()` as reason: a
 * {@link CancelScope} of the parents.
 */
export function scope(
  parents: ReadonlyArray<AbortSignal | undefined>,
  timeoutMs?: number,
  onTimeout?: () => TimeoutError,
): Scope {
  return cancelScope(
    { timeout: onTimeout === undefined ? undefined : timeoutMs },
    { also: parents, ...(onTimeout === undefined ? {} : { timeoutError: onTimeout }) },
  )
}

/**
 * Resolves after `ms`, or rejects with the signal's reason when it aborts first. With `unref` the timer
 * does not keep the process alive (a background wait such as a reconnection probe's).
 */
export function sleep(ms: number, signal: AbortSignal, unref = false): Promise<void> {
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
    if (unref) timer.unref()
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
