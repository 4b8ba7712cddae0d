/**
 * Differential test of the CLIXML deserializer: the pull deserializer (`src/clixml/deserialize.ts`)
 * against the tree walker it replaced (`tree-deserializer.ts`, kept here as the oracle), over every
 * CLIXML message body of the recorded exchanges (`test/recordings`, and `../shared/corpus` when
 * present), the fuzz seeds (PowerShell-written vectors and seed bodies, hostile shapes, objects out of
 * PowerShell's writing order) and mutations of them. Each input must give the same value (the same
 * object graph: classes, type names, properties in order, shared and cyclic references, collection
 * identity under psMeta) or an error of the same class.
 *
 * The one difference allowed: the tree parser (`parseXml`) accepts some markup that is not well-formed
 * XML (a name starting with a digit, attributes not separated by whitespace, `<` in a name) inside
 * elements the deserializer ignores; the pull tokenizer refuses it, as .NET's XmlReader does. Such an
 * input must then be refused by the tokenizer itself, and the test counts them.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { deserialize, type DeserializeOptions } from '../../../src/clixml/deserialize.ts'
import { ClixmlError } from '../../../src/errors.ts'
import { XmlReader, XmlToken } from '../../../src/internal/xml-reader.ts'
import { Defragmenter, decodeMessage } from '../../../src/psrp/index.ts'
import { getMeta, type PSObject } from '../../../src/clixml/index.ts'
import { treeDeserialize } from './tree-deserializer.ts'
import { listRecordings, parseRecording } from '../../helpers/recordings.ts'
import { parseEnvelope, requestPayloads, responsePayloads } from '../../helpers/winrm-replay/envelope.ts'
import { unb64 } from '../../helpers/winrm-replay/psrp.ts'
import { corpusDir, pypsrpRecordings } from '../../helpers/peers.ts'
import { filesUnder, mutatedText, params, seedsFirst } from '../../fuzz/harness.ts'

// ---------------------------------------------------------------------------------------------------
// comparing two object graphs

/**
 * Throws unless `a` and `b` are the same object graph: equal primitives (`Object.is`), objects of the
 * same class with the same own properties (string and symbol keys, enumerable or not), arrays and
 * Maps with the same items in order, byte arrays with the same bytes, and the same sharing: an object
 * reached twice in `a` is reached twice in `b` as one object. Iterative (chains of references may be
 * long).
 */
function assertSameGraph(a: unknown, b: unknown): void {
  const ab = new Map<object, object>()
  const ba = new Map<object, object>()
  const work: [unknown, unknown, string][] = [[a, b, '$']]
  const differ = (at: string, what: string): never => assert.fail(`values differ at ${at}: ${what}`)
  while (work.length > 0) {
    const [x, y, at] = work.pop() as [unknown, unknown, string]
    if (typeof x !== typeof y) differ(at, `${typeof x} vs ${typeof y}`)
    if (x === null || typeof x !== 'object') {
      if (!Object.is(x, y)) differ(at, `${String(x)} vs ${String(y)}`)
      continue
    }
    const o = y as object
    if (o === null) differ(at, 'object vs null')
    const mapped = ab.get(x)
    if (mapped !== undefined) {
      if (mapped !== o) differ(at, 'one object in the old graph, two in the new')
      continue
    }
    if (ba.has(o)) differ(at, 'two objects in the old graph, one in the new')
    ab.set(x, o)
    ba.set(o, x)
    if (Object.getPrototypeOf(x) !== Object.getPrototypeOf(o)) {
      differ(at, `class ${x.constructor.name} vs ${o.constructor.name}`)
    }
    if (x instanceof Uint8Array) {
      assert.deepEqual(Buffer.from(o as Uint8Array), Buffer.from(x), `bytes differ at ${at}`)
      continue
    }
    if (x instanceof Map) {
      const ex = [...x.entries()]
      const ey = [...(o as Map<unknown, unknown>).entries()]
      if (ex.length !== ey.length) differ(at, `Map of ${ex.length} vs ${ey.length} entries`)
      ex.forEach(([k, v], i) => {
        const [k2, v2] = ey[i] as [unknown, unknown]
        work.push([k, k2, `${at}.key(${i})`], [v, v2, `${at}.get(${i})`])
      })
    }
    const keys = (v: object): (string | symbol)[] =>
      Reflect.ownKeys(v)
        .filter((k) => !(Array.isArray(v) && k === 'length'))
        .sort((p, q) => String(p).localeCompare(String(q)))
    const kx = keys(x)
    const ky = keys(o)
    assert.deepEqual(ky, kx, `property names differ at ${at}`)
    for (const k of kx) {
      const dx = Object.getOwnPropertyDescriptor(x, k) as PropertyDescriptor
      const dy = Object.getOwnPropertyDescriptor(o, k) as PropertyDescriptor
      if (dx.enumerable !== dy.enumerable) differ(`${at}.${String(k)}`, 'enumerability')
      work.push([dx.value, dy.value, `${at}.${String(k)}`])
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// running both

type Outcome = { value: unknown } | { error: unknown }

function run(
  fn: (xml: string, options?: DeserializeOptions) => unknown,
  xml: string,
  options?: DeserializeOptions,
): Outcome {
  try {
    return { value: fn(xml, options) }
  } catch (error) {
    return { error }
  }
}

/** True when the pull tokenizer alone refuses `xml` (not well-formed XML, or over the limits). */
function tokenizerRefuses(xml: string, options: DeserializeOptions = {}): boolean {
  try {
    const r = new XmlReader(xml, {
      maxDepth: options.maxDepth ?? 256,
      maxLength: options.maxLength ?? 64 * 1024 * 1024,
      error: (message, offset) => new ClixmlError(message, { offset }),
    })
    while (r.next() !== XmlToken.EndOfDocument);
    return false
  } catch {
    return true
  }
}

interface Tally {
  inputs: number
  values: number
  errors: number
  laxTreeParser: number
}

const newTally = (): Tally => ({ inputs: 0, values: 0, errors: 0, laxTreeParser: 0 })

/** Asserts that the old and the new deserializer agree on `xml`; counts what they gave. */
function assertSameOutcome(xml: string, tally: Tally, options?: DeserializeOptions): void {
  tally.inputs++
  const before = run(treeDeserialize, xml, options)
  const after = run(deserialize, xml, options)
  const input = `${JSON.stringify(xml.slice(0, 300))}${xml.length > 300 ? '…' : ''}`
  if ('value' in before && 'value' in after) {
    tally.values++
    try {
      assertSameGraph(before.value, after.value)
    } catch (err) {
      assert.fail(`${(err as Error).message}\ninput: ${input}`)
    }
    return
  }
  if ('error' in before && 'error' in after) {
    tally.errors++
    const was = (before.error as Error).constructor
    const is = (after.error as Error).constructor
    assert.equal(is, was, `error class ${is.name} where the tree walker threw ${was.name}\ninput: ${input}`)
    return
  }
  if ('value' in before && 'error' in after && tokenizerRefuses(xml, options)) {
    assert.ok(after.error instanceof ClixmlError, `${String(after.error)}\ninput: ${input}`)
    tally.laxTreeParser++
    return
  }
  assert.fail(
    'value' in before
      ? `the tree walker gave a value, the pull deserializer threw ${String((after as { error: unknown }).error)}\ninput: ${input}`
      : `the tree walker threw ${String(before.error)}, the pull deserializer gave a value\ninput: ${input}`,
  )
}

// ---------------------------------------------------------------------------------------------------
// inputs

/** Every CLIXML message body of one recording (fragments reassembled across envelopes). */
function recordedBodies(text: string): string[] {
  const bodies: string[] = []
  const sent = new Defragmenter()
  const received = new Defragmenter()
  for (const ex of parseRecording(text)) {
    let psrp = false
    for (const [side, xml] of [
      ['request', ex.request],
      ['response', ex.response],
    ] as const) {
      if (xml === undefined) continue
      const env = parseEnvelope(xml)
      if (side === 'request') psrp = env.psrp
      if (!psrp) continue
      for (const p of side === 'request' ? requestPayloads(env) : responsePayloads(env)) {
        for (const message of (side === 'request' ? sent : received).push(unb64(p.b64))) {
          const body = decodeMessage(message).data
          if (body.length > 0) bodies.push(body)
        }
      }
    }
  }
  return bodies
}

const recordingsDir = new URL('../../recordings/', import.meta.url).pathname
const vectorsDir = new URL('../../vectors/clixml/', import.meta.url)
const readVector = (name: string): string => readFileSync(new URL(name, vectorsDir), 'utf8')

/** The CLIXML seeds of the fuzz tests (test/fuzz/cli-clixml-surfaces.test.ts, clixml.test.ts). */
const fuzzSeeds = [
  ...(JSON.parse(readVector('pwsh-vectors.json')) as { vectors: { clixml: string }[] }).vectors.map(
    (v) => v.clixml,
  ),
  ...[
    'seed-init-runspacepool.xml',
    'seed-psdriveinfo.xml',
    'seed-session-capability.xml',
    'spec-information-record.xml',
  ].map(readVector),
]

const progress = (children: string): string => `<PR N="Record">${children}</PR>`
const prChildren =
  '<AV>Copying</AV><AI>1</AI><Nil /><PI>-1</PI><PC>50</PC><T>Processing</T><SR>-1</SR><SD>half way</SD>'

/**
 * Hostile shapes and objects out of PowerShell's writing order: type names or a collection after other
 * content, TNRefs to a type list that a later sibling of an outer object defines, duplicate RefIds,
 * self references, ProgressRecords of the wrong size, text around child elements.
 */
const shapes = [
  `<Obj RefId="t"><LST>${Array.from({ length: 20 }, (_, i) => (i === 0 ? '<Obj RefId="0"><LST><S>x</S></LST></Obj>' : `<Obj RefId="${i}"><LST><Ref RefId="${i - 1}" /><Ref RefId="${i - 1}" /></LST></Obj>`)).join('')}</LST></Obj>`,
  `<Obj RefId="t"><LST><Obj RefId="0"><S>end</S></Obj>${Array.from({ length: 50 }, (_, i) => `<Obj RefId="${i + 1}"><Ref RefId="${i}" /></Obj>`).join('')}</LST></Obj>`,
  '<Obj RefId="0"><LST><Ref RefId="0" /></LST></Obj>',
  '<Obj RefId="0"><Ref RefId="0" /></Obj>',
  '<Obj RefId="0"><TN RefId="0"><T>X</T><T>System.Enum</T></TN><ToString>A</ToString><Ref RefId="0" /></Obj>',
  '<Obj RefId="0"><DCT><En><Obj N="Key" RefId="1"><LST /></Obj><Ref N="Value" RefId="0" /></En><En><S N="Key">k</S><S N="Value">1</S></En></DCT></Obj>',
  // out of writing order
  '<Obj RefId="0"><MS><S N="a">x</S></MS><TN RefId="0"><T>Late</T></TN></Obj>',
  '<Obj RefId="0"><Props><S N="p">1</S></Props><LST><S>i</S></LST></Obj>',
  '<Obj RefId="0"><MS><Obj N="c" RefId="1"><TNRef RefId="9" /></Obj></MS><TN RefId="9"><T>Fwd</T></TN></Obj>',
  '<Obj RefId="0"><MS><Ref N="me" RefId="0" /></MS><TN RefId="0"><T>T.Color</T><T>System.Enum</T></TN><I32>3</I32></Obj>',
  '<Obj RefId="0"><ToString>t</ToString><TN RefId="0"><T>X</T></TN><I32>1</I32></Obj>',
  '<Obj RefId="0"><S>x</S><LST /></Obj>',
  '<Obj RefId="0"><LST /><S>x</S></Obj>',
  '<Obj RefId="0"><LST /><LST /></Obj>',
  '<Obj RefId="0"><LST><S>a</S></LST><ToString>late</ToString><DCT /></Obj>',
  '<Obj RefId="0"><TN RefId="0"><T>A</T></TN><MS><Obj N="x" RefId="1"><TN RefId="0"><T>B</T></TN></Obj><Obj N="y" RefId="2"><TNRef RefId="0" /></Obj></MS></Obj>',
  '<Obj RefId="0"><MS><Obj N="x" RefId="1"><TN RefId="5"><T>B</T></TN></Obj></MS><TN RefId="5"><T>A</T></TN><MS><Obj N="y" RefId="2"><TNRef RefId="5" /></Obj></MS></Obj>',
  '<Obj RefId="0"><TN RefId="0"><T>A</T><I32>1</I32></TN></Obj>',
  '<Obj RefId="0"><TNRef RefId="7" /></Obj>',
  '<Obj RefId="0"><MS><Obj N="o" RefId="0"><S>inner</S></Obj><Ref N="r" RefId="0" /></MS></Obj>',
  '<Obj RefId="0"><constructor /></Obj>',
  '<Obj RefId="0"><toString /><LST /></Obj>',
  // ProgressRecords
  progress(prChildren),
  progress(prChildren.replace('<Nil />', '<Obj RefId="9"><ToString>op</ToString><S>op</S></Obj>')),
  progress(prChildren + '<S>ninth</S>'),
  progress(prChildren.replace('<SD>half way</SD>', '')),
  progress(prChildren.replace('<AI>1</AI>', '<AI>x</AI>')),
  progress(prChildren.replace('<T>Processing</T>', '<T>2</T>')),
  // text and child elements inside values
  '<S>a<I32>1</I32>b<![CDATA[<c>]]></S>',
  '<Obj RefId="0"><MS><S N="s">x<Obj RefId="z"><S>hidden</S></Obj>y</S><Ref N="r" RefId="z" /></MS></Obj>',
  '<Objs Version="1.1.0.1">text<I32>1</I32> <S>two</S><Nil /></Objs>',
  '<Obj RefId="0"><MS><I32 N="a">-0</I32><I32 N="b">+000000000000000000000042</I32><C N="c">65</C><I64 N="d">-9223372036854775808</I64></MS></Obj>',
  '<Obj RefId="0"><MS><I32 N="a">2147483648</I32></MS></Obj>',
]

// ---------------------------------------------------------------------------------------------------

describe('the pull deserializer gives what the tree walker gave', () => {
  test('every CLIXML message of the recordings in test/recordings', (t) => {
    const tally = newTally()
    for (const file of listRecordings(recordingsDir)) {
      for (const body of recordedBodies(readFileSync(file, 'utf8'))) assertSameOutcome(body, tally)
    }
    t.diagnostic(JSON.stringify(tally))
    assert.ok(tally.values > 50, `only ${tally.values} messages decoded`)
    assert.equal(tally.errors, 0)
  })

  const corpus = pypsrpRecordings()
  test('every CLIXML message of the recorded corpus (../shared/corpus)', { skip: corpus.skip }, (t) => {
    const tally = newTally()
    for (const file of corpus.files) {
      for (const body of recordedBodies(readFileSync(file, 'utf8'))) assertSameOutcome(body, tally)
    }
    // CLIXML files of the corpus (Export-Clixml output, `#< CLIXML` stderr)
    for (const file of filesUnder(corpusDir(), /\.xml$/)) {
      const text = readFileSync(file, 'utf8')
      const at = text.indexOf('<Objs')
      if (at >= 0) assertSameOutcome(text.slice(at), tally)
    }
    t.diagnostic(JSON.stringify(tally))
    assert.ok(tally.values > 400, `only ${tally.values} messages decoded`)
    assert.equal(tally.errors, 0)
  })

  test('the fuzz seeds, hostile shapes and objects out of writing order', (t) => {
    const tally = newTally()
    for (const xml of [...fuzzSeeds, ...shapes]) assertSameOutcome(xml, tally)
    t.diagnostic(JSON.stringify(tally))
    assert.equal(tally.laxTreeParser, 0)
    // what the out-of-order objects read as (the tree walker's two passes)
    const late = deserialize(shapes[6] as string) as PSObject
    assert.deepEqual(late.typeNames, ['Late'])
    assert.equal(late.get('a'), 'x')
    const listAfterProps = deserialize(shapes[7] as string) as unknown[]
    assert.deepEqual([...listAfterProps], ['i'])
    assert.equal(getMeta(listAfterProps)?.adapted.get('p'), '1')
    const forward = deserialize(shapes[8] as string) as PSObject
    assert.deepEqual((forward.get('c') as PSObject).typeNames, ['Fwd'])
  })

  test('the options: depth and length limits, and a SecureString cipher', (t) => {
    const tally = newTally()
    const deep = (n: number): string => '<Obj N="o"><MS>'.repeat(n) + '</MS></Obj>'.repeat(n)
    for (const [xml, options] of [
      [deep(10), { maxDepth: 19 }],
      [deep(10), { maxDepth: 20 }],
      [deep(10), { maxDepth: 21 }],
      ['<S>0123456789</S>', { maxLength: 16 }],
      ['<S>0123456789</S>', { maxLength: 17 }],
      ['<SS>AAEC</SS>', { cipher: { encrypt: (b: Uint8Array) => b, decrypt: (b: Uint8Array) => b } }],
      [
        '<SS>AAEC</SS>',
        {
          cipher: {
            encrypt: (b: Uint8Array) => b,
            decrypt: (): Uint8Array => {
              throw new Error('bad key')
            },
          },
        },
      ],
    ] as [string, DeserializeOptions][]) {
      assertSameOutcome(xml, tally, options)
    }
    t.diagnostic(JSON.stringify(tally))
    assert.equal(tally.values, 4)
  })

  test('mutations of the seeds (fast-check)', (t) => {
    const seeds = [...fuzzSeeds, ...shapes]
    const tally = newTally()
    fc.assert(
      fc.property(mutatedText(seeds), (xml) => {
        assertSameOutcome(xml, tally)
      }),
      seedsFirst(
        params(3000),
        seeds.map((s) => [s] as [string]),
      ),
    )
    t.diagnostic(JSON.stringify(tally))
    assert.ok(tally.values > 100 && tally.errors > 100, JSON.stringify(tally))
  })
})
