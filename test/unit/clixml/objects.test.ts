import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { InformationRecord } from '../../../src/clixml/index.ts'
import {
  deserialize,
  serialize,
  getMeta,
  PSObject,
  PSEnum,
  ErrorRecord,
  ProgressRecord,
  WarningRecord,
  PSThreadOptions,
  RemoteStreamOptions,
  PSCredential,
  PSSecureString,
  HostInfo,
  Coordinates,
  Size,
} from '../../../src/clixml/index.ts'
import { ClixmlError } from '../../../src/errors.ts'
import { canonicalClixml } from '../../helpers/clixml-tree.ts'

test('PSCustomObject: type names, extended properties, natural JS view', () => {
  const xml = serialize(PSObject.custom({ a: 1, b: 'x', c: [1, 2] }))
  assert.equal(
    xml,
    '<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.PSCustomObject</T><T>System.Object</T></TN><MS><I32 N="a">1</I32><S N="b">x</S><Obj N="c" RefId="1"><TN RefId="1"><T>System.Object[]</T><T>System.Array</T><T>System.Object</T></TN><LST><I32>1</I32><I32>2</I32></LST></Obj></MS></Obj>',
  )
  const o = deserialize(xml) as PSObject
  assert.ok(o instanceof PSObject)
  assert.deepEqual(o.typeNames, ['System.Management.Automation.PSCustomObject', 'System.Object'])
  assert.equal(o.get('A'), 1, 'property lookup is case-insensitive like PowerShell')
  assert.deepEqual(o.get('c'), [1, 2])
  assert.equal(JSON.stringify(o), '{"a":1,"b":"x","c":[1,2]}')
})

test('dictionaries become Maps, lists arrays, and both keep their .NET identity for the round trip', () => {
  const xml =
    '<Obj RefId="0"><TN RefId="0"><T>System.Collections.Generic.Dictionary`2[[System.String],[System.Int32]]</T><T>System.Object</T></TN><DCT><En><S N="Key">one</S><I32 N="Value">1</I32></En><En><I32 N="Key">2</I32><Nil N="Value" /></En></DCT></Obj>'
  const m = deserialize(xml) as Map<unknown, unknown>
  assert.ok(m instanceof Map)
  assert.equal(m.get('one'), 1)
  assert.equal(m.get(2), null)
  assert.equal(
    getMeta(m)?.typeNames[0],
    'System.Collections.Generic.Dictionary`2[[System.String],[System.Int32]]',
  )
  assert.equal(canonicalClixml(serialize(m)), canonicalClixml(xml))
  for (const tag of ['LST', 'IE', 'QUE', 'STK']) {
    const list = `<Obj RefId="0"><TN RefId="0"><T>X</T></TN><${tag}><S>a</S><I64>5</I64></${tag}></Obj>`
    const v = deserialize(list) as unknown[]
    assert.deepEqual([...v], ['a', 5n])
    assert.equal(serialize(v), list)
  }
  assert.equal(
    serialize(new Map([['k', true]])),
    '<Obj RefId="0"><TN RefId="0"><T>System.Collections.Hashtable</T><T>System.Object</T></TN><DCT><En><S N="Key">k</S><B N="Value">true</B></En></DCT></Obj>',
  )
  assert.equal(canonicalClixml(serialize({ k: true })), canonicalClixml(serialize(new Map([['k', true]]))))
})

test('TNRef reuse and Ref identity, including cycles, resolve to the same instances', () => {
  const a = PSObject.custom({ name: 'a' })
  const b = PSObject.custom({ name: 'b', peer: a })
  a.set('peer', b)
  const list = [a, b, a]
  const xml = serialize(list)
  assert.match(xml, /<TNRef RefId="1" \/>/)
  assert.match(xml, /<Ref N="peer" RefId="1" \/>/)
  const back = deserialize(xml) as PSObject[]
  assert.equal(back[0], back[2])
  assert.equal((back[0] as PSObject).get('peer'), back[1])
  assert.equal((back[1] as PSObject).get('peer'), back[0])
  assert.equal(serialize(back), xml)
  const selfList: unknown[] = []
  selfList.push(selfList)
  const again = deserialize(serialize(selfList)) as unknown[]
  assert.equal(again[0], again)
})

test('type name lists are reused by TNRef only when equal name by name', () => {
  // one name holding a NUL and two names that joined with a NUL would read the same are different lists
  const one = new PSObject({ typeNames: ['A\u0000B'] })
  const two = new PSObject({ typeNames: ['A', 'B'] })
  const same = new PSObject({ typeNames: ['A', 'B'] })
  const longer = new PSObject({ typeNames: ['A', 'B', 'C'] })
  // a name that spells a length-prefixed key of two names is still one name
  const spelled = new PSObject({ typeNames: ['1:A1:B'] })
  const xml = serialize([one, two, same, longer, spelled])
  assert.match(xml, /<TN RefId="1"><T>A_x0000_B<\/T><\/TN>/)
  assert.match(xml, /<TN RefId="2"><T>A<\/T><T>B<\/T><\/TN>/)
  assert.match(xml, /<Obj RefId="3"><TNRef RefId="2" \/><\/Obj>/)
  assert.match(xml, /<TN RefId="3"><T>A<\/T><T>B<\/T><T>C<\/T><\/TN>/)
  assert.match(xml, /<TN RefId="4"><T>1:A1:B<\/T><\/TN>/)
  const back = deserialize(xml) as PSObject[]
  assert.deepEqual(
    back.map((o) => o.typeNames),
    [['A\u0000B'], ['A', 'B'], ['A', 'B'], ['A', 'B', 'C'], ['1:A1:B']],
  )
})

test('enums deserialize to typed classes with value and name; flags names combine', () => {
  const xml = serialize(PSThreadOptions.of(2))
  const e = deserialize(xml)
  assert.ok(e instanceof PSThreadOptions)
  assert.ok(e instanceof PSEnum)
  assert.equal(e.value, 2)
  assert.equal(e.name, 'ReuseThread')
  assert.equal(
    RemoteStreamOptions.of(3).name,
    'AddInvocationInfoToErrorRecord, AddInvocationInfoToWarningRecord',
  )
  const unknown = deserialize(
    '<Obj RefId="0"><TN RefId="0"><T>My.Enum</T><T>System.Enum</T><T>System.ValueType</T><T>System.Object</T></TN><ToString>Blue</ToString><I32>4</I32></Obj>',
  )
  assert.ok(unknown instanceof PSEnum)
  assert.equal(Number(unknown), 4)
  assert.equal(String(unknown), 'Blue')
})

test('known record types deserialize to typed classes, also with the Deserialized. prefix', () => {
  const err = ErrorRecord.create({
    message: 'boom',
    fullyQualifiedErrorId: 'MyError',
    category: 13,
    exceptionType: 'System.IO.FileNotFoundException',
  })
  const back = deserialize(serialize(err)) as ErrorRecord
  assert.ok(back instanceof ErrorRecord)
  assert.equal(back.message, 'boom')
  assert.equal(back.fullyQualifiedErrorId, 'MyError')
  assert.equal(back.categoryInfo.categoryName, 'ObjectNotFound')
  // PROGRESS_RECORD bodies carry no type names on the wire (the message type says what they are)
  const prog = ProgressRecord.create({ activity: 'Copy', statusDescription: 'half', percentComplete: 50 })
  assert.match(serialize(prog), /^<Obj RefId="0"><MS><S N="Activity">Copy<\/S>/)
  assert.equal(prog.percentComplete, 50)
  assert.equal(prog.recordType, 'Processing')
  const warn = deserialize(
    '<Obj RefId="0"><TN RefId="0"><T>Deserialized.System.Management.Automation.WarningRecord</T><T>Deserialized.System.Management.Automation.InformationalRecord</T><T>Deserialized.System.Object</T></TN><ToString>careful</ToString><MS><S N="InformationalRecord_Message">careful</S><B N="InformationalRecord_SerializeInvocationInfo">false</B></MS></Obj>',
  )
  assert.ok(warn instanceof WarningRecord)
  assert.equal(warn.message, 'careful')
  const info = deserialize(
    '<Obj RefId="0"><TN RefId="0"><T>System.Management.Automation.InformationRecord</T><T>System.Object</T></TN><ToString>hi</ToString><MS><S N="MessageData">hi</S><S N="Source">Write-Information</S><Obj N="Tags" RefId="1"><TN RefId="1"><T>System.Collections.Generic.List`1[[System.String]]</T><T>System.Object</T></TN><LST><S>PSHOST</S></LST></Obj></MS></Obj>',
  ) as InformationRecord
  assert.equal(info.message, 'hi')
  assert.deepEqual(info.tags, ['PSHOST'])
})

test('PSCredential carries its password as a SecureString; HostInfo, Coordinates and Size build and read back', () => {
  const cipher = { encrypt: (p: Uint8Array) => p, decrypt: (c: Uint8Array) => c }
  const cred = deserialize(serialize(PSCredential.create('me', 'pw'), { cipher }), { cipher }) as PSCredential
  assert.equal(cred.userName, 'me')
  assert.ok(cred.password instanceof PSSecureString)
  assert.equal(cred.password.reveal(), 'pw')
  const hi = HostInfo.create()
  assert.equal(hi.isHostNull, true)
  const withData = deserialize(
    serialize(
      HostInfo.create({
        defaultData: new Map<number, unknown>([
          [6, Size.create(120, 50)],
          [2, Coordinates.create(3, 4)],
          [9, 'title'],
        ]),
      }),
    ),
  ) as PSObject
  const data = new HostInfo({ extended: withData.extended }).hostDefaultData
  assert.equal((data?.get(6) as PSObject).get('width'), 120)
  assert.equal(data?.get(9), 'title')
  assert.equal(Coordinates.create(1, 2).x, 1)
})

test('unknown types are kept whole and re-serialize to equivalent CLIXML', () => {
  const xml =
    '<Obj RefId="0"><TN RefId="0"><T>Acme.Widget</T><T>System.Object</T></TN><ToString>w</ToString><S>base</S><Props><I32 N="Size">3</I32></Props><MS><Obj N="Child" RefId="1"><TNRef RefId="0" /><Props><I32 N="Size">1</I32></Props></Obj></MS></Obj>'
  const o = deserialize(xml) as PSObject
  assert.equal(o.baseValue, 'base')
  assert.equal(o.toString(), 'w')
  assert.deepEqual((o.get('Child') as PSObject).typeNames, ['Acme.Widget', 'System.Object'])
  assert.equal(serialize(o), xml)
})

test('an <Objs> wrapper (Export-Clixml) yields an array of its objects', () => {
  const v = deserialize(
    '<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><I32>1</I32><S>a</S></Objs>',
  )
  assert.deepEqual(v, [1, 'a'])
})

test('malformed complex input gives ClixmlError with the element path', () => {
  const bad: [string, RegExp][] = [
    ['<Obj RefId="0"><MS><I32>1</I32></MS></Obj>', /without N attribute.*Obj\/MS\/I32/],
    ['<Ref RefId="9" />', /unknown RefId 9/],
    ['<Obj RefId="0"><TNRef RefId="4" /></Obj>', /TNRef to unknown RefId/],
    ['<Obj RefId="0"><DCT><En><S N="Key">a</S></En></DCT></Obj>', /Key and a Value/],
    ['<Obj RefId="0"><Bogus /></Obj>', /unknown element <Bogus>/],
    ['<Obj RefId="0"><MS><I32 N="a">x</I32></MS></Obj>', /Obj\/MS\/I32\[N=a\]/],
    ['<Obj><MS>', /unclosed/],
    ['<!DOCTYPE x [<!ENTITY e "boom">]><S>&e;</S>', /DTD/],
    ['<S>&e;</S>', /unknown entity/],
  ]
  for (const [xml, re] of bad) {
    assert.throws(
      () => deserialize(xml),
      (e: unknown) => e instanceof ClixmlError && re.test(e.message),
      xml,
    )
  }
  const deep = '<Obj RefId="0"><MS>'.repeat(300) + '</MS></Obj>'.repeat(300)
  assert.throws(
    () => deserialize(deep),
    (e: unknown) => e instanceof ClixmlError && /deeper/.test(e.message),
  )
  assert.throws(() => deserialize('<S>' + 'a'.repeat(100) + '</S>', { maxLength: 50 }), ClixmlError)
})

test('documents read one after another, after refused ones and from inside a cipher callback, read as alone', () => {
  const doc = serialize(PSObject.custom({ a: 1, list: ['x', 'y'], nested: PSObject.custom({ b: 'c' }) }))
  const alone = canonicalClixml(serialize(deserialize(doc)))
  // refused mid-document (open elements, attributes and type names left behind by the failed read)
  const refused = [
    '<Obj RefId="0"><TN RefId="0"><T>A</T></TN><MS><Obj N="x" RefId="1"><LST><S>a</S><Bad /></LST></Obj></MS></Obj>',
    '<Obj RefId="0" a="1" b="2" c="3"><MS><S N="s">x</S><I32 N="i">nope</I32></MS></Obj>',
    '<Obj RefId="0"><MS><S N="s">x</S></MS>',
  ]
  for (const bad of refused) {
    assert.throws(() => deserialize(bad), ClixmlError)
    assert.equal(canonicalClixml(serialize(deserialize(doc))), alone)
  }
  // a document read while another is being read (a cipher that deserializes)
  const inner = serialize(PSObject.custom({ inner: true }))
  let seen: unknown
  const cipher = {
    encrypt: (b: Uint8Array): Uint8Array => b,
    decrypt: (b: Uint8Array): Uint8Array => {
      seen = deserialize(inner)
      return b
    },
  }
  const outer = `<Obj RefId="0"><MS><SS N="secret">AAEC</SS><S N="after">z</S></MS></Obj>`
  const read = deserialize(outer, { cipher }) as PSObject
  assert.equal(read.get('after'), 'z')
  assert.equal((seen as PSObject).get('inner'), true)
  assert.equal(canonicalClixml(serialize(deserialize(doc))), alone)
})
