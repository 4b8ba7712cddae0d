/**
 * The retry policy of {@link WSManHttpClient}: which outcomes are retried and how long to wait.
 *
 * Retried: connection failures before any response byte (`ECONNREFUSED`, `ECONNRESET`, …) and
 * HTTP 503. Never retried: anything after a response started, 4xx, 500 (WS-Man faults), TLS
 * validation failures, timeouts and aborts. A request that fails because a reused keep-alive
 * connection had been closed by the server is retried once at once on a new connection, without
 * counting as a retry (the usual idle-close race).
 *
 * @module
 */
import { InvalidArgumentError } from '../../errors.ts'

/** Retry settings. */
export interface RetryOptions {
  /** Retries after the first attempt; default 3 (so at most 4 attempts). */
  readonly count?: number | undefined
  /** Delay before the first retry in milliseconds, doubled for each further retry; default 250. */
  readonly backoffMs?: number | undefined
  /** Upper bound of one delay in milliseconds; default 10 000. */
  readonly maxBackoffMs?: number | undefined
}

/** {@link RetryOptions} with defaults applied. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly count: number
  /** First delay in milliseconds. */
  readonly backoffMs: number
  /** Largest delay in milliseconds. */
  readonly maxBackoffMs: number
}

/** Validates and completes retry options. */
export function retryPolicy(options: RetryOptions | undefined): RetryPolicy {
  const count = options?.count ?? 3
  const backoffMs = options?.backoffMs ?? 250
  const maxBackoffMs = options?.maxBackoffMs ?? 10_000
  if (!Number.isInteger(count) || count < 0)
    throw new InvalidArgumentError('retries.count must be an integer >= 0')
  for (const [name, v] of [
    ['retries.backoffMs', backoffMs],
    ['retries.maxBackoffMs', maxBackoffMs],
  ] as const) {
    if (!Number.isFinite(v) || v < 0) throw new InvalidArgumentError(`${name} must be a number >= 0`)
  }
  return { count, backoffMs, maxBackoffMs }
}

/** Delay before retry number `retry` (0-based): `backoffMs · 2^retry`, capped at `maxBackoffMs`. */
export function backoffDelay(policy: RetryPolicy, retry: number): number {
  return Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** retry)
}
