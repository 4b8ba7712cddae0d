import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  deserialize,
  serialize,
  PSByte,
  PSChar,
  PSDateTime,
  PSDecimal,
  PSDouble,
  PSGuid,
  PSInt16,
  PSSByte,
  PSScriptBlock,
  PSSecureString,
  PSSingle,
  PSTimeSpan,
  PSUInt16,
  PSUInt32,
  PSUInt64,
  PSUri,
  PSVersion,
  PSXmlDocument,
  formatDouble,
} from '../../../src/clixml/index.ts'
import { ClixmlError } from '../../../src/errors.ts'
import fc from 'fast-check'

test('every primitive element deserializes to its JS type and serializes back to the same element', () => {
  const cases: [string, (v: unknown) => void][] = [
    ['<S>abc</S>', (v) => assert.equal(v, 'abc')],
    ['<S></S>', (v) => assert.equal(v, '')],
    ['<C>97</C>', (v) => assert.ok(v instanceof PSChar && v.toString() === 'a')],
    ['<B>true</B>', (v) => assert.equal(v, true)],
    ['<B>false</B>', (v) => assert.equal(v, false)],
    [
      '<DT>2008-04-11T10:42:32.2731993-07:00</DT>',
      (v) => assert.ok(v instanceof PSDateTime && v.kind === 'local'),
    ],
    ['<TS>PT9.0269026S</TS>', (v) => assert.ok(v instanceof PSTimeSpan && v.ticks === 90269026n)],
    ['<By>255</By>', (v) => assert.ok(v instanceof PSByte && v.value === 255)],
    ['<SB>-128</SB>', (v) => assert.ok(v instanceof PSSByte && v.value === -128)],
    ['<U16>65535</U16>', (v) => assert.ok(v instanceof PSUInt16)],
    ['<I16>-32768</I16>', (v) => assert.ok(v instanceof PSInt16)],
    ['<U32>4294967295</U32>', (v) => assert.ok(v instanceof PSUInt32)],
    ['<I32>-2147483648</I32>', (v) => assert.equal(v, -2147483648)],
    [
      '<U64>18446744073709551615</U64>',
      (v) => assert.ok(v instanceof PSUInt64 && v.value === 18446744073709551615n),
    ],
    ['<I64>9223372036854775807</I64>', (v) => assert.equal(v, 9223372036854775807n)],
    ['<Sg>1.5</Sg>', (v) => assert.ok(v instanceof PSSingle && v.value === 1.5)],
    ['<Db>1.5</Db>', (v) => assert.equal(v, 1.5)],
    ['<Db>3</Db>', (v) => assert.ok(v instanceof PSDouble && v.value === 3)],
    ['<Db>1E+300</Db>', (v) => assert.equal(v, 1e300)],
    ['<Db>INF</Db>', (v) => assert.equal(v, Infinity)],
    ['<Db>NaN</Db>', (v) => assert.ok(Number.isNaN(v))],
    [
      '<D>79228162514264337593543950335</D>',
      (v) => assert.ok(v instanceof PSDecimal && v.value === '79228162514264337593543950335'),
    ],
    ['<BA>AQID</BA>', (v) => assert.deepEqual(v, Uint8Array.from([1, 2, 3]))],
    ['<G>792e5b37-4505-47ef-b7d2-8711bb7affa8</G>', (v) => assert.ok(v instanceof PSGuid)],
    ['<URI>http://www.microsoft.com/</URI>', (v) => assert.ok(v instanceof PSUri)],
    [
      '<Version>6.2.1.3</Version>',
      (v) => assert.ok(v instanceof PSVersion && v.major === 6 && v.minor === 2),
    ],
    ['<XD>&lt;a&gt;b&lt;/a&gt;</XD>', (v) => assert.ok(v instanceof PSXmlDocument && v.value === '<a>b</a>')],
    ['<SBK>Get-Command -Name Get-Process</SBK>', (v) => assert.ok(v instanceof PSScriptBlock)],
    ['<SS>AQID</SS>', (v) => assert.ok(v instanceof PSSecureString && !v.hasPlaintext)],
    ['<Nil />', (v) => assert.equal(v, null)],
  ]
  for (const [xml, check] of cases) {
    const v = deserialize(xml)
    check(v)
    const again = serialize(v)
    assert.equal(again.replace('<S />', '<S></S>'), xml, `round trip of ${xml}`)
  }
})

test('DateTime keeps ticks, kind and offset; UTC and unspecified forms; trailing zeros trimmed like .NET', () => {
  const local = PSDateTime.parse('2008-04-11T10:42:32.2731993-07:00')
  assert.equal(local.offsetMinutes, -420)
  assert.equal(local.toString(), '2008-04-11T10:42:32.2731993-07:00')
  assert.equal(local.toDate().toISOString(), '2008-04-11T17:42:32.273Z')
  const utc = PSDateTime.parse('2024-02-29T23:59:59.5Z')
  assert.equal(utc.kind, 'utc')
  assert.equal(utc.toString(), '2024-02-29T23:59:59.5Z')
  assert.equal(PSDateTime.parse('0001-01-01T00:00:00').ticks, 0n)
  assert.equal(PSDateTime.parse('9999-12-31T23:59:59.9999999').ticks, 3155378975999999999n)
  assert.equal(PSDateTime.parse('1970-01-01T00:00:00Z').ticks, 621355968000000000n)
  const d = new Date('2021-06-01T12:34:56.789Z')
  assert.equal(PSDateTime.from(d).toString(), '2021-06-01T12:34:56.789Z')
  assert.equal(serialize(d), '<DT>2021-06-01T12:34:56.789Z</DT>')
  assert.throws(() => PSDateTime.parse('2023-02-29T00:00:00'), ClixmlError)
  assert.throws(() => PSDateTime.parse('yesterday'), ClixmlError)
})

test('DateTime calendar arithmetic agrees with the JS Date calendar over the whole range, both ways', () => {
  // the reference: the proleptic Gregorian calendar of Date, from day counts since 0001-01-01
  const dayMs = 86_400_000
  const epochDays = 719162
  const reference = (days: number, secondOfDay: number, fraction: number): string => {
    const dt = new Date((days - epochDays) * dayMs + secondOfDay * 1000)
    const year = String(dt.getUTCFullYear()).padStart(4, '0')
    const rest = dt.toISOString().slice(dt.toISOString().indexOf('-', 1) + 1, 19)
    const frac = fraction === 0 ? '' : '.' + String(fraction).padStart(7, '0').replace(/0+$/, '')
    return `${year}-${rest}${frac}`
  }
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 3652058 }), // 0001-01-01 to 9999-12-31
      fc.integer({ min: 0, max: 86399 }),
      fc.integer({ min: 0, max: 9_999_999 }),
      (days, secondOfDay, fraction) => {
        const ticks = (BigInt(days) * 86400n + BigInt(secondOfDay)) * 10_000_000n + BigInt(fraction)
        const text = reference(days, secondOfDay, fraction)
        assert.equal(new PSDateTime(ticks).toString(), text)
        assert.equal(PSDateTime.parse(text).ticks, ticks)
      },
    ),
    { numRuns: 5000 },
  )
  // month lengths: the last day of each month reads, the day after is refused
  for (const [ym, last] of [
    ['2023-02', 28],
    ['2024-02', 29],
    ['1900-02', 28],
    ['2000-02', 29],
    ['2024-04', 30],
    ['2024-12', 31],
  ] as const) {
    assert.equal(PSDateTime.parse(`${ym}-${last}T00:00:00`).toString(), `${ym}-${last}T00:00:00`)
    assert.throws(() => PSDateTime.parse(`${ym}-${last + 1}T00:00:00`), ClixmlError)
  }
  // the form: fraction digits past the seventh are read and dropped; a zone is Z or ±hh:mm at the end
  assert.equal(
    PSDateTime.parse(' 2024-01-02T03:04:05.123456789Z ').toString(),
    '2024-01-02T03:04:05.1234567Z',
  )
  assert.equal(PSDateTime.parse('2024-01-02T03:04:05+05:30').offsetMinutes, 330)
  for (const bad of [
    '2024-01-02T03:04:05.',
    '2024-01-02T03:04:05Z+01:00',
    '2024-01-02T03:04:05+0530',
    '2024-01-02 03:04:05',
    '2024-1-02T03:04:05',
    '0000-01-01T00:00:00',
    '2024-01-02T24:00:00',
    '2024-01-02T03:04:05Zx',
    '２024-01-02T03:04:05',
  ]) {
    assert.throws(() => PSDateTime.parse(bad), ClixmlError, bad)
  }
})

test('Guid text in any accepted form reads as the canonical lower-case form', () => {
  const canonical = '6e2f4cc5-3bd8-4a4a-9d52-27e5b0f0a6c1'
  for (const form of [
    canonical,
    canonical.toUpperCase(),
    `{${canonical}}`,
    canonical.replaceAll('-', ''),
    ` ${canonical} `,
  ]) {
    assert.equal(new PSGuid(form).value, canonical, form)
  }
  assert.throws(() => new PSGuid(canonical.slice(0, 35) + 'g'), ClixmlError)
  assert.throws(() => new PSGuid(canonical.slice(0, 8) + '+' + canonical.slice(9)), ClixmlError)
})

test('TimeSpan uses .NET xs:duration text', () => {
  assert.equal(new PSTimeSpan(0n).toString(), 'PT0S')
  assert.equal(new PSTimeSpan(864_000_000_000n + 36_000_000_000n * 2n + 5n).toString(), 'P1DT2H0.0000005S')
  assert.equal(new PSTimeSpan(-600_000_000n).toString(), '-PT1M')
  assert.equal(
    PSTimeSpan.parse('-P1DT2H3M4.5S').ticks,
    -(864_000_000_000n + 72_000_000_000n + 1_800_000_000n + 45_000_000n),
  )
  assert.throws(() => PSTimeSpan.parse('PT'), ClixmlError)
})

test('doubles use .NET round-trip notation', () => {
  assert.equal(formatDouble(0.1), '0.1')
  assert.equal(formatDouble(1e-5), '1E-05')
  assert.equal(formatDouble(123456789012345), '123456789012345')
  assert.equal(formatDouble(1e16), '10000000000000000')
  assert.equal(formatDouble(1e17), '1E+17')
  assert.equal(formatDouble(0.0001), '0.0001')
  assert.equal(formatDouble(Number('12345678901234567890')), '1.2345678901234567E+19')
  assert.equal(formatDouble(5e-324), '5E-324')
  assert.equal(formatDouble(-1.5e-7), '-1.5E-07') // values checked against pwsh 7.6 [double]::ToString('R')
  assert.equal(serialize(1.5), '<Db>1.5</Db>')
  assert.equal(serialize(2 ** 31), '<Db>2147483648</Db>')
  // around the bounds of plain notation (1e-4 and 1e17), the neighbouring doubles on each side
  const reference = (v: number): string => {
    const exp = v.toExponential()
    const power = Number(exp.slice(exp.indexOf('e') + 1))
    if (power >= 17 || power < -4) {
      const mantissa = exp.slice(0, exp.indexOf('e')).toUpperCase()
      return `${mantissa}E${power < 0 ? '-' : '+'}${String(Math.abs(power)).padStart(2, '0')}`
    }
    return String(v)
  }
  for (const bound of [1e-4, 1e17]) {
    for (let k = -50; k <= 50; k++) {
      const v = bound * (1 + k * 2 ** -52)
      assert.equal(formatDouble(v), reference(v), String(v))
      assert.equal(formatDouble(-v), reference(-v), String(-v))
    }
  }
  assert.equal(formatDouble(99999999999999980), '99999999999999980')
  assert.equal(formatDouble(0.00009999999999999999), '9.999999999999999E-05')
})

test('out-of-range and malformed primitives give ClixmlError naming the element', () => {
  for (const xml of [
    '<I32>2147483648</I32>',
    '<By>256</By>',
    '<I64>1.5</I64>',
    '<B>yes</B>',
    '<G>nope</G>',
    '<BA>!!</BA>',
    '<Db>abc</Db>',
    '<Version>x</Version>',
  ]) {
    assert.throws(
      () => deserialize(xml),
      (e: unknown) => e instanceof ClixmlError && e.path !== undefined && e.offset !== undefined,
      xml,
    )
  }
  assert.throws(() => new PSByte(300), ClixmlError)
  assert.throws(() => serialize(2n ** 64n), ClixmlError)
})

test('SecureString is encrypted with the session cipher and decrypted on the way back; never printed', () => {
  const cipher = {
    encrypt: (p: Uint8Array) => p.map((b) => b ^ 0x5a),
    decrypt: (c: Uint8Array) => c.map((b) => b ^ 0x5a),
  }
  const xml = serialize(new PSSecureString('s3cr3t'), { cipher })
  assert.match(xml, /^<SS>[A-Za-z0-9+/=]+<\/SS>$/)
  assert.ok(!xml.includes('s3cr3t'))
  const back = deserialize(xml, { cipher }) as PSSecureString
  assert.equal(back.reveal(), 's3cr3t')
  assert.equal(String(back), 'System.Security.SecureString')
  assert.equal(JSON.stringify({ back }), '{"back":"System.Security.SecureString"}')
  assert.throws(() => serialize(new PSSecureString('x')), ClixmlError)
})
