/**
 * Hostile CLIXML shapes cost time and memory linear in the input: the XML parsers (the tree parser and
 * the pull tokenizer), `deserialize`, `prettyClixml` and `serialize`, and the text of what they build. Each check runs
 * sizes n, 2n, 4n through {@link assertLinear} (4n may cost at most 6x n; no input under 1 MB over 1 s).
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { deserialize, prettyClixml, PSObject, serialize } from '../../../src/clixml/index.ts'
import { parseXml } from '../../../src/internal/xml.ts'
import { XmlReader, XmlToken } from '../../../src/internal/xml-reader.ts'
import { ClixmlError } from '../../../src/errors.ts'
import { assertLinear } from './measure.ts'

const error = (message: string, offset: number): Error => new ClixmlError(message, { offset })

/** Runs `fn`, accepting a ClixmlError (hostile input may be refused, but in linear time). */
function orClixmlError(fn: (xml: string) => unknown): (xml: string) => unknown {
  return (xml) => {
    try {
      return fn(xml)
    } catch (err) {
      if (err instanceof ClixmlError) return err
      throw err
    }
  }
}

function tokens(xml: string): number {
  const r = new XmlReader(xml, { error })
  let n = 0
  while (r.next() !== XmlToken.EndOfDocument) n++
  return n
}

const lst = (items: string): string => `<Obj RefId="0"><LST>${items}</LST></Obj>`

/** A list of n lists, each holding the previous one twice (2^n items if expanded). */
function doublingRefs(n: number): string {
  const parts = ['<Obj RefId="top"><LST><Obj RefId="0"><LST><S>x</S></LST></Obj>']
  for (let i = 1; i < n; i++) {
    parts.push(`<Obj RefId="${i}"><LST><Ref RefId="${i - 1}" /><Ref RefId="${i - 1}" /></LST></Obj>`)
  }
  parts.push('</LST></Obj>')
  return parts.join('')
}

/** n objects whose base value is the previous one (a chain of n). */
function baseChain(n: number): string {
  const parts = ['<Obj RefId="top"><LST><Obj RefId="0"><S>end</S></Obj>']
  for (let i = 1; i < n; i++) parts.push(`<Obj RefId="${i}"><Ref RefId="${i - 1}" /></Obj>`)
  parts.push('</LST></Obj>')
  return parts.join('')
}

/** n structures, each 50 objects (100 elements) deep. */
function deepItems(n: number): string {
  const one = '<Obj N="c"><MS>'.repeat(50) + '<S N="leaf">x</S>' + '</MS></Obj>'.repeat(50)
  return lst(one.repeat(n))
}

describe('XML parsers', () => {
  test('many small text nodes (a WS-Man Receive of many streams): tree parser and tokenizer', () => {
    const receive = (n: number): string =>
      '<s:Envelope xmlns:s="s"><s:Body><rsp:ReceiveResponse xmlns:rsp="r">' +
      '<rsp:Stream Name="stdout" CommandId="C">AAAA</rsp:Stream>'.repeat(n) +
      '</rsp:ReceiveResponse></s:Body></s:Envelope>'
    assertLinear('parseXml streams', receive, (x) => parseXml(x, { error }), { n: 3000 })
    assertLinear('XmlReader streams', receive, tokens, { n: 3000 })
    // an '&' only at the very end made every text node search the whole rest of the document
    const withAmp = (n: number): string => lst('<S>x</S>'.repeat(n) + '<S>&amp;</S>')
    assertLinear('parseXml text, & at the end', withAmp, (x) => parseXml(x, { error }), { n: 10000 })
    assertLinear('XmlReader text, & at the end', withAmp, tokens, { n: 10000 })
  })

  test('many attributes in one start tag, and many entity references in one value', () => {
    const attrs = (n: number): string =>
      `<a${Array.from({ length: n }, (_, i) => ` a${i}="v&amp;${i}"`).join('')}/>`
    assertLinear('parseXml attributes', attrs, (x) => parseXml(x, { error }), { n: 1000 })
    assertLinear('XmlReader attributes', attrs, tokens, { n: 1000 })
    const refs = (n: number): string => `<a v="${'&amp;&#x41;'.repeat(n)}">${'&lt;&#66;'.repeat(n)}</a>`
    assertLinear('parseXml references', refs, (x) => parseXml(x, { error }), { n: 10000 })
    assertLinear('XmlReader references', refs, tokens, { n: 10000 })
  })
})

describe('deserialize', () => {
  test('wide lists, long strings of entities, many attributes', () => {
    assertLinear('wide LST', (n) => lst('<S>x</S>'.repeat(n)), deserialize, { n: 10000 })
    assertLinear(
      'entities in one string',
      (n) => lst(`<S>${'&amp;&lt;_x000A_'.repeat(n)}</S>`),
      deserialize,
      {
        n: 10000,
      },
    )
    assertLinear(
      'many attributes',
      (n) =>
        `<Obj RefId="0"${Array.from({ length: n }, (_, i) => ` x${i}="&quot;"`).join('')}><S>a</S></Obj>`,
      deserialize,
      { n: 1000 },
    )
  })

  test('deep nesting: many deep objects, and a document deeper than the limit is refused at once', () => {
    assertLinear('deep items', deepItems, deserialize, { n: 20 })
    const tooDeep = (n: number): string => '<Obj RefId="0"><MS>'.repeat(n)
    assertLinear('too deep', tooDeep, orClixmlError(deserialize), { n: 10000 })
    assert.throws(() => deserialize(tooDeep(300)), /nesting deeper than 256/)
  })

  test('objects out of writing order, and an error at the very end: the document is read again once', () => {
    // every object has its type names after its properties, so the streaming pass gives up at the
    // first and the document is read again with every object's first pass known
    const late = (n: number): string =>
      lst(
        Array.from(
          { length: n },
          (_, i) => `<Obj RefId="o${i}"><MS><S N="a">x</S></MS><TN RefId="t${i}"><T>T${i}</T></TN></Obj>`,
        ).join(''),
      )
    const s = assertLinear('out of order', late, deserialize, { n: 2000 })
    const last = (deserialize(late(s.n)) as PSObject[])[s.n - 1] as PSObject
    assert.deepEqual(last.typeNames, [`T${s.n - 1}`])
    // many deep structures, each out of order at every level
    const nested = (n: number): string =>
      lst(
        `${'<Obj N="c"><MS>'.repeat(50)}<S N="leaf">x</S>${'</MS><TN><T>L</T></TN></Obj>'.repeat(50)}`.repeat(
          n,
        ),
      )
    assertLinear('nested out of order', nested, deserialize, { n: 20 })
    // a failure at the end is found by the streaming pass, then again by the second reading
    assertLinear('error at the end', (n) => lst('<S>x</S>'.repeat(n)) + '<', orClixmlError(deserialize), {
      n: 10000,
    })
  })

  test('long numbers, durations and dates (valid and not)', () => {
    const cases: [string, (n: number) => string][] = [
      ['D digits then x', (n) => `<D>${'1'.repeat(n)}x</D>`],
      ['D digits.digitsE digits x', (n) => `<D>${'1'.repeat(n)}.${'2'.repeat(n)}E${'3'.repeat(n)}x</D>`],
      ['I32 digits then x', (n) => `<I32>${'1'.repeat(n)}x</I32>`],
      ['TS digits then x', (n) => `<TS>P${'1'.repeat(n)}x</TS>`],
      ['TS seconds then x', (n) => `<TS>PT${'1'.repeat(n)}.${'1'.repeat(n)}x</TS>`],
      ['DT fraction then x', (n) => `<DT>2020-01-01T00:00:00.${'1'.repeat(n)}x</DT>`],
      ['Version digits then x', (n) => `<Version>1.${'1'.repeat(n)}x</Version>`],
    ]
    for (const [name, build] of cases) assertLinear(name, build, orClixmlError(deserialize), { n: 5000 })
  })

  test('shared references: each list holds the previous twice (no expansion), also through serialize', () => {
    const s = assertLinear('doubling refs', doublingRefs, deserialize, { n: 1000 })
    const v = deserialize(doublingRefs(s.n)) as unknown[][]
    assert.equal(v[5]?.[0], v[4])
    assertLinear('doubling refs round trip', doublingRefs, (x) => serialize(deserialize(x)), { n: 1000 })
  })

  test('self references and chains of base values, as values and as text', () => {
    const selfRefs = (n: number): string =>
      lst(Array.from({ length: n }, (_, i) => `<Obj RefId="s${i}"><Ref RefId="s${i}" /></Obj>`).join(''))
    assertLinear('self refs', selfRefs, (x) => (deserialize(x) as unknown[]).map(String), { n: 1000 })
    assertLinear('base chain', baseChain, deserialize, { n: 1000 })
    const last = (x: string): PSObject => {
      const l = deserialize(x) as PSObject[]
      return l[l.length - 1] as PSObject
    }
    const chains = [4000, 8000, 16000].map((n) => last(baseChain(n)))
    assert.equal(String(chains[2]), 'end')
    assertLinear('base chain as text', (n) => chains[Math.log2(n / 4000)] as PSObject, String, { n: 4000 })
  })
})

describe('prettyClixml', () => {
  test('wide, deep, many attributes, entities, shared and self references', () => {
    assertLinear('pretty wide', (n) => lst('<S>x</S>'.repeat(n)), prettyClixml, {
      // large enough that every size outgrows V8's young generation: at 5000 only 4n did, and the
      // promotion that starts there looked like super-linear time
      n: 20000,
    })
    assertLinear('pretty deep items', deepItems, prettyClixml, { n: 20 })
    assertLinear(
      'pretty attributes',
      (n) => `<Obj RefId="0"${Array.from({ length: n }, (_, i) => ` x${i}="&lt;"`).join('')} />`,
      prettyClixml,
      { n: 1000 },
    )
    assertLinear('pretty entities', (n) => lst(`<S>${'&amp;&#x41;'.repeat(n)}</S>`), prettyClixml, {
      // as for 'pretty wide': at 10000 the n sample took 1-2.5 ms and a fresh-clone CI run measured
      // 4n/n at 6.5 three times (the code before and after this session gives x2.6-3.4 alone)
      n: 40000,
    })
    assertLinear('pretty doubling refs', doublingRefs, prettyClixml, { n: 1000 })
    assertLinear('pretty base chain', baseChain, prettyClixml, { n: 1000 })
  })
})

describe('serialize', () => {
  test('many distinct type name lists that share their first name', () => {
    // each list is looked up once by its key; a search among the lists sharing a first name made
    // 40,000 such objects cost 12.5 s
    assertLinear(
      'serialize type name lists',
      (n) =>
        Array.from(
          { length: n },
          (_, i) => new PSObject({ typeNames: ['Same.First', `T${i}`, 'System.Object'] }),
        ),
      serialize,
      { n: 5000 },
    )
  })
})
