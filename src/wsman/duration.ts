/**
 * `xs:duration` values as WS-Management uses them: `wsman:OperationTimeout` (DSP0226), the shell
 * `IdleTimeOut` and `Lifetime` (MS-WSMV 2.2.4.37) and the times in a shell description
 * (`ShellRunTime` `P0DT0H0M9S`, `MaxIdleTimeOut` `PT2147483.647S`).
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'

/**
 * Formats seconds as `PT<seconds>.<milliseconds>S`, the form WinRM itself writes (`PT20.000S`).
 * Throws {@link InvalidArgumentError} for negative, non-finite or sub-millisecond values.
 */
export function formatDuration(seconds: number, what = 'duration'): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidArgumentError(`${what} must be a finite number of seconds >= 0, got ${seconds}`)
  }
  const ms = Math.round(seconds * 1000)
  if (Math.abs(ms - seconds * 1000) > 1e-6 * Math.max(1, ms)) {
    throw new InvalidArgumentError(`${what} has more precision than milliseconds: ${seconds}`)
  }
  return `PT${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}S`
}

const DURATION = /^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

/**
 * Parses an `xs:duration` into seconds, or `undefined` when the text is not one. Years and months
 * count as 365 and 30 days (WS-Management never sends them; the approximation only avoids a throw).
 */
export function parseDuration(text: string): number | undefined {
  const t = text.trim()
  const m = DURATION.exec(t)
  if (m === null || t === 'P' || t.endsWith('T')) return undefined
  const n = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]))
  const seconds = ((n(2) * 365 + n(3) * 30 + n(4)) * 24 + n(5)) * 3600 + n(6) * 60 + n(7)
  return m[1] === '-' ? -seconds : seconds
}
