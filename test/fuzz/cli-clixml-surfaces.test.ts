/**
 * Fuzzing the text parsers a server's output reaches: CLIXML `deserialize` and `prettyClixml`, the
 * `--json` mapping of whatever deserializes, and `psrp decode`. Seeds: PowerShell-written CLIXML (test
 * vectors), recorded WinRM exchanges (test/recordings, ../shared/corpus) and hostile shapes (deep, wide,
 * many attributes, many namespaces, long numbers, shared and self references). Property (harness.ts):
 * a result or a PsrpError subclass, never another error, never over the time budget.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { deserialize, prettyClixml } from '../../src/clixml/index.ts'
import { toJsonLine } from '../../src/cli/json.ts'
import { dissect } from '../../src/cli/decode.ts'
import { mutatedText, params, recordedEnvelopes, seedsFirst, TIMEOUT, typedWithinBudget } from './harness.ts'

const vectors = (
  JSON.parse(readFileSync(new URL('../vectors/clixml/pwsh-vectors.json', import.meta.url), 'utf8')) as {
    vectors: { clixml: string }[]
  }
).vectors.map((v) => v.clixml)
const seedFiles = [
  'seed-init-runspacepool.xml',
  'seed-psdriveinfo.xml',
  'seed-session-capability.xml',
  'spec-information-record.xml',
].map((f) => readFileSync(new URL(`../vectors/clixml/${f}`, import.meta.url), 'utf8'))

/** Hostile CLIXML shapes, small enough for many runs (the mutator's `repeat` makes them grow). */
const hostile = [
  // shared references: each list holds the previous twice
  `<Obj RefId="t"><LST>${Array.from({ length: 30 }, (_, i) => (i === 0 ? '<Obj RefId="0"><LST><S>x</S></LST></Obj>' : `<Obj RefId="${i}"><LST><Ref RefId="${i - 1}" /><Ref RefId="${i - 1}" /></LST></Obj>`)).join('')}</LST></Obj>`,
  // self references, through a list and through a base value
  '<Obj RefId="0"><LST><Ref RefId="0" /></LST></Obj>',
  '<Obj RefId="a"><LST><Obj RefId="0"><Ref RefId="0" /></Obj><Obj RefId="1"><MS><Ref N="me" RefId="1" /></MS></Obj></LST></Obj>',
  // deep and wide
  `${'<Obj RefId="0"><MS><Obj N="c" RefId="1"><LST>'.repeat(20)}<S>x</S>${'</LST></Obj></MS></Obj>'.repeat(20)}`,
  `<Obj RefId="0"><LST>${'<I32>1</I32>'.repeat(200)}</LST></Obj>`,
  // many attributes and namespaces
  `<Obj RefId="0"${Array.from({ length: 50 }, (_, i) => ` xmlns:n${i}="urn:${i}" a${i}="&amp;"`).join('')}><S>x</S></Obj>`,
  // long numbers, dates, durations
  `<Obj RefId="0"><LST><D>${'9'.repeat(400)}.${'1'.repeat(400)}E${'9'.repeat(40)}</D><I64>${'9'.repeat(300)}</I64><TS>P${'1'.repeat(200)}D</TS><DT>2020-01-01T00:00:00.${'1'.repeat(300)}Z</DT><Db>1e${'9'.repeat(50)}</Db></LST></Obj>`,
  // enums and dictionaries with odd keys
  '<Obj RefId="0"><TN RefId="0"><T>X</T><T>System.Enum</T></TN><ToString>A</ToString><Ref RefId="0" /></Obj>',
  '<Obj RefId="0"><DCT><En><Obj N="Key" RefId="1"><LST /></Obj><Ref N="Value" RefId="0" /></En><En><S N="Key">$ref</S><S N="Value">1</S></En></DCT></Obj>',
]
const clixmlSeeds = [...vectors, ...seedFiles, ...hostile]

test(
  'CLIXML deserialize, prettyClixml and --json: a result or a PsrpError, in time',
  { timeout: TIMEOUT },
  () => {
    fc.assert(
      fc.property(mutatedText(clixmlSeeds), (xml) => {
        const value = typedWithinBudget('deserialize', xml, (x) => deserialize(x))
        if (!(value instanceof Error)) {
          const line = typedWithinBudget('--json', value, toJsonLine)
          if (typeof line === 'string') assert.doesNotThrow(() => JSON.parse(line))
        }
        typedWithinBudget('prettyClixml', xml, prettyClixml)
      }),
      seedsFirst(
        params(1500),
        clixmlSeeds.map((s) => [s] as [string]),
      ),
    )
  },
)

test(
  '--json of generated graphs with shared and self references: linear output, valid JSON',
  { timeout: TIMEOUT },
  () => {
    // n lists, each holding two earlier ones (by index), some holding themselves
    const graph = fc.array(fc.tuple(fc.nat(), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 60 })
    fc.assert(
      fc.property(graph, (spec) => {
        const lists: unknown[][] = []
        for (const [i, [a, b, self]] of spec.entries()) {
          const l: unknown[] = [i]
          if (lists.length > 0) l.push(lists[a % lists.length], lists[b % lists.length])
          if (self) l.push(l)
          lists.push(l)
        }
        const line = typedWithinBudget('--json', lists, toJsonLine)
        assert.equal(typeof line, 'string')
        assert.ok((line as string).length < 200 * spec.length + 100, `${(line as string).length} chars`)
        JSON.parse(line as string)
      }),
      params(1500),
    )
  },
)

const seedB64 = readFileSync(new URL('../vectors/psrp/seed-creation-xml.b64', import.meta.url), 'utf8').trim()
const decodeSeeds = [
  seedB64,
  Buffer.from(seedB64, 'base64').toString('hex').replace(/(..)/g, '$1 '),
  `<s:Envelope><s:Body><creationXml xmlns="http://schemas.microsoft.com/powershell">${seedB64}</creationXml></s:Body></s:Envelope>`,
  `<Data Stream='Default' PSGuid='00000000-0000-0000-0000-000000000000'>${seedB64}</Data>\n<DataAck PSGuid='00000000-0000-0000-0000-000000000000' />`,
  // 22 KB that took 10 s when detection used regular expressions with adjacent unbounded repetition
  `<s:Envelope>${"<Stream Name='stdout' ".repeat(1000)}`,
  `<creationXml>${'QUFB'.repeat(5000)}!</creationXml>`,
  '<creationXml '.repeat(1000),
  ...recordedEnvelopes(60).filter((e) => /creationXml|Stream|Arguments/.test(e)),
]

test('psrp decode: a dissection or an InvalidArgumentError, in time', { timeout: TIMEOUT }, () => {
  fc.assert(
    fc.property(mutatedText(decodeSeeds), (text) => {
      typedWithinBudget('psrp decode', text, (t) => dissect(t))
    }),
    seedsFirst(
      params(1500),
      decodeSeeds.map((s) => [s] as [string]),
    ),
  )
})
