/**
 * CLIXML vectors (MS-PSRP 2.2.5): what PowerShell 7.6.9's own PSSerializer writes, the seed
 * walkthrough's message bodies and the MS-PSRP 2.2.2.26 example. Each must deserialize to the right
 * JS value and re-serialize to the same element tree (byte for byte where PowerShell wrote it).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import type { PSByte, PSChar, PSDecimal, PSUInt64 } from '../../../src/clixml/index.ts'
import {
  deserialize,
  serialize,
  psMeta,
  ConsoleColor,
  ErrorRecord,
  InformationRecord,
  ProgressRecord,
  ProgressRecordType,
  PSDateTime,
  PSDouble,
  PSEnum,
  PSObject,
  PSSingle,
  PSThreadOptions,
  PSTimeSpan,
  PSVersion,
  HostInfo,
  ApartmentState,
  WarningRecord,
  Coordinates,
  KeyInfo,
  BufferCell,
  type CollectionMeta,
} from '../../../src/clixml/index.ts'
import { canonicalClixml } from '../../helpers/clixml-tree.ts'
import { ClixmlError } from '../../../src/errors.ts'

const dir = new URL('../../vectors/clixml/', import.meta.url)
const read = (name: string): string => readFileSync(new URL(name, dir), 'utf8')
const { source, vectors } = JSON.parse(read('pwsh-vectors.json')) as {
  source: string
  vectors: { name: string; clixml: string }[]
}
const byName = new Map(vectors.map((v) => [v.name, v.clixml]))
const ps = (name: string): string => {
  const x = byName.get(name)
  if (x === undefined) throw new Error(`no vector ${name}`)
  return x
}

/** Known gaps in the implementation, checked as todo tests below (none at the moment). */
const KNOWN_GAPS: Record<string, string> = {}
const EQUIVALENT_ONLY: Record<string, string> = {
  'BA empty': 'PowerShell writes <BA />, we write <BA></BA>; same element',
}

test(`vectors come from real PowerShell (${source})`, () => {
  assert.match(source, /^PowerShell 7\.\d+\.\d+ PSSerializer/)
  assert.ok(vectors.length >= 90)
})

for (const { name, clixml } of vectors) {
  const gap = KNOWN_GAPS[name]
  test(
    `pwsh vector "${name}" re-serializes ${clixml.startsWith('<Obj') || EQUIVALENT_ONLY[name] ? 'to an equivalent tree' : 'byte for byte'}`,
    gap === undefined ? {} : { todo: gap },
    () => {
      const value = deserialize(clixml)
      const again = serialize(value)
      if (clixml.startsWith('<Obj') || EQUIVALENT_ONLY[name] !== undefined) {
        assert.equal(canonicalClixml(again), canonicalClixml(clixml))
      } else {
        assert.equal(again, clixml)
      }
    },
  )
}

test('pwsh vectors deserialize to the JS types of the contract', () => {
  assert.equal(
    deserialize(ps('S seed example')),
    'Hello World\nXML is 💩 when dealing with things like _x000A_\n',
  )
  assert.equal(deserialize(ps('S tab cr C1 specials')), 'a\tb\rc\u0085\u009f\u00a0<&>"\']]>')
  assert.equal(deserialize(ps('S underscore x X')), '_x0041_ _X0041_ __x _y x_ _x12G4_')
  assert.equal(deserialize(ps('S lone surrogates')), '\ud800z\udc00')
  assert.equal(deserialize(ps('S empty')), '')
  assert.equal(String(deserialize(ps('C')) as PSChar), '☃')
  assert.equal((deserialize(ps('By')) as PSByte).value, 255)
  assert.equal(deserialize(ps('I32')), -2147483648)
  assert.equal(deserialize(ps('I64')), -(2n ** 63n))
  assert.equal((deserialize(ps('U64')) as PSUInt64).value, 2n ** 64n - 1n)
  assert.equal(deserialize(ps('Db 1.5')), 1.5)
  assert.equal(deserialize(ps('Db INF')), Infinity)
  assert.equal(deserialize(ps('Db -INF')), -Infinity)
  assert.ok(Number.isNaN(deserialize(ps('Db NaN'))))
  assert.ok(deserialize(ps('Db integral 3')) instanceof PSDouble)
  assert.equal((deserialize(ps('Sg 0.1')) as PSSingle).value, 0.1)
  assert.equal((deserialize(ps('D exact')) as PSDecimal).value, '79228162514264337593543950335')
  assert.equal((deserialize(ps('D scale kept')) as PSDecimal).value, '1.1')
  const seed = deserialize(ps('DT utc')) as PSDateTime
  assert.equal(seed.kind, 'utc')
  assert.equal(seed.toString(), '2008-04-11T17:42:32.2731993Z')
  assert.equal(seed.toDate().toISOString(), '2008-04-11T17:42:32.273Z')
  assert.equal((deserialize(ps('DT unspecified')) as PSDateTime).ticks, 637000000000000001n)
  assert.equal((deserialize(ps('DT max')) as PSDateTime).ticks, 3155378975999999999n)
  assert.equal((deserialize(ps('TS seed')) as PSTimeSpan).ticks, 90269026n)
  assert.equal((deserialize(ps('TS min')) as PSTimeSpan).ticks, -(2n ** 63n))
  assert.equal((deserialize(ps('TS max')) as PSTimeSpan).ticks, 2n ** 63n - 1n)
  assert.deepEqual(deserialize(ps('BA')), Uint8Array.of(0, 1, 2, 250, 255))
  assert.equal(deserialize(ps('Nil')), null)
  assert.equal((deserialize(ps('Version 4')) as PSVersion).compare('10.0.17763.0'), 1)
})

test('pwsh collections: arrays and Maps with their .NET identity under psMeta', () => {
  const list = deserialize(ps('LST Object[]')) as unknown[]
  assert.deepEqual(list, [1, 'two', null])
  assert.deepEqual((list as unknown as { [psMeta]: CollectionMeta })[psMeta].typeNames[0], 'System.Object[]')
  const queue = deserialize(ps('QUE')) as unknown[] & { [psMeta]: CollectionMeta }
  assert.equal(queue[psMeta].kind, 'QUE')
  const stack = deserialize(ps('STK')) as unknown[] & { [psMeta]: CollectionMeta }
  assert.equal(stack[psMeta].kind, 'STK')
  assert.deepEqual([...stack], [2, 1], 'a Stack serializes top first')
  const set = deserialize(ps('IE HashSet')) as unknown[] & { [psMeta]: CollectionMeta }
  assert.equal(set[psMeta].kind, 'IE')
  assert.ok(set[psMeta].adapted.has('Comparer'), 'adapted properties of a collection are kept')
  const ordered = deserialize(ps('DCT ordered')) as Map<unknown, unknown>
  assert.deepEqual(
    [...ordered],
    [
      ['a', 1],
      ['b', 2],
    ],
  )
  assert.deepEqual([...(deserialize(ps('DCT Hashtable')) as Map<unknown, unknown>)], [['key', 'value']])
})

test('pwsh objects: Ref identity, cycles, TNRef reuse, primitives with notes', () => {
  const repeated = deserialize(ps('Ref repeated object')) as PSObject[]
  assert.equal(repeated.length, 2)
  assert.equal(repeated[0], repeated[1])
  const cycle = deserialize(ps('Ref cycle')) as unknown[]
  assert.equal(cycle[0], 1)
  assert.equal(cycle[1], cycle)
  const [a, b] = deserialize(ps('TNRef reuse')) as PSObject[]
  assert.deepEqual(a?.typeNames, b?.typeNames)
  assert.equal(b?.get('a'), 2)
  const noted = deserialize(ps('PSInt with note')) as PSObject
  assert.equal(noted.baseValue, 424242)
  assert.equal(noted.get('Note'), 'n')
  assert.deepEqual(noted.typeNames, [])
  const typed = deserialize(ps('PSCustomObject typename')) as PSObject
  assert.equal(typed.typeNames[0], 'My.Type')
  const nested = deserialize(ps('PSCustomObject')) as PSObject
  assert.equal((nested.get('Nested') as PSObject).get('x'), 1)
  assert.deepEqual([...(nested.get('List') as unknown[])], [1, 2])
})

test('pwsh enums: typed classes where registered, PSEnum otherwise, flags names kept', () => {
  const color = deserialize(ps('enum ConsoleColor'))
  assert.ok(color instanceof ConsoleColor)
  assert.equal((color as PSEnum).value, 6)
  assert.equal((color as PSEnum).name, 'DarkYellow')
  const flags = deserialize(ps('enum flags')) as PSEnum
  assert.ok(flags instanceof PSEnum)
  assert.equal(flags.value, 3)
  assert.equal(flags.name, 'ReadOnly, Hidden')
  assert.ok(flags.hasFlag(2))
  assert.equal((deserialize(ps('enum ErrorCategory')) as PSEnum).value, 13)
})

test('pwsh records and host types deserialize to their typed classes', () => {
  const err = deserialize(ps('ErrorRecord')) as ErrorRecord
  assert.ok(err instanceof ErrorRecord)
  assert.match(err.message, /psrp-vector/)
  assert.match(err.fullyQualifiedErrorId ?? '', /PathNotFound/)
  assert.equal(err.categoryInfo.category, 13)
  assert.equal(err.categoryInfo.categoryName, 'ObjectNotFound')
  const warning = deserialize(ps('WarningRecord'))
  assert.ok(warning instanceof WarningRecord)
  assert.equal((warning as WarningRecord).message, 'careful')
  const info = deserialize(ps('InformationRecord')) as InformationRecord
  assert.ok(info instanceof InformationRecord)
  assert.equal(info.message, 'msg')
  assert.equal(info.source, 'src')
  const coords = deserialize(ps('Coordinates')) as Coordinates
  assert.ok(coords instanceof Coordinates)
  assert.deepEqual([coords.x, coords.y], [1, 2])
  const key = deserialize(ps('KeyInfo')) as KeyInfo
  assert.ok(key instanceof KeyInfo)
  assert.deepEqual([key.virtualKeyCode, key.character, key.controlKeyState, key.keyDown], [65, 'a', 16, true])
  const cell = deserialize(ps('BufferCell')) as BufferCell
  assert.ok(cell instanceof BufferCell)
  assert.deepEqual([cell.character, cell.foregroundColor, cell.backgroundColor], ['x', 12, 9])
})

test('pwsh ProgressRecord: the <PR> element reads as a typed ProgressRecord and writes back as <PR>', () => {
  const rec = deserialize(ps('ProgressRecord')) as ProgressRecord
  assert.ok(rec instanceof ProgressRecord)
  assert.equal(rec.element, 'PR')
  assert.deepEqual(
    [rec.activity, rec.activityId, rec.statusDescription, rec.currentOperation],
    ['Activity', 7, 'Status', undefined],
  )
  assert.deepEqual([rec.parentActivityId, rec.percentComplete, rec.secondsRemaining], [-1, -1, -1])
  assert.equal(rec.recordType, 'Processing')
  // as a property, with a current operation, completed, escaped text
  const xml =
    '<Obj RefId="0"><MS><PR N="p"><AV>a_x000A_&lt;</AV><AI>1</AI><S>op</S><PI>0</PI><PC>50</PC>' +
    '<T>Completed</T><SR>3</SR><SD>s</SD></PR></MS></Obj>'
  const obj = deserialize(xml) as PSObject
  const inner = obj.get('p') as ProgressRecord
  assert.deepEqual([inner.activity, inner.currentOperation, inner.recordType], ['a\n<', 'op', 'Completed'])
  assert.equal(serialize(obj), xml)
  // PowerShell reads T case-insensitively and an empty CurrentOperation as none
  const loose = deserialize(
    '<PR><AV>a</AV><AI>1</AI><S></S><PI>-1</PI><PC>-1</PC><T>completed</T><SR>-1</SR><SD>s</SD></PR>',
  ) as ProgressRecord
  assert.equal(loose.currentOperation, undefined)
  assert.equal(
    serialize(loose),
    '<PR><AV>a</AV><AI>1</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Completed</T><SR>-1</SR><SD>s</SD></PR>',
  )
  // the PROGRESS_RECORD message form stays an <Obj>
  const built = ProgressRecord.create({ activity: 'a', statusDescription: 's' })
  assert.equal(built.element, 'Obj')
  assert.match(serialize(built), /^<Obj RefId="0"><MS><S N="Activity">a<\/S>/)
  built.element = 'PR'
  assert.equal(
    serialize(built),
    '<PR><AV>a</AV><AI>0</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Processing</T><SR>-1</SR><SD>s</SD></PR>',
  )
  assert.equal(ProgressRecordType.values.Completed, 1)
})

test('malformed <PR> elements are ClixmlErrors naming the element', () => {
  const pr = (inner: string): string => `<PR>${inner}</PR>`
  const ok = '<AV>a</AV><AI>1</AI><Nil /><PI>-1</PI><PC>-1</PC><T>Processing</T><SR>-1</SR><SD>s</SD>'
  for (const [xml, message] of [
    [pr(ok.replace('<SD>s</SD>', '')), /PR needs 8 child elements/],
    [pr(ok.replace('<AI>1</AI>', '<AX>1</AX>')), /<AX> where PR expects <AI>/],
    [pr(ok.replace('<AI>1</AI>', '<AI>x</AI>')), /AI is not an Int32/],
    [pr(ok.replace('<PC>-1</PC>', '<PC>2147483648</PC>')), /PC is not an Int32/],
    [pr(ok.replace('Processing', 'Running')), /T is not a ProgressRecordType/],
  ] as const) {
    assert.throws(
      () => deserialize(xml),
      (e: unknown) => e instanceof ClixmlError && message.test(e.message),
      xml,
    )
  }
})

test('Single values are written as .NET writes a float: shortest float32 digits, E notation from 1E+09', () => {
  // each checked against [System.Xml.XmlConvert]::ToString([float]…) in pwsh 7.6.9
  const cases: [number, string][] = [
    [0.1, '0.1'],
    [1e8, '100000000'],
    [1e9, '1E+09'],
    [123456789, '123456790'],
    [0.0001, '0.0001'],
    [0.00001, '1E-05'],
    [Math.fround(3.4028234663852886e38), '3.4028235E+38'],
    [1.17549435e-38, '1.1754944E-38'],
    [1.401298464324817e-45, '1E-45'],
    [265811.125, '265811.12'], // an exact tie goes to the even digit
    [33554448, '33554450'], // a decimal on the rounding boundary counts when the mantissa is even
    [1.262177448353619e-29, '1.2621775E-29'], // a power of two: the interval below is half as wide
    [-1.5, '-1.5'],
    [-0, '-0'],
    [Infinity, 'INF'],
    [-Infinity, '-INF'],
    [NaN, 'NaN'],
  ]
  for (const [v, text] of cases) assert.equal(serialize(new PSSingle(v)), `<Sg>${text}</Sg>`, String(v))
  assert.equal((deserialize('<Sg>1E+09</Sg>') as PSSingle).value, 1e9)
})

test('JS-built values serialize exactly as PowerShell writes the same .NET values', () => {
  assert.equal(
    serialize('Hello World\nXML is 💩 when dealing with things like _x000A_\n'),
    ps('S seed example'),
  )
  assert.equal(serialize('a\tb\rc\u0085\u009f\u00a0<&>"\']]>'), ps('S tab cr C1 specials'))
  assert.equal(serialize('_x0041_ _X0041_ __x _y x_ _x12G4_'), ps('S underscore x X'))
  assert.equal(serialize(-2147483648), ps('I32'))
  assert.equal(serialize(-(2n ** 63n)), ps('I64'))
  assert.equal(serialize(1.5), ps('Db 1.5'))
  assert.equal(serialize(1e17), ps('Db 1E+17'))
  assert.equal(serialize(1e16), ps('Db 1E16 plain'))
  assert.equal(serialize(0.00001), ps('Db 1E-05'))
  assert.equal(serialize(1e300), ps('Db 1E+300'))
  assert.equal(serialize(5e-324), ps('Db 5E-324'))
  assert.equal(serialize(Number.MAX_VALUE), ps('Db max'))
  assert.equal(serialize(-Infinity), ps('Db -INF'))
  assert.equal(serialize(NaN), ps('Db NaN'))
  assert.equal(serialize(-0), ps('Db -0'))
  assert.equal(serialize(new PSDateTime(3155378975999999999n)), ps('DT max'))
  assert.equal(
    serialize(PSDateTime.from(new Date(Date.UTC(2020, 0, 1, 0, 0, 0, 100)))),
    ps('DT utc trailing zero'),
  )
  assert.equal(serialize(new PSTimeSpan(-1n)), ps('TS minus one tick'))
  assert.equal(serialize(new PSTimeSpan(864_000_000_000n * 400n)), ps('TS 400 days'))
  assert.equal(serialize(new PSTimeSpan(37_200_000_000n)), ps('TS h m'))
  assert.equal(serialize(Uint8Array.of(0, 1, 2, 250, 255)), ps('BA'))
  assert.equal(serialize(null), ps('Nil'))
  assert.equal(serialize(ConsoleColor.of(6)), ps('enum ConsoleColor'))
})

test('seed SESSION_CAPABILITY body: three Version properties, re-serialized as the same tree', () => {
  const xml = read('seed-session-capability.xml')
  const cap = deserialize(xml) as PSObject
  assert.ok(cap.get('protocolversion') instanceof PSVersion)
  assert.equal(String(cap.get('protocolversion')), '2.3')
  assert.equal(String(cap.get('PSVersion')), '2.0')
  assert.equal(String(cap.get('SerializationVersion')), '1.1.0.1')
  assert.equal(canonicalClixml(serialize(cap)), canonicalClixml(xml))
})

test('seed INIT_RUNSPACEPOOL body: typed enums, HostInfo, Nil ApplicationArguments', () => {
  const xml = read('seed-init-runspacepool.xml')
  const init = deserialize(xml) as PSObject
  assert.equal(init.get('MinRunspaces'), 1)
  assert.equal(init.get('MaxRunspaces'), 1)
  const threads = init.get('PSThreadOptions')
  assert.ok(threads instanceof PSThreadOptions)
  assert.equal((threads as PSEnum).name, 'Default')
  // the seed's TN says Runspaces.ApartmentState (PowerShell writes System.Threading.ApartmentState)
  const apartment = init.get('ApartmentState') as PSEnum
  assert.ok(apartment instanceof PSEnum)
  assert.equal(apartment.constructor, PSEnum, 'not the registered System.Threading.ApartmentState class')
  assert.equal(ApartmentState.typeName, 'System.Threading.ApartmentState')
  assert.equal(apartment.value, 2)
  assert.equal(apartment.name, 'UNKNOWN')
  const host = init.get('HostInfo')
  assert.ok(host instanceof PSObject)
  assert.equal(init.get('ApplicationArguments'), null)
  assert.equal(canonicalClixml(serialize(init)), canonicalClixml(xml))
  const built = HostInfo.create()
  assert.equal(canonicalClixml(serialize(built)), canonicalClixml(serialize(host)))
})

test('seed Get-PSDrive output: unknown type kept whole, U64 notes, nested PSCredential', () => {
  const xml = read('seed-psdriveinfo.xml')
  const drive = deserialize(xml) as PSObject
  assert.deepEqual(drive.typeNames, ['System.Management.Automation.PSDriveInfo', 'System.Object'])
  assert.equal(drive.toString(), 'C')
  assert.equal(drive.get('Root'), 'C:\\')
  assert.equal((drive.get('Used') as PSUInt64).value, 29512912896n)
  assert.equal(drive.get('MaximumSize'), null)
  assert.equal((drive.get('Credential') as PSObject).get('UserName'), null)
  assert.equal(canonicalClixml(serialize(drive)), canonicalClixml(xml))
})

test('MS-PSRP 2.2.2.26 INFORMATION_RECORD example: typed record, local DateTime offset kept', () => {
  const xml = read('spec-information-record.xml')
  const info = deserialize(xml) as InformationRecord
  assert.ok(info instanceof InformationRecord)
  assert.equal(info.message, 'Information Data')
  assert.equal(info.source, 'Write-Information')
  assert.equal(info.user, 'DOMAIN\\UserName')
  assert.equal(info.processId, 64332)
  assert.deepEqual(info.tags, [])
  const when = info.timeGenerated as PSDateTime
  assert.equal(when.kind, 'local')
  assert.equal(when.offsetMinutes, -420)
  assert.equal(when.toString(), '2015-03-09T11:00:06.7899543-07:00')
  assert.equal(when.toDate().toISOString(), '2015-03-09T18:00:06.789Z')
  assert.equal(canonicalClixml(serialize(info)), canonicalClixml(xml))
})
