/**
 * Hostile input to the CLI's own parsers costs time and memory linear in its size: `psrp run --json`
 * (`toJsonLine` over deserialized graphs with shared references, cycles and base-value chains) and
 * `psrp decode` (input detection and base64 extraction over XML, hex and base64 lines). Each shape is
 * run at n, 2n and 4n with `assertLinear` (`measure.ts`: 4n may cost at most 6 times n, and no input
 * under 1 MB may take over a second).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { deserialize, PSObject } from '../../../src/clixml/index.ts'
import { toJsonLine } from '../../../src/cli/json.ts'
import { dissect, findBlobs } from '../../../src/cli/decode.ts'
import { PsrpError } from '../../../src/errors.ts'
import { assertLinear } from './measure.ts'

/** A list of n lists, each holding the previous one twice (2^n items if expanded). */
function doublingRefs(n: number): string {
  const parts = ['<Obj RefId="top"><LST><Obj RefId="0"><LST><S>x</S></LST></Obj>']
  for (let i = 1; i < n; i++) {
    parts.push(`<Obj RefId="${i}"><LST><Ref RefId="${i - 1}" /><Ref RefId="${i - 1}" /></LST></Obj>`)
  }
  parts.push('</LST></Obj>')
  return parts.join('')
}

/** Runs `fn`, accepting a PsrpError (hostile input may be refused, but in linear time). */
function orPsrpError<T>(fn: (input: T) => unknown): (input: T) => unknown {
  return (input) => {
    try {
      return fn(input)
    } catch (err) {
      if (err instanceof PsrpError) return err
      throw err
    }
  }
}

describe('psrp run --json', () => {
  test('lists that each hold the previous one twice are written once each (was 2^n)', () => {
    // 20 levels (1.3 KB of CLIXML) took 13.5 s and wrote 8 MB; now under a millisecond and 1 KB
    const s = assertLinear('json doubling refs', (n) => deserialize(doublingRefs(n)), toJsonLine, {
      n: 1000,
    })
    const line = toJsonLine(deserialize(doublingRefs(4 * s.n)))
    assert.ok(line.length < 4 * s.n * 80, `${line.length} chars of JSON for ${4 * s.n} levels`)
  })

  test('self references, one object shared by many, chains of base values, wide objects', () => {
    const selfRefs = (n: number): unknown[] =>
      deserialize(
        `<Obj RefId="top"><LST>${Array.from({ length: n }, (_, i) => `<Obj RefId="s${i}"><LST><Ref RefId="s${i}" /></LST></Obj>`).join('')}</LST></Obj>`,
      ) as unknown[]
    assertLinear('json self refs', selfRefs, toJsonLine, { n: 2000 })
    // one object with a long ToString referenced from n places
    const manyRefs = (n: number): unknown =>
      deserialize(
        `<Obj RefId="top"><LST><Obj RefId="big"><ToString>${'t'.repeat(100_000)}</ToString><MS><S N="a">b</S></MS></Obj>${'<Ref RefId="big" />'.repeat(n)}</LST></Obj>`,
      )
    assertLinear('json one object, many refs', manyRefs, toJsonLine, { n: 2000 })
    // each object's base value is the previous one
    const chain = (n: number): PSObject[] => {
      const out: PSObject[] = [new PSObject({ baseValue: 'end' })]
      for (let i = 1; i < n; i++) out.push(new PSObject({ baseValue: out[i - 1] }))
      return out
    }
    assertLinear('json base chain', chain, toJsonLine, { n: 2000 })
    const wide = (n: number): PSObject =>
      new PSObject({
        extended: Array.from({ length: n }, (_, i) => [`p${i}`, [i, `v${i}`]] as [string, unknown]),
      })
    assertLinear('json wide object', wide, toJsonLine, { n: 5000 })
  })
})

describe('psrp decode', () => {
  const find = orPsrpError(findBlobs)
  test("repeated <Stream Name='stdout' without '>' (22 KB took 10.4 s)", () => {
    assertLinear(
      'decode Stream attributes',
      (n) => `<s:Envelope>${"<Stream Name='stdout' ".repeat(n)}`,
      find,
      {
        n: 1000,
      },
    )
    assertLinear(
      'decode Stream attributes, > at the end',
      (n) => `<s:Envelope>${"<Stream Name='stdout' ".repeat(n)}>AAAA<`,
      find,
      { n: 1000 },
    )
    assertLinear('decode one long tag', (n) => `<rsp:Stream ${"Name='stdout' ".repeat(n)}`, find, { n: 2000 })
    assertLinear('decode unterminated quotes', (n) => `<rsp:Stream ${"a='".repeat(n)}>AAAA<`, find, {
      n: 2000,
    })
  })

  test('many unterminated tags of every kind, and data without a following <', () => {
    for (const tag of ['<creationXml', '<p:connectXml ', '<rsp:Arguments', '<Data Stream="Default"', '<x']) {
      assertLinear(`decode unterminated ${tag}`, (n) => `<s:Envelope>${`${tag} `.repeat(n)}`, find, {
        n: 2000,
      })
    }
    assertLinear('decode data to the end', (n) => `<creationXml>${'A'.repeat(n * 100)}`, find, { n: 1000 })
    assertLinear('decode many empty elements', (n) => `<a>${'<creationXml></creationXml>'.repeat(n)}`, find, {
      n: 2000,
    })
    assertLinear('decode :Envelope without <', (n) => `x${'a:Envelope'.repeat(n)}`, find, { n: 2000 })
  })

  test('long base64 and hex with a bad character at the end; very long lines', () => {
    const b64 = (n: number): string => 'QUFB'.repeat(n)
    assertLinear('decode base64 line, bad end', (n) => `${b64(n)}!`, find, { n: 5000 })
    assertLinear('decode creationXml base64, bad end', (n) => `<creationXml>${b64(n)}!</creationXml>`, find, {
      n: 5000,
    })
    assertLinear('decode base64 with spaces, bad end', (n) => `${'QU FB '.repeat(n)}!`, find, { n: 5000 })
    assertLinear('decode hex, bad end', (n) => `${'0a '.repeat(n)}zz`, find, { n: 5000 })
    assertLinear(
      'decode many lines',
      (n) => 'AAAA\n'.repeat(n),
      orPsrpError((x: string) => dissect(x)),
      {
        n: 2000,
      },
    )
  })
})
