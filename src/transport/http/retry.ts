/**
 * The retry policy of {@link WSManHttpClient}: which outcomes are retried and how long to wait.
 *
 * Retried, each on a new connection:
 * - failures before any request body byte was written: connection refused, reset or timed out while
 *   connecting, TLS or proxy-tunnel set-up cut short, a reset during the empty handshake request of
 *   message encryption;
 * - the HTTP statuses of {@link RetryOptions.statuses} (default 425 Too Early, 429 Too Many Requests,
 *   503 Service Unavailable, as pypsrp's `status_forcelist`): the server answered without acting on
 *   the request. The wait honours `Retry-After` (delay-seconds or an HTTP-date, RFC 9110 10.2.3).
 *
 * Never retried: every other failure after a request body byte was sent (a reset, a closed
 * connection, a read timeout: the server may have run the request, so it is surfaced, never
 * replayed), anything after a response byte, other 4xx, 500 (WS-Man faults), TLS validation failures,
 * timeouts and aborts. Only a request its sender declares replayable (running it twice has the effect
 * of running it once) is sent again after such a failure.
 *
 * @module
 */
import { InvalidArgumentError } from '../../errors.ts'
import { headerValue, type HttpHeaders } from './http1.ts'

/** HTTP statuses retried by default: 425 Too Early, 429 Too Many Requests, 503 Service Unavailable. */
export const DEFAULT_RETRY_STATUSES: readonly number[] = [425, 429, 503]

/** Retry settings. */
export interface RetryOptions {
  /** Retries after the first attempt; default 3 (so at most 4 attempts). */
  readonly count?: number | undefined
  /** Delay before the first retry in milliseconds, doubled for each further retry; default 250. */
  readonly backoffMs?: number | undefined
  /** Upper bound of one backoff delay in milliseconds; default 10 000. */
  readonly maxBackoffMs?: number | undefined
  /**
   * HTTP statuses answered by a retry after a delay (pypsrp `status_forcelist`); default
   * `[425, 429, 503]`. Only 4xx/5xx statuses other than 401 and 500 may be listed: 500 carries WS-Man
   * faults, which are final. `[]` turns status retries off.
   */
  readonly statuses?: readonly number[] | undefined
  /**
   * Longest `Retry-After` honoured, in milliseconds; default 120 000. A response asking for a longer
   * wait is returned to the caller at once instead of being retried.
   */
  readonly maxRetryAfterMs?: number | undefined
}

/** {@link RetryOptions} with defaults applied. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly count: number
  /** First delay in milliseconds. */
  readonly backoffMs: number
  /** Largest backoff delay in milliseconds. */
  readonly maxBackoffMs: number
  /** Statuses that are retried. */
  readonly statuses: ReadonlySet<number>
  /** Longest `Retry-After` honoured, in milliseconds. */
  readonly maxRetryAfterMs: number
}

/** Validates and completes retry options. */
export function retryPolicy(options: RetryOptions | undefined): RetryPolicy {
  const count = options?.count ?? 3
  const backoffMs = options?.backoffMs ?? 250
  const maxBackoffMs = options?.maxBackoffMs ?? 10_000
  const maxRetryAfterMs = options?.maxRetryAfterMs ?? 120_000
  if (!Number.isInteger(count) || count < 0)
    throw new InvalidArgumentError('retries.count must be an integer >= 0')
  for (const [name, v] of [
    ['retries.backoffMs', backoffMs],
    ['retries.maxBackoffMs', maxBackoffMs],
    ['retries.maxRetryAfterMs', maxRetryAfterMs],
  ] as const) {
    if (!Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`${name} must be a number >= 0`)
  }
  const statuses = options?.statuses ?? DEFAULT_RETRY_STATUSES
  if (!Array.isArray(statuses)) throw new InvalidArgumentError('retries.statuses must be an array')
  for (const s of statuses) {
    if (!Number.isInteger(s) || s < 400 || s > 599 || s === 401 || s === 500) {
      throw new InvalidArgumentError(
        `retries.statuses: ${String(s)} cannot be retried (only 4xx/5xx other than 401 and 500)`,
      )
    }
  }
  return { count, backoffMs, maxBackoffMs, statuses: new Set(statuses), maxRetryAfterMs }
}

/** Delay before retry number `retry` (0-based): `backoffMs · 2^retry`, capped at `maxBackoffMs`. */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** retry)
}

/**
 * The wait a response's `Retry-After` header asks for, in milliseconds (RFC 9110 10.2.3): a number
 * of seconds, or an HTTP-date (then the time from `now` until that date, at least 0). Undefined when
 * there is no header or it is neither form.
 */
export function retryAfterMs(headers: HttpHeaders, now: number = Date.now()): number | undefined {
  const value = headerValue(headers, 'retry-after')?.trim()
  if (value === undefined || value === '') return undefined
  if (/^\d+$/.test(value)) return value.length > 9 ? Number.MAX_SAFE_INTEGER : Number(value) * 1000
  // IMF-fixdate and the two obsolete forms: a weekday, a day, a month name and a time
  if (!/^[A-Za-z]{3,9},? [\d\sA-Za-z:-]+(GMT|UTC)?$/.test(value)) return undefined
  const at = Date.parse(value)
  if (!Number.isFinite(at)) return undefined
  return Math.max(0, at - now)
}

/**
 * The delay before retry number `retry` of a response with status `status`: its `Retry-After` when
 * it has one (never less than the backoff), else the backoff; undefined when the status is not
 * retried or `Retry-After` asks for more than {@link RetryPolicy.maxRetryAfterMs}.
 */
export function statusRetryDelay(
  policy: RetryPolicy,
  retry: number,
  status: number,
  headers: HttpHeaders,
  now: number = Date.now(),
): number | undefined {
  if (!policy.statuses.has(status)) return undefined
  const backoff = backoffDelay(policy, retry)
  const asked = retryAfterMs(headers, now)
  if (asked === undefined) return backoff
  if (asked > policy.maxRetryAfterMs) return undefined
  return Math.max(asked, backoff)
}
