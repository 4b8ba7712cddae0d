import { test } from 'node:test'
import assert from 'node:assert/strict'
import { MAX_DEPTH, toJsonLine, toJsonValue } from '../../../src/cli/json.ts'
import { deserialize, PSObject } from '../../../src/clixml/index.ts'

/** Deserializes one CLIXML element and maps it. */
const j = (xml: string): unknown => toJsonValue(deserialize(xml))

test('JSON-native values stay native; others carry their .NET type', () => {
  assert.equal(j('<S>héllo</S>'), 'héllo')
  assert.equal(j('<B>true</B>'), true)
  assert.equal(j('<I32>-7</I32>'), -7)
  assert.equal(j('<Db>1.5</Db>'), 1.5)
  assert.equal(j('<Nil />'), null)
  assert.deepEqual(j('<Db>2</Db>'), { '@type': 'System.Double', value: 2 })
  assert.deepEqual(j('<Db>NaN</Db>'), { '@type': 'System.Double', value: 'NaN' })
  assert.deepEqual(j('<Db>-INF</Db>'), { '@type': 'System.Double', value: '-Infinity' })
  assert.deepEqual(j('<I64>9007199254740993</I64>'), { '@type': 'System.Int64', value: '9007199254740993' })
  assert.deepEqual(j('<U64>18446744073709551615</U64>'), {
    '@type': 'System.UInt64',
    value: '18446744073709551615',
  })
  assert.deepEqual(j('<D>79228162514264337593543950335</D>'), {
    '@type': 'System.Decimal',
    value: '79228162514264337593543950335',
  })
  assert.deepEqual(j('<By>255</By>'), { '@type': 'System.Byte', value: 255 })
  assert.deepEqual(j('<SB>-1</SB>'), { '@type': 'System.SByte', value: -1 })
  assert.deepEqual(j('<I16>-2</I16>'), { '@type': 'System.Int16', value: -2 })
  assert.deepEqual(j('<U16>2</U16>'), { '@type': 'System.UInt16', value: 2 })
  assert.deepEqual(j('<U32>4000000000</U32>'), { '@type': 'System.UInt32', value: 4000000000 })
  assert.deepEqual(j('<Sg>0.5</Sg>'), { '@type': 'System.Single', value: 0.5 })
  assert.deepEqual(j('<C>97</C>'), { '@type': 'System.Char', value: 'a' })
  assert.deepEqual(j('<DT>2008-04-11T10:42:32.2731993-07:00</DT>'), {
    '@type': 'System.DateTime',
    value: '2008-04-11T10:42:32.2731993-07:00',
  })
  assert.deepEqual(j('<TS>PT9.0269026S</TS>'), { '@type': 'System.TimeSpan', value: 'PT9.0269026S' })
  assert.deepEqual(j('<G>792e5b37-4505-47ef-b7d2-8711bb7affa8</G>'), {
    '@type': 'System.Guid',
    value: '792e5b37-4505-47ef-b7d2-8711bb7affa8',
  })
  assert.deepEqual(j('<Version>6.2.9200.0</Version>'), { '@type': 'System.Version', value: '6.2.9200.0' })
  assert.deepEqual(j('<URI>http://x/</URI>'), { '@type': 'System.Uri', value: 'http://x/' })
  assert.deepEqual(j('<SBK>1+1</SBK>'), { '@type': 'System.Management.Automation.ScriptBlock', value: '1+1' })
  assert.deepEqual(j('<BA>AQID</BA>'), { '@type': 'System.Byte[]', value: 'AQID' })
  assert.deepEqual(j('<SS>AAEC</SS>'), { '@type': 'System.Security.SecureString', value: null })
})

test('objects, enums, lists, hashtables and values with notes', () => {
  const proc =
    j(`<Obj RefId="0"><TN RefId="0"><T>Deserialized.System.Diagnostics.Process</T><T>Deserialized.System.Object</T></TN>
    <ToString>System.Diagnostics.Process (pwsh)</ToString><Props><S N="Name">pwsh</S><I32 N="Id">42</I32>
    <Obj N="Started" RefId="1"><DT>2024-01-02T03:04:05Z</DT></Obj></Props><MS><I64 N="WS">123</I64></MS></Obj>`)
  assert.deepEqual(proc, {
    '@type': 'Deserialized.System.Diagnostics.Process',
    Name: 'pwsh',
    Id: 42,
    Started: { '@type': 'System.DateTime', value: '2024-01-02T03:04:05Z' },
    WS: { '@type': 'System.Int64', value: '123' },
  })
  const status =
    j(`<Obj RefId="0"><TN RefId="0"><T>System.ServiceProcess.ServiceControllerStatus</T><T>System.Enum</T>
    <T>System.ValueType</T><T>System.Object</T></TN><ToString>Running</ToString><I32>4</I32></Obj>`)
  assert.deepEqual(status, {
    '@type': 'System.ServiceProcess.ServiceControllerStatus',
    value: 4,
    name: 'Running',
  })
  const list = j(
    `<Obj RefId="0"><TN RefId="0"><T>System.Object[]</T></TN><LST><I32>1</I32><S>two</S><I64>3</I64></LST></Obj>`,
  )
  assert.deepEqual(list, [1, 'two', { '@type': 'System.Int64', value: '3' }])
  const ht = j(`<Obj RefId="0"><TN RefId="0"><T>System.Collections.Hashtable</T></TN><DCT>
    <En><S N="Key">a</S><I32 N="Value">1</I32></En></DCT></Obj>`)
  assert.deepEqual(ht, { '@type': 'System.Collections.Hashtable', value: { a: 1 } })
  const intKeys = j(`<Obj RefId="0"><TN RefId="0"><T>System.Collections.Hashtable</T></TN><DCT>
    <En><I32 N="Key">1</I32><S N="Value">one</S></En></DCT></Obj>`)
  assert.deepEqual(intKeys, { '@type': 'System.Collections.Hashtable', entries: [[1, 'one']] })
  // a string with note properties (Get-Content) is its base value
  assert.equal(j(`<Obj RefId="0"><S>line 1</S><MS><S N="PSPath">/x</S></MS></Obj>`), 'line 1')
  // an object with only a ToString
  assert.deepEqual(
    j(
      `<Obj RefId="0"><TN RefId="0"><T>Deserialized.System.Text.Encoding</T></TN><ToString>utf-8</ToString></Obj>`,
    ),
    {
      '@type': 'Deserialized.System.Text.Encoding',
      value: 'utf-8',
    },
  )
})

test('a cycle is a $ref to the enclosing object; very deep nesting ends in a ToString summary', () => {
  const a = PSObject.custom({ name: 'a' })
  a.set('self', a)
  assert.deepEqual(toJsonValue(a), {
    $id: '1',
    '@type': 'System.Management.Automation.PSCustomObject',
    name: 'a',
    self: { $ref: '1' },
  })
  let deep: unknown = 'bottom'
  for (let i = 0; i < MAX_DEPTH + 10; i++) deep = [deep]
  const line = toJsonLine(deep)
  assert.doesNotMatch(line, /bottom/)
  assert.equal(JSON.parse(line) !== null, true)
})

/** A list of n lists, each holding the previous one twice (2^n items if expanded). */
function doublingRefs(n: number): string {
  const parts = ['<Obj RefId="top"><LST><Obj RefId="0"><LST><S>x</S></LST></Obj>']
  for (let i = 1; i < n; i++) {
    parts.push(`<Obj RefId="${i}"><LST><Ref RefId="${i - 1}" /><Ref RefId="${i - 1}" /></LST></Obj>`)
  }
  parts.push('</LST></Obj>')
  return parts.join('')
}

test('a shared reference is written once with an $id, later occurrences are {"$ref":id}', () => {
  assert.deepEqual(j(doublingRefs(3)), [
    { $id: '1', $values: ['x'] },
    { $id: '2', $values: [{ $ref: '1' }, { $ref: '1' }] },
    [{ $ref: '2' }, { $ref: '2' }],
  ])
  // 1.2 KB of CLIXML whose full expansion is 2^40 strings: under a kilobyte of JSON
  const line = toJsonLine(deserialize(doublingRefs(40)))
  assert.ok(line.length < 3000, `${line.length} chars`)
  assert.match(
    line,
    /^\[\{"\$id":"1","\$values":\["x"\]\},\{"\$id":"2","\$values":\[\{"\$ref":"1"\},\{"\$ref":"1"\}\]\}/,
  )
  // objects, hashtables and scalars with notes keep their form and gain an $id first
  const shared = j(`<Obj RefId="0"><LST>
    <Obj RefId="1"><TN RefId="0"><T>T.A</T></TN><MS><S N="k">v</S></MS></Obj><Ref RefId="1" />
    <Obj RefId="2"><DCT><En><S N="Key">a</S><I32 N="Value">1</I32></En></DCT></Obj><Ref RefId="2" />
    <Obj RefId="3"><S>line</S><MS><S N="PSPath">/x</S></MS></Obj><Ref RefId="3" />
    <Obj RefId="4"><Ref RefId="3" /></Obj><Ref RefId="4" />
    <Obj RefId="5"><I32>5</I32></Obj><Obj RefId="6"><I32>5</I32></Obj>
  </LST></Obj>`)
  assert.deepEqual(shared, [
    { $id: '1', '@type': 'T.A', k: 'v' },
    { $ref: '1' },
    { $id: '2', '@type': 'System.Collections.Hashtable', value: { a: 1 } },
    { $ref: '2' },
    { $id: '3', $value: 'line' },
    { $ref: '3' },
    // an object whose base value is another object is that object
    { $ref: '3' },
    { $ref: '3' },
    // equal values that are different objects are not shared
    5,
    5,
  ])
})

test('a shared reference first met at MAX_DEPTH keeps its id on the summary; later ones are $refs to it', () => {
  const bottom = PSObject.custom({ x: 1 })
  // the root list is at depth 0, `deep` at 1, and `bottom` at depth MAX_DEPTH inside it
  const deep: unknown[] = []
  let inner = deep
  for (let depth = 2; depth < MAX_DEPTH; depth++) {
    const next: unknown[] = []
    inner.push(next)
    inner = next
  }
  inner.push(bottom)
  const line = toJsonLine([deep, bottom])
  assert.ok(
    line.endsWith(
      '[{"$id":"1","@type":"System.Management.Automation.PSCustomObject","value":"System.Management.Automation.PSCustomObject"}]' +
        ']'.repeat(MAX_DEPTH - 2) +
        ',{"$ref":"1"}]',
    ),
    line,
  )
})

test('keys that start with $ get one more $, so data never reads as a reference', () => {
  assert.deepEqual(toJsonValue(PSObject.custom({ $ref: '1', $id: 2, a$: 3 })), {
    '@type': 'System.Management.Automation.PSCustomObject',
    $$ref: '1',
    $$id: 2,
    a$: 3,
  })
  assert.deepEqual(toJsonValue(new Map([['$ref', '1']])), {
    '@type': 'System.Collections.Hashtable',
    value: { $$ref: '1' },
  })
})

test('base-value cycles end in a summary; a long chain of base values is followed once', () => {
  const a = new PSObject({ typeNames: ['T.A'], toStringValue: 'a' })
  const b = new PSObject({ typeNames: ['T.B'], toStringValue: 'b', baseValue: a })
  a.baseValue = b
  assert.deepEqual(toJsonValue(a), { '@type': 'T.A', value: 'a' })
  assert.deepEqual(toJsonValue([a, b, a]), [
    { $id: '1', '@type': 'T.A', value: 'a' },
    { '@type': 'T.B', value: 'b' },
    { $ref: '1' },
  ])
  // the enclosing object as a base value (through a list) is a $ref
  const c = new PSObject({ typeNames: ['T.C'] })
  c.baseValue = [c]
  assert.deepEqual(toJsonValue(c), { $id: '1', $values: [{ $ref: '1' }] })
  // 20,000 links, each the next one's base value: no stack overflow
  let chain: PSObject = new PSObject({ baseValue: 'end' })
  for (let i = 0; i < 20_000; i++) chain = new PSObject({ baseValue: chain })
  assert.equal(toJsonValue(chain), 'end')
})
