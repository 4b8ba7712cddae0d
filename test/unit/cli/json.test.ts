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

test('cycles and very deep nesting end in a ToString summary instead of a crash', () => {
  const a = PSObject.custom({ name: 'a' })
  a.set('self', a)
  assert.deepEqual(toJsonValue(a), {
    '@type': 'System.Management.Automation.PSCustomObject',
    name: 'a',
    self: {
      '@type': 'System.Management.Automation.PSCustomObject',
      value: 'System.Management.Automation.PSCustomObject',
    },
  })
  let deep: unknown = 'bottom'
  for (let i = 0; i < MAX_DEPTH + 10; i++) deep = [deep]
  const line = toJsonLine(deep)
  assert.doesNotMatch(line, /bottom/)
  assert.equal(JSON.parse(line) !== null, true)
})
