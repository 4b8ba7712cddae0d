/**
 * Objects that refer to themselves (RefIds make cycles possible): toString, valueOf, toJSON and the
 * typed getters of every registered record type give `[circular]` text or a ClixmlError, never a stack
 * overflow; long chains of base values are followed without recursion.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { CIRCULAR_TEXT, deserialize, NESTED_TEXT, PSEnum, PSObject } from '../../../src/clixml/index.ts'
import { lookupType } from '../../../src/clixml/registry.ts'
import { ClixmlError } from '../../../src/errors.ts'

test('an object whose base value is itself reads as [circular], not a stack overflow', () => {
  const self = deserialize('<Obj RefId="0"><Ref RefId="0" /></Obj>')
  assert.ok(self instanceof PSObject)
  assert.equal(self.baseValue, self)
  assert.equal(String(self), CIRCULAR_TEXT)
  assert.equal(`${self}`, '[circular]')
  assert.ok(Number.isNaN(Number(self)))
  assert.equal(JSON.stringify(self), '"[circular]"')
  // two objects whose base values are each other
  const pair = deserialize('<Obj RefId="0"><Obj RefId="1"><Ref RefId="0" /></Obj></Obj>') as PSObject
  assert.equal(String(pair), CIRCULAR_TEXT)
  assert.equal(String(pair.baseValue), CIRCULAR_TEXT)
  assert.equal(JSON.stringify(pair), '"[circular]"')
  // a ToString still wins
  const named = deserialize('<Obj RefId="0"><ToString>me</ToString><Ref RefId="0" /></Obj>')
  assert.equal(String(named), 'me')
})

test('a cycle through a collection base value reads as [circular]', () => {
  const v = deserialize('<Obj RefId="0"><Obj RefId="1"><LST><S>a</S><Ref RefId="0" /></LST></Obj></Obj>')
  assert.equal(String(v), `a,${CIRCULAR_TEXT}`)
  const list = deserialize('<Obj RefId="1"><LST><S>a</S><Obj RefId="2"><Ref RefId="1" /></Obj></LST></Obj>')
  assert.ok(Array.isArray(list))
  assert.doesNotThrow(() => String(list))
})

test('an enum whose value is itself: a ClixmlError from value/valueOf, [circular] as text', () => {
  const xml =
    '<Obj RefId="0"><TN RefId="0"><T>Test.Color</T><T>System.Enum</T><T>System.Object</T></TN><Ref RefId="0" /></Obj>'
  const e = deserialize(xml)
  assert.ok(e instanceof PSEnum)
  assert.throws(() => e.value, ClixmlError)
  assert.throws(() => Number(e), /the value of enum Test\.Color refers to itself/)
  assert.throws(() => e.hasFlag(1), ClixmlError)
  assert.equal(e.name, CIRCULAR_TEXT)
  assert.equal(String(e), CIRCULAR_TEXT)
  // an enum whose value is another enum is followed
  const nested = deserialize(
    '<Obj RefId="0"><TN RefId="0"><T>A</T><T>System.Enum</T></TN><Obj RefId="1"><TNRef RefId="0" /><I32>5</I32></Obj></Obj>',
  ) as PSEnum
  assert.equal(nested.value, 5)
})

test('a long chain of base values is followed in a loop, not by recursion', () => {
  const n = 20_000
  const parts = ['<Obj RefId="l"><LST><Obj RefId="0"><S>end</S></Obj>']
  for (let i = 1; i < n; i++) parts.push(`<Obj RefId="${i}"><Ref RefId="${i - 1}" /></Obj>`)
  parts.push('</LST></Obj>')
  const list = deserialize(parts.join('')) as PSObject[]
  const last = list[n - 1] as PSObject
  assert.equal(String(last), 'end')
  assert.equal(JSON.stringify(last), '"end"')
  // a chain of enums
  const enums = [
    '<Obj RefId="l"><LST><Obj RefId="0"><TN RefId="t"><T>E</T><T>System.Enum</T></TN><I32>7</I32></Obj>',
  ]
  for (let i = 1; i < n; i++)
    enums.push(`<Obj RefId="${i}"><TNRef RefId="t" /><Ref RefId="${i - 1}" /></Obj>`)
  enums.push('</LST></Obj>')
  const elist = deserialize(enums.join('')) as PSEnum[]
  assert.equal(Number(elist[n - 1]), 7)
})

test('text nested through collections without end stops at a visible marker', () => {
  const n = 10_000
  const parts = ['<Obj RefId="l"><LST><Obj RefId="0"><S>end</S></Obj>']
  for (let i = 1; i < n; i += 2) {
    parts.push(`<Obj RefId="${i}"><LST><Ref RefId="${i - 1}" /></LST></Obj>`)
    parts.push(`<Obj RefId="${i + 1}"><Ref RefId="${i}" /></Obj>`)
  }
  parts.push('</LST></Obj>')
  const list = deserialize(parts.join('')) as unknown[]
  assert.equal(String(list[list.length - 1]), NESTED_TEXT)
  assert.equal(String(list[4]), 'end')
})

test('the text of lists that share lists is bounded, not exponential', () => {
  // list i holds list i-1 twice: 2^24 items when written out
  const n = 24
  const parts = ['<Obj RefId="top"><LST><Obj RefId="0"><LST><S>x</S></LST></Obj>']
  for (let i = 1; i < n; i++) {
    parts.push(`<Obj RefId="${i}"><LST><Ref RefId="${i - 1}" /><Ref RefId="${i - 1}" /></LST></Obj>`)
  }
  parts.push(`<Obj RefId="w"><Ref RefId="${n - 1}" /></Obj></LST></Obj>`)
  const list = deserialize(parts.join('')) as unknown[]
  const wrapper = list[n] as PSObject
  assert.ok(Array.isArray(wrapper.baseValue))
  const text = String(wrapper)
  assert.ok(text.length < 1_000_000, `${text.length} characters`)
  assert.ok(text.startsWith('x,x,x,'))
  assert.ok(text.endsWith(NESTED_TEXT))
  // a small one is written out in full, as Array.prototype.join would
  const small = deserialize(
    '<Obj RefId="0"><Obj RefId="1"><LST><S>a</S><Nil /><Obj RefId="2"><LST><I32>1</I32><I32>2</I32></LST></Obj></LST></Obj></Obj>',
  )
  assert.equal(String(small), 'a,,1,2')
  // a list inside itself
  const cyclic = deserialize('<Obj RefId="0"><Obj RefId="1"><LST><S>a</S><Ref RefId="1" /></LST></Obj></Obj>')
  assert.equal(String(cyclic), `a,${CIRCULAR_TEXT}`)
})

/** Getters of a value's class chain. */
function getters(v: object): string[] {
  const names = new Set<string>()
  for (let p = Object.getPrototypeOf(v) as object | null; p !== null && p !== Object.prototype;) {
    for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) if (d.get) names.add(k)
    p = Object.getPrototypeOf(p) as object | null
  }
  return [...names]
}

const RECORD_TYPES = [
  'System.Management.Automation.ErrorRecord',
  'System.Management.Automation.WarningRecord',
  'System.Management.Automation.VerboseRecord',
  'System.Management.Automation.DebugRecord',
  'System.Management.Automation.InformationalRecord',
  'System.Management.Automation.InformationRecord',
  'System.Management.Automation.ProgressRecord',
  'System.Management.Automation.PSCredential',
  'System.Management.Automation.Host.Coordinates',
  'System.Management.Automation.Host.Size',
  'System.Management.Automation.Host.Rectangle',
  'System.Management.Automation.Host.KeyInfo',
  'System.Management.Automation.Host.BufferCell',
  'System.Management.Automation.Host.ChoiceDescription',
  'System.Management.Automation.Host.FieldDescription',
  'System.Globalization.CultureInfo',
  'System.Management.Automation.Runspaces.HostInfo',
  'Selected.Microsoft.PowerShell.Commands.GenericMeasureInfo',
  'System.Management.Automation.ParameterMetadata',
  'System.Management.Automation.CommandInfo',
]

/** The property names the getters of a typed object read (recorded through PSObject.get/has). */
function propertiesRead(o: PSObject): string[] {
  const names = new Set<string>()
  const { get, has } = PSObject.prototype
  PSObject.prototype.get = function (this: PSObject, name: string) {
    names.add(name)
    return get.call(this, name)
  }
  PSObject.prototype.has = function (this: PSObject, name: string) {
    names.add(name)
    return has.call(this, name)
  }
  try {
    for (const g of getters(o)) {
      try {
        void (o as unknown as Record<string, unknown>)[g]
      } catch {
        // an empty object may be refused; only the names matter here
      }
    }
  } finally {
    PSObject.prototype.get = get
    PSObject.prototype.has = has
  }
  return [...names]
}

test('typed record getters: every property a getter reads, made self-referencing, gives text or a ClixmlError', () => {
  let checked = 0
  for (const typeName of RECORD_TYPES) {
    const cls = lookupType([typeName])
    assert.ok(cls !== undefined, typeName)
    const names = propertiesRead(new cls({ typeNames: [typeName] }))
    assert.ok(names.length > 0, `${typeName} getters read no properties`)
    const self = (n: string): string[] => [
      `<Ref N="${n}" RefId="0" />`,
      `<Obj N="${n}" RefId="s1"><Ref RefId="s1" /></Obj>`,
      `<Obj N="${n}" RefId="s2"><TN RefId="e"><T>Test.E</T><T>System.Enum</T></TN><Ref RefId="s2" /></Obj>`,
      // a nested object (e.g. Exception, InvocationInfo) whose every read property is itself
      `<Obj N="${n}" RefId="s3"><MS>${names.map((m) => `<Ref N="${m}" RefId="s3" />`).join('')}</MS></Obj>`,
    ]
    for (const n of names) {
      for (const prop of self(n)) {
        // the record with its ToString refers to itself as well as through the property
        const xml = `<Obj RefId="0"><TN RefId="t"><T>${typeName}</T></TN><Ref RefId="0" /><MS>${prop}</MS></Obj>`
        const o = deserialize(xml) as PSObject
        assert.ok(o instanceof cls)
        for (const g of getters(o)) {
          try {
            const v = (o as unknown as Record<string, unknown>)[g]
            if (typeof v === 'object' && v !== null) String(v)
          } catch (err) {
            assert.ok(err instanceof ClixmlError, `${typeName}.${g} with ${prop}: ${String(err)}`)
          }
          checked++
        }
      }
    }
  }
  assert.ok(checked > 500, `${checked} getter calls`)
  // the message of an ErrorRecord whose ErrorDetails_Message is itself is visible text
  const err = deserialize(
    '<Obj RefId="0"><TN RefId="t"><T>System.Management.Automation.ErrorRecord</T></TN><MS><Obj N="ErrorDetails_Message" RefId="1"><Ref RefId="1" /></Obj></MS></Obj>',
  ) as { message: string }
  assert.equal(err.message, CIRCULAR_TEXT)
})
