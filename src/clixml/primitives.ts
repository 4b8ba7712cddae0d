/**
 * Typed wrappers for the CLIXML primitive types that JavaScript has no exact native for
 * (MS-PSRP 2.2.5.1). Plain JS values cover S (string), B (boolean), I32/Db (number), I64 (bigint),
 * BA (Uint8Array) and Nil (null); everything else is one of these small classes so that a
 * deserialized value re-serializes to the same element.
 *
 * @module
 */
import { ClixmlError } from '../errors.ts'

/** Common shape of the numeric wrappers: usable in arithmetic through `valueOf`. */
abstract class NumericValue {
  /** The numeric value. */
  abstract readonly value: number
  /** The number, so `wrapper + 1` works. */
  valueOf(): number {
    return this.value
  }
  /** Serializes to the plain number. */
  toJSON(): number {
    return this.value
  }
  /** Decimal text of the value. */
  toString(): string {
    return String(this.value)
  }
}

function checkInteger(type: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ClixmlError(`${type} value ${String(value)} is out of range ${min}..${max}`)
  }
  return value
}

/** `System.Byte` (`<By>`, MS-PSRP 2.2.5.1.5): unsigned 8-bit integer. */
export class PSByte extends NumericValue {
  readonly value: number
  constructor(value: number) {
    super()
    this.value = checkInteger('Byte', value, 0, 0xff)
  }
}

/** `System.SByte` (`<SB>`, MS-PSRP 2.2.5.1.6): signed 8-bit integer. */
export class PSSByte extends NumericValue {
  readonly value: number
  constructor(value: number) {
    super()
    this.value = checkInteger('SByte', value, -0x80, 0x7f)
  }
}

/** `System.Int16` (`<I16>`, MS-PSRP 2.2.5.1.8). */
export class PSInt16 extends NumericValue {
  readonly value: number
  constructor(value: number) {
    super()
    this.value = checkInteger('Int16', value, -0x8000, 0x7fff)
  }
}

/** `System.UInt16` (`<U16>`, MS-PSRP 2.2.5.1.7). */
export class PSUInt16 extends NumericValue {
  readonly value: number
  constructor(value: number) {
    super()
    this.value = checkInteger('UInt16', value, 0, 0xffff)
  }
}

/** `System.UInt32` (`<U32>`, MS-PSRP 2.2.5.1.9). */
export class PSUInt32 extends NumericValue {
  readonly value: number
  constructor(value: number) {
    super()
    this.value = checkInteger('UInt32', value, 0, 0xffffffff)
  }
}

/** `System.Single` (`<Sg>`, MS-PSRP 2.2.5.1.13): 32-bit float. */
export class PSSingle extends NumericValue {
  readonly value: number
  constructor(value: number) {
    super()
    this.value = value
  }
}

/**
 * Formats a `System.Single` as PowerShell writes it (`XmlConvert.ToString(float)`, i.e. .NET Core's
 * round-trip `ToString("R")`): the value is first rounded to float32, then written with the fewest
 * significant digits that read back as the same float32, in E notation (`1E+09`, `1.1754944E-38`) when
 * the decimal exponent is ≥ 9 or ≤ -5 (a Double switches at 17); `NaN`, `INF`, `-INF` and `-0` as XML
 * Schema spells them.
 */
export function formatSingle(v: number): string {
  const f = Math.fround(v)
  if (f !== f) return 'NaN'
  if (f === Infinity) return 'INF'
  if (f === -Infinity) return '-INF'
  if (f === 0) return Object.is(f, -0) ? '-0' : '0'
  const { digits, power } = shortestSingleDigits(Math.abs(f))
  const sign = f < 0 ? '-' : ''
  if (power >= 9 || power < -4) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${sign}${mantissa}E${power < 0 ? '-' : '+'}${String(Math.abs(power)).padStart(2, '0')}`
  }
  if (power < 0) return `${sign}0.${'0'.repeat(-power - 1)}${digits}`
  if (digits.length <= power + 1) return `${sign}${digits}${'0'.repeat(power + 1 - digits.length)}`
  return `${sign}${digits.slice(0, power + 1)}.${digits.slice(power + 1)}`
}

const singleBits = new DataView(new ArrayBuffer(4))

/** Significant digits (no trailing zeros) and the decimal exponent of the first one. */
interface Digits {
  digits: string
  power: number
}

/**
 * The shortest decimal that reads back as the positive float32 `f` (round-half-even, so a decimal
 * exactly on the rounding boundary counts when f's mantissa is even); among equally short ones the
 * nearest to f, and of two equally near the one with an even last digit. This is what .NET's shortest
 * round-trip formatting of `float` produces (checked against PowerShell 7.6.9 on 120 000 values).
 */
function shortestSingleDigits(f: number): Digits {
  singleBits.setFloat32(0, f)
  const bits = singleBits.getUint32(0)
  const biased = (bits >>> 23) & 0xff
  const mantissa = biased === 0 ? bits & 0x7fffff : (bits & 0x7fffff) | 0x800000
  const e2 = biased === 0 ? -149 : biased - 150 // f = mantissa · 2^e2
  const powerOfTwo = mantissa === 0x800000 && biased > 1 // its lower neighbour is closer
  if (!powerOfTwo) {
    // Fast path in doubles. The boundaries f ± 2^e2/2 are exact doubles, and Number() rounds
    // correctly and monotonically, so a strict comparison with them is exact. The nearest p-digit
    // decimal comes from one correctly rounded 21-digit expansion, except when the digits after the
    // p-th read exactly 5000…: f may be halfway, which (like a candidate that lands on a boundary)
    // goes to the exact path.
    const half = 2 ** (e2 - 1)
    const lo = f - half
    const hi = f + half
    const exp = f.toExponential(20)
    const e = exp.indexOf('e')
    const all = exp[0] + exp.slice(2, e) // 21 significant digits
    const power = Number(exp.slice(e + 1))
    for (let p = 1; p <= 9; p++) {
      const next = all.charCodeAt(p) - 0x30
      if (next === 5 && ZEROS.test(all.slice(p + 1))) break
      const n = Number(all.slice(0, p)) + (next >= 5 ? 1 : 0)
      const d = Number(`${n}e${power - p + 1}`)
      if (d === lo || d === hi) break
      if (d > lo && d < hi) {
        const text = String(n) // p digits, or p + 1 when rounding carried into a new one (10…0)
        return { digits: text.replace(TRAILING_ZEROS, ''), power: power + text.length - p }
      }
    }
  }
  return exactShortestSingleDigits(f, mantissa, e2, powerOfTwo)
}

const ZEROS = /^0*$/
const TRAILING_ZEROS = /0+$/

/**
 * {@link shortestSingleDigits} in exact arithmetic: the float, its rounding boundaries and the
 * candidates are compared as integers scaled to a common denominator.
 */
function exactShortestSingleDigits(f: number, mantissa: number, e2: number, powerOfTwo: boolean): Digits {
  // in units of 2^(e2-2): f = 4·mantissa, the upper boundary 2 away, the lower 2 (or 1 below a power of two)
  const value = 4n * BigInt(mantissa)
  const highGap = 2n
  const lowGap = powerOfTwo ? 1n : 2n
  const inclusive = (mantissa & 1) === 0
  const u2 = e2 - 2
  const twos = u2 >= 0 ? 2n ** BigInt(u2) : 1n
  const twoDen = u2 < 0 ? 2n ** BigInt(-u2) : 1n
  // a decimal exponent above f's leading digit (one more than needed, so a log10 rounding error can't
  // skip a candidate); each step makes the candidates one digit finer, so the first step that has one
  // gives the fewest significant digits
  const top = Math.floor(Math.log10(f)) + 2
  for (let p = 1; p <= 12; p++) {
    const exp10 = top - p
    // everything times 2^max(0,-u2) · 10^max(0,-exp10), so that it is an integer
    const tens = exp10 >= 0 ? 10n ** BigInt(exp10) : 1n
    const tenDen = exp10 < 0 ? 10n ** BigInt(-exp10) : 1n
    const F = value * twos * tenDen
    const unit = tens * twoDen
    const n0 = F / unit
    let best: bigint | undefined
    let bestDist = 0n
    for (const n of [n0, n0 + 1n]) {
      if (n <= 0n) continue
      const diff = n * unit - F
      const dist = diff < 0n ? -diff : diff
      const gap = (diff < 0n ? lowGap : highGap) * twos * tenDen
      if (dist > gap || (dist === gap && !inclusive)) continue
      if (best === undefined || dist < bestDist || (dist === bestDist && n % 2n === 0n)) {
        best = n
        bestDist = dist
      }
    }
    if (best !== undefined) {
      const text = best.toString()
      return { digits: text.replace(TRAILING_ZEROS, ''), power: exp10 + text.length - 1 }
    }
  }
  // unreachable: 9 significant digits always identify a float32
  throw new ClixmlError(`no round-trip digits for Single ${f}`)
}

/**
 * `System.Double` (`<Db>`, MS-PSRP 2.2.5.1.14) holding an integral value. Non-integral doubles are
 * plain JS numbers; an integral double deserializes to this class so it re-serializes as `<Db>`.
 */
export class PSDouble extends NumericValue {
  readonly value: number
  constructor(value: number) {
    super()
    this.value = value
  }
}

/** `System.UInt64` (`<U64>`, MS-PSRP 2.2.5.1.12). */
export class PSUInt64 {
  readonly value: bigint
  constructor(value: bigint | number) {
    const v = BigInt(value)
    if (v < 0n || v > 0xffffffffffffffffn) throw new ClixmlError(`UInt64 value ${v} is out of range`)
    this.value = v
  }
  /** The bigint value. */
  valueOf(): bigint {
    return this.value
  }
  /** JSON has no 64-bit integers: the decimal string. */
  toJSON(): string {
    return this.value.toString()
  }
  /** Decimal text of the value. */
  toString(): string {
    return this.value.toString()
  }
}

/**
 * Decimal text. Each run of digits can be matched one way only (`\d+(?:\.\d*)?`, not `\d+\.?\d*`,
 * whose two digit runs could split a digit string at every position), so a long string of digits that
 * fails at its end is rejected in linear, not quadratic, time.
 */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/** `System.Decimal` (`<D>`, MS-PSRP 2.2.5.1.15): kept as its exact decimal text. */
export class PSDecimal {
  /** Exact decimal text, e.g. `"79228162514264337593543950335"` or `"1.10"`. */
  readonly value: string
  constructor(value: string | number | bigint) {
    const text = typeof value === 'string' ? value.trim() : String(value)
    if (!DECIMAL.test(text)) throw new ClixmlError(`invalid Decimal ${JSON.stringify(text)}`)
    this.value = text
  }
  /** Nearest double (may lose precision). */
  valueOf(): number {
    return Number(this.value)
  }
  /** The exact text, so JSON keeps every digit. */
  toJSON(): string {
    return this.value
  }
  /** The exact decimal text. */
  toString(): string {
    return this.value
  }
}

/** `System.Char` (`<C>`, MS-PSRP 2.2.5.1.2): one UTF-16 code unit, distinct from a string. */
export class PSChar {
  /** The UTF-16 code unit (0–65535). */
  readonly value: number
  constructor(value: number | string) {
    const code = typeof value === 'string' ? value.charCodeAt(0) : value
    if (typeof value === 'string' && value.length !== 1)
      throw new ClixmlError('a Char is exactly one UTF-16 unit')
    this.value = checkInteger('Char', code, 0, 0xffff)
  }
  /** The character as a one-unit string. */
  toString(): string {
    return String.fromCharCode(this.value)
  }
  /** The character, as {@link toString} gives it. */
  toJSON(): string {
    return this.toString()
  }
}

/** .NET tick count of 1970-01-01T00:00:00Z. */
const UNIX_EPOCH_TICKS = 621355968000000000n
const TICKS_PER_MS = 10000n
const TICKS_PER_SECOND = 10_000_000n
const TICKS_PER_MINUTE = 600_000_000n
const TICKS_PER_HOUR = 36_000_000_000n
const TICKS_PER_DAY = 864_000_000_000n
const MAX_TICKS = 3155378975999999999n

/** `DateTimeKind` of a {@link PSDateTime}. */
export type DateTimeKind = 'utc' | 'local' | 'unspecified'

/** Days from 0001-01-01 to 1970-01-01. */
const EPOCH_DAYS = 719162
/** Days from 0000-03-01 to 1970-01-01 in the proleptic Gregorian calendar. */
const MARCH_EPOCH_DAYS = 719468

/** True for a leap year of the proleptic Gregorian calendar. */
function isLeapYear(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)
}

/** Days of month `m` (1–12) of year `y`. */
function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeapYear(y) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31
}

/**
 * Days since 0001-01-01 of a valid proleptic Gregorian date (year ≥ 1), by calendar arithmetic over
 * 400-year eras counted from March (H. Hinnant's `days_from_civil`).
 */
function daysFromCivil(y: number, m: number, d: number): number {
  const year = m <= 2 ? y - 1 : y
  const era = Math.floor(year / 400)
  const yearOfEra = year - era * 400
  const dayOfYear = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146097 + dayOfEra - MARCH_EPOCH_DAYS + EPOCH_DAYS
}

/** The date of a day count since 0001-01-01, packed as `year * 10000 + month * 100 + day` (no array). */
function civilFromDays(days: number): number {
  const z = days - EPOCH_DAYS + MARCH_EPOCH_DAYS
  const era = Math.floor(z / 146097)
  const dayOfEra = z - era * 146097
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) /
      365,
  )
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100))
  const mp = Math.floor((5 * dayOfYear + 2) / 153)
  const d = dayOfYear - Math.floor((153 * mp + 2) / 5) + 1
  const m = mp < 10 ? mp + 3 : mp - 9
  const y = yearOfEra + era * 400 + (m <= 2 ? 1 : 0)
  return y * 10000 + m * 100 + d
}

function pad(n: number | bigint, width: number): string {
  return String(n).padStart(width, '0')
}

/** `00` to `99`. */
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'))

/** The value of the ASCII digits `text[from, from + count)`, or -1 when one is not a digit. */
function digitsAt(text: string, from: number, count: number): number {
  let v = 0
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 0x30
    if (!(d >= 0 && d <= 9)) return -1
    v = v * 10 + d
  }
  return v
}

/** The 7 digits of a fraction of a second, ticks, without trailing zeros (`.5` for 5000000). */
function fractionText(frac: number): string {
  let width = 7
  while (frac % 10 === 0) {
    frac /= 10
    width--
  }
  return String(frac).padStart(width, '0')
}

/**
 * The DateTime of the .NET round-trip form `t` (`yyyy-MM-ddTHH:mm:ss`, then `.` and digits of which
 * the first 7 count, then `Z` or `±hh:mm`, each optional), or undefined when `t` is not that form or
 * not a date of the calendar.
 */
function parseDateTime(t: string): PSDateTime | undefined {
  const len = t.length
  if (len < 19 || t.charCodeAt(4) !== 0x2d || t.charCodeAt(7) !== 0x2d || t.charCodeAt(10) !== 0x54)
    return undefined
  if (t.charCodeAt(13) !== 0x3a || t.charCodeAt(16) !== 0x3a) return undefined
  const y = digitsAt(t, 0, 4)
  const mo = digitsAt(t, 5, 2)
  const d = digitsAt(t, 8, 2)
  const h = digitsAt(t, 11, 2)
  const mi = digitsAt(t, 14, 2)
  const s = digitsAt(t, 17, 2)
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return undefined
  let i = 19
  let frac = 0
  if (t.charCodeAt(i) === 0x2e /* . */) {
    const start = ++i
    while (i < len && t.charCodeAt(i) >= 0x30 && t.charCodeAt(i) <= 0x39) i++
    if (i === start) return undefined
    const used = Math.min(i - start, 7)
    frac = digitsAt(t, start, used) * 10 ** (7 - used)
  }
  let kind: DateTimeKind = 'unspecified'
  let offset = 0
  if (i < len) {
    const c = t.charCodeAt(i)
    if (c === 0x5a /* Z */ && i + 1 === len) kind = 'utc'
    else if ((c === 0x2b || c === 0x2d) && i + 6 === len && t.charCodeAt(i + 3) === 0x3a) {
      const oh = digitsAt(t, i + 1, 2)
      const om = digitsAt(t, i + 4, 2)
      if (oh < 0 || om < 0) return undefined
      kind = 'local'
      offset = (c === 0x2d ? -1 : 1) * (oh * 60 + om)
    } else return undefined
  }
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59 || y < 1)
    return undefined
  const seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
  return new PSDateTime(BigInt(seconds) * TICKS_PER_SECOND + BigInt(frac), kind, offset)
}

/**
 * `System.DateTime` (`<DT>`, MS-PSRP 2.2.5.1.4) without losing precision: 100-ns ticks since
 * 0001-01-01 in the value's own clock, its kind, and for `local` values the UTC offset it was
 * written with.
 */
export class PSDateTime {
  /** 100-ns ticks since 0001-01-01T00:00:00 in the value's own clock (wall time for local). */
  readonly ticks: bigint
  /** UTC, local (with {@link offsetMinutes}) or unspecified. */
  readonly kind: DateTimeKind
  /** For `local`: the offset from UTC in minutes as written (e.g. -420 for -07:00); else 0. */
  readonly offsetMinutes: number

  constructor(ticks: bigint, kind: DateTimeKind = 'unspecified', offsetMinutes = 0) {
    if (ticks < 0n || ticks > MAX_TICKS) throw new ClixmlError(`DateTime ticks ${ticks} out of range`)
    this.ticks = ticks
    this.kind = kind
    this.offsetMinutes = kind === 'local' ? offsetMinutes : 0
  }

  /** A UTC DateTime from a JS Date (millisecond precision). */
  static from(date: Date): PSDateTime {
    const ms = date.getTime()
    if (Number.isNaN(ms)) throw new ClixmlError('invalid Date')
    return new PSDateTime(BigInt(ms) * TICKS_PER_MS + UNIX_EPOCH_TICKS, 'utc')
  }

  /** Parses the .NET round-trip form (`2008-04-11T10:42:32.2731993-07:00`, `…Z`, or no suffix). */
  static parse(text: string): PSDateTime {
    const parsed = parseDateTime(text.trim())
    if (parsed === undefined) throw new ClixmlError(`invalid DateTime ${JSON.stringify(text)}`)
    return parsed
  }

  /** Ticks of the same instant in UTC (unspecified values are taken as UTC). */
  get utcTicks(): bigint {
    return this.ticks - BigInt(this.offsetMinutes) * TICKS_PER_MINUTE
  }

  /** The instant as a JS Date (sub-millisecond ticks are truncated). */
  toDate(): Date {
    return new Date(Number((this.utcTicks - UNIX_EPOCH_TICKS) / TICKS_PER_MS))
  }

  /** The .NET round-trip text, as `XmlConvert.ToString(value, RoundtripKind)` writes it. */
  toString(): string {
    // whole seconds (under 2^53) and the fraction as numbers: two bigint operations in all
    const seconds = Number(this.ticks / TICKS_PER_SECOND)
    const frac = Number(this.ticks % TICKS_PER_SECOND)
    const days = Math.floor(seconds / 86400)
    const rest = seconds - days * 86400
    const date = civilFromDays(days)
    const y = Math.floor(date / 10000)
    let text =
      (y >= 1000 ? String(y) : pad(y, 4)) +
      '-' +
      (TWO_DIGITS[Math.floor(date / 100) % 100] as string) +
      '-' +
      (TWO_DIGITS[date % 100] as string) +
      'T' +
      (TWO_DIGITS[Math.floor(rest / 3600)] as string) +
      ':' +
      (TWO_DIGITS[Math.floor(rest / 60) % 60] as string) +
      ':' +
      (TWO_DIGITS[rest % 60] as string)
    if (frac !== 0) text += '.' + fractionText(frac)
    if (this.kind === 'utc') text += 'Z'
    else if (this.kind === 'local') {
      const o = Math.abs(this.offsetMinutes)
      text += `${this.offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(o / 60), 2)}:${pad(o % 60, 2)}`
    }
    return text
  }

  /** ISO text, like {@link toString}. */
  toJSON(): string {
    return this.toString()
  }
}

const DURATION = /^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:\.(\d+))?S)?)?$/

/** `System.TimeSpan` (`<TS>`, MS-PSRP 2.2.5.1.16): a signed tick count, written as an xs:duration. */
export class PSTimeSpan {
  /** 100-ns ticks (may be negative). */
  readonly ticks: bigint
  constructor(ticks: bigint) {
    this.ticks = ticks
  }

  /** A TimeSpan from milliseconds. */
  static fromMilliseconds(ms: number): PSTimeSpan {
    return new PSTimeSpan(BigInt(Math.round(ms * 10000)))
  }

  /** Parses an xs:duration such as `PT9.0269026S` or `-P1DT2H`. */
  static parse(text: string): PSTimeSpan {
    const m = DURATION.exec(text.trim())
    if (m === null || text.trim().endsWith('T') || text.trim() === 'P' || text.trim() === '-P') {
      throw new ClixmlError(`invalid TimeSpan ${JSON.stringify(text)}`)
    }
    const n = (i: number): bigint => BigInt(m[i] ?? '0')
    let ticks =
      n(2) * 365n * TICKS_PER_DAY +
      n(3) * 30n * TICKS_PER_DAY +
      n(4) * TICKS_PER_DAY +
      n(5) * TICKS_PER_HOUR +
      n(6) * TICKS_PER_MINUTE +
      n(7) * TICKS_PER_SECOND
    if (m[8] !== undefined) ticks += BigInt(m[8].slice(0, 7).padEnd(7, '0'))
    return new PSTimeSpan(m[1] === '-' ? -ticks : ticks)
  }

  /** Total milliseconds (fractional). */
  get totalMilliseconds(): number {
    return Number(this.ticks) / 10000
  }

  /** The xs:duration text, as `XmlConvert.ToString(TimeSpan)` writes it. */
  toString(): string {
    let t = this.ticks < 0n ? -this.ticks : this.ticks
    const days = t / TICKS_PER_DAY
    t %= TICKS_PER_DAY
    const h = t / TICKS_PER_HOUR
    t %= TICKS_PER_HOUR
    const mi = t / TICKS_PER_MINUTE
    t %= TICKS_PER_MINUTE
    const s = t / TICKS_PER_SECOND
    const frac = t % TICKS_PER_SECOND
    let text = this.ticks < 0n ? '-P' : 'P'
    if (days !== 0n) text += `${days}D`
    if (h !== 0n || mi !== 0n || s !== 0n || frac !== 0n) {
      text += 'T'
      if (h !== 0n) text += `${h}H`
      if (mi !== 0n) text += `${mi}M`
      if (s !== 0n || frac !== 0n) {
        text += String(s)
        if (frac !== 0n) text += '.' + pad(frac, 7).replace(/0+$/, '')
        text += 'S'
      }
    }
    if (text === 'P' || text === '-P') text = 'PT0S'
    return text
  }

  /** The xs:duration text, as {@link toString} gives it. */
  toJSON(): string {
    return this.toString()
  }
}

const GUID =
  /^\{?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{12})\}?$/

/** True for a GUID in the canonical form already: 36 characters, lower-case hex digits and hyphens at 8, 13, 18, 23. */
function isCanonicalGuid(value: string): boolean {
  if (value.length !== 36) return false
  for (let i = 0; i < 36; i++) {
    const c = value.charCodeAt(i)
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 0x2d) return false
    } else if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false
  }
  return true
}

/** `System.Guid` (`<G>`, MS-PSRP 2.2.5.1.18). */
export class PSGuid {
  /** Canonical lower-case form with hyphens. */
  readonly value: string
  constructor(value: string) {
    if (isCanonicalGuid(value)) {
      this.value = value
      return
    }
    const m = GUID.exec(value.trim())
    if (m === null) throw new ClixmlError(`invalid Guid ${JSON.stringify(value)}`)
    this.value = `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}`.toLowerCase()
  }
  /** The lower-case GUID text. */
  toString(): string {
    return this.value
  }
  /** The same text as {@link toString}. */
  toJSON(): string {
    return this.value
  }
}

/** Base of the string-carrying wrappers. */
abstract class TextValue {
  readonly value: string
  constructor(value: string) {
    this.value = value
  }
  /** The text, as CLIXML carries it. */
  toString(): string {
    return this.value
  }
  /** The same text as {@link toString}. */
  toJSON(): string {
    return this.value
  }
}

/** `System.Uri` (`<URI>`, MS-PSRP 2.2.5.1.19). */
export class PSUri extends TextValue {}

/** `System.Xml.XmlDocument` (`<XD>`, MS-PSRP 2.2.5.1.21): the document text. */
export class PSXmlDocument extends TextValue {}

/** `System.Management.Automation.ScriptBlock` (`<SBK>`, MS-PSRP 2.2.5.1.22): the script text. */
export class PSScriptBlock extends TextValue {}

const VERSION = /^\d+\.\d+(?:\.\d+(?:\.\d+)?)?$/

/** `System.Version` (`<Version>`, MS-PSRP 2.2.5.1.20), e.g. `2.3` or `10.0.17763.1`. */
export class PSVersion extends TextValue {
  constructor(value: string) {
    if (!VERSION.test(value.trim())) throw new ClixmlError(`invalid Version ${JSON.stringify(value)}`)
    super(value.trim())
  }
  /** The numeric parts. */
  get parts(): number[] {
    return this.value.split('.').map(Number)
  }
  get major(): number {
    return this.parts[0] as number
  }
  get minor(): number {
    return this.parts[1] as number
  }
  /** Compares two versions: negative, zero or positive. */
  compare(other: PSVersion | string): number {
    const b = typeof other === 'string' ? new PSVersion(other).parts : other.parts
    const a = this.parts
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = (a[i] ?? -1) - (b[i] ?? -1)
      if (d !== 0) return d
    }
    return 0
  }
}

/**
 * `System.Security.SecureString` (`<SS>`, MS-PSRP 2.2.5.1.24). Carries the plaintext when it is known
 * (built by the caller, or received with a session cipher); a value received without a cipher keeps
 * the encrypted bytes so it re-serializes unchanged.
 */
export class PSSecureString {
  readonly #plaintext: string | undefined
  /** The encrypted bytes as received, when the plaintext is not known. */
  readonly encrypted: Uint8Array | undefined

  constructor(plaintext: string)
  constructor(plaintext: undefined, encrypted: Uint8Array)
  constructor(plaintext: string | undefined, encrypted?: Uint8Array) {
    this.#plaintext = plaintext
    this.encrypted = encrypted
  }

  /** True when the plaintext is known. */
  get hasPlaintext(): boolean {
    return this.#plaintext !== undefined
  }

  /** The secret. Throws when only the encrypted form is known. */
  reveal(): string {
    if (this.#plaintext === undefined)
      throw new ClixmlError('this SecureString was received without a session key')
    return this.#plaintext
  }

  /** Never prints the secret. */
  toString(): string {
    return 'System.Security.SecureString'
  }
  /** The type name, as {@link toString} gives it: never the secret. */
  toJSON(): string {
    return this.toString()
  }
}
