/**
 * `psrp run --json`: deserialized PowerShell values as JSON that keeps their .NET types.
 *
 * The mapping ({@link toJsonValue}):
 *
 * | value (after deserialization) | JSON |
 * |---|---|
 * | `null`, `undefined` | `null` |
 * | string (`System.String`), boolean (`System.Boolean`) | string, boolean |
 * | number from `<I32>` or a non-integral `<Db>` | number |
 * | `NaN`, `±Infinity` | `{"@type":"System.Double","value":"NaN"}` (`"Infinity"`, `"-Infinity"`) |
 * | bigint (`System.Int64`) | `{"@type":"System.Int64","value":"9007199254740993"}` (decimal text, exact) |
 * | `PSUInt64`, `PSDecimal` | `{"@type":"System.UInt64"/"System.Decimal","value":"<exact decimal text>"}` |
 * | `PSByte`, `PSSByte`, `PSInt16`, `PSUInt16`, `PSUInt32`, `PSSingle`, integral `PSDouble` | `{"@type":"System.Byte",…,"value":<number>}` |
 * | `PSChar` | `{"@type":"System.Char","value":"x"}` |
 * | `PSDateTime` | `{"@type":"System.DateTime","value":"2024-05-01T10:00:00.1234567+02:00"}` (round-trip text, 100 ns exact) |
 * | `PSTimeSpan` | `{"@type":"System.TimeSpan","value":"PT1.5S"}` (xs:duration, as CLIXML writes it) |
 * | `PSGuid`, `PSVersion`, `PSUri`, `PSXmlDocument`, `PSScriptBlock` | `{"@type":"System.Guid",…,"value":"<text>"}` |
 * | `Uint8Array` (`System.Byte[]`) | `{"@type":"System.Byte[]","value":"<base64>"}` |
 * | `PSSecureString` | `{"@type":"System.Security.SecureString","value":null}` (never revealed) |
 * | array (any list, stack, queue) | JSON array of the mapped items |
 * | Map (hashtable, dictionary) with only string keys | `{"@type":"System.Collections.Hashtable","value":{"k":…}}` |
 * | Map with other keys | `{"@type":"…","entries":[[<key>,<value>],…]}` |
 * | enum (`PSEnum`) | `{"@type":"System.ServiceProcess.ServiceControllerStatus","value":4,"name":"Running"}` |
 * | PSObject with a base value (e.g. `Get-Date`, `Get-Content` lines) | the base value's mapping; note properties are dropped, as `.PSObject.BaseObject` would |
 * | PSObject with properties | `{"@type":"<first type name>", "<property>":<mapped value>, …}` (adapted, then extended) |
 * | PSObject without properties or base value | `{"@type":"<first type name>","value":"<ToString>"}` |
 *
 * `@type` is the first CLIXML type name as received (`Deserialized.` prefix included) and is left out
 * when the object had none. Objects nested deeper than {@link MAX_DEPTH} are written as
 * `{"@type":…,"value":"<ToString>"}`.
 *
 * **Shared references.** CLIXML can hold one object in many places (`<Ref RefId="…"/>`), and a server
 * can nest such references so that writing every occurrence out in full would double the output at
 * each level (a 1 KB document would become gigabytes). JSON has no references, so `--json` marks them
 * the way .NET's `System.Text.Json` (`ReferenceHandler.Preserve`) and Json.NET do: an object that is
 * reached more than once is written in full once, at its first occurrence in document order, with an
 * `"$id"` first (`"1"`, `"2"`, … as strings), and every later occurrence, including a reference back
 * to an enclosing object (a cycle), is `{"$ref":"<id>"}`. The first occurrence keeps its usual form
 * when that is a JSON object (`{"$id":"1","@type":…,…}`); a list becomes `{"$id":"1","$values":[…]}`
 * and a scalar (an object whose base value is a string or number) `{"$id":"1","$value":…}`. An object
 * whose base value is another object is that object (the chain is followed), so both share one id.
 * Values reached only once are written exactly as in the table above, so output without shared
 * references has no `$id`. A property or hashtable key that starts with `$` is written with one more
 * `$` in front (`$ref` → `$$ref`), so no data can be mistaken for a reference. The output is linear in
 * the size of the deserialized graph (each object is written once).
 *
 * @module
 */
import {
  PSByte,
  PSChar,
  PSDateTime,
  PSDecimal,
  PSDouble,
  PSEnum,
  PSGuid,
  PSInt16,
  PSObject,
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
  getMeta,
} from '../clixml/index.ts'

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

/** Nesting depth beyond which objects are written as their ToString text (docs/limits.md lists every limit). */
export const MAX_DEPTH = 64

/** Any class (for `instanceof` tables). */
type Ctor = abstract new (...args: never[]) => object

/** Wrappers whose `value` is a JS number. */
const NUMERIC: ReadonlyArray<readonly [Ctor, string]> = [
  [PSByte, 'System.Byte'],
  [PSSByte, 'System.SByte'],
  [PSInt16, 'System.Int16'],
  [PSUInt16, 'System.UInt16'],
  [PSUInt32, 'System.UInt32'],
  [PSSingle, 'System.Single'],
  [PSDouble, 'System.Double'],
]

/** Wrappers written as their (exact, round-trip) text. */
const TEXTUAL: ReadonlyArray<readonly [Ctor, string]> = [
  [PSGuid, 'System.Guid'],
  [PSVersion, 'System.Version'],
  [PSUri, 'System.Uri'],
  [PSXmlDocument, 'System.Xml.XmlDocument'],
  [PSScriptBlock, 'System.Management.Automation.ScriptBlock'],
  [PSTimeSpan, 'System.TimeSpan'],
  [PSDateTime, 'System.DateTime'],
  [PSDecimal, 'System.Decimal'],
  [PSUInt64, 'System.UInt64'],
  [PSChar, 'System.Char'],
]

const typed = (type: string, value: Json): { [key: string]: Json } => ({ '@type': type, value })

function withType(typeNames: readonly string[], rest: { [key: string]: Json }): { [key: string]: Json } {
  const t = typeNames[0]
  return t === undefined ? rest : { '@type': t, ...rest }
}

/** Maps one deserialized value to JSON (see the module documentation for the mapping). */
export function toJsonValue(value: unknown): Json {
  return new JsonMapper(value).map(value, 0)
}

/** One line of `--json` output: the mapped value, serialized. */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(toJsonValue(value))
}

/** A property name or hashtable key as written: a leading `$` is doubled (reserved for `$id`/`$ref`). */
const escapeKey = (k: string): string => (k.startsWith('$') ? `$${k}` : k)

/** What one value is written as, and so which values it leads to. */
type Shape =
  | { kind: 'leaf' } // written without looking at other values
  | { kind: 'array'; items: unknown[] }
  | { kind: 'map'; map: Map<unknown, unknown> }
  | { kind: 'object'; obj: PSObject } // properties
  | { kind: 'summary'; obj: object } // ToString text only

/** Where a chain of base values ends: the value written, and the object that stands for it. */
interface Target {
  /** The value written for the chain. */
  value: unknown
  /** Its identity for sharing: the value when it is an object, else the last PSObject of the chain. */
  key: object
  /** True when the chain runs in a circle: the start object is written as its ToString summary. */
  circular: boolean
}

/** Whether `obj` is written through its base value (a PSObject that is no typed wrapper or enum). */
function passesToBase(obj: object): obj is PSObject {
  return (
    obj instanceof PSObject &&
    !(obj instanceof PSEnum) &&
    obj.baseValue !== undefined &&
    obj.baseValue !== null
  )
}

/**
 * One `toJsonValue` run. Before writing, the graph is walked once (iteratively, each object once) to
 * find the objects reached more than once; those get an `$id` when first written and are `$ref`s after.
 */
class JsonMapper {
  /** Chain ends, per PSObject that passes to its base value (memoized: each chain link is followed once). */
  private readonly targets = new Map<PSObject, Target>()
  /** Objects (sharing keys) reached more than once. */
  private readonly shared = new Set<object>()
  /** Ids of shared objects already written (or being written). */
  private readonly ids = new Map<object, string>()

  constructor(root: unknown) {
    const seen = new Set<object>()
    const todo: unknown[] = [root]
    while (todo.length > 0) {
      const v = todo.pop()
      if (v === null || typeof v !== 'object') continue
      const t = this.target(v)
      if (seen.has(t.key)) {
        this.shared.add(t.key)
        continue
      }
      seen.add(t.key)
      if (t.circular || t.value === null || typeof t.value !== 'object') continue
      const shape = this.shape(t.value)
      switch (shape.kind) {
        case 'array':
          for (const item of shape.items) todo.push(item)
          break
        case 'map':
          for (const [k, item] of shape.map) todo.push(k, item)
          break
        case 'object':
          for (const item of shape.obj.adapted.values()) todo.push(item)
          for (const item of shape.obj.extended.values()) todo.push(item)
          break
        default:
          break
      }
    }
  }

  /** Follows the chain of base values from `obj` (each link once per run, thanks to the memo). */
  private target(obj: object): Target {
    if (!passesToBase(obj)) return { value: obj, key: obj, circular: false }
    const known = this.targets.get(obj)
    if (known !== undefined) return known
    const path: PSObject[] = []
    const onPath = new Set<PSObject>()
    let o: PSObject = obj
    let end: Target | undefined
    for (;;) {
      path.push(o)
      onPath.add(o)
      const base = o.baseValue
      if (typeof base !== 'object' || base === null) {
        end = { value: base, key: o, circular: false }
        break
      }
      if (!passesToBase(base)) {
        end = { value: base, key: base, circular: false }
        break
      }
      const memo = this.targets.get(base)
      if (memo !== undefined) {
        end = memo
        break
      }
      if (onPath.has(base)) break // a circle: every object on the path is its own summary
      o = base
    }
    for (const p of path) this.targets.set(p, end ?? { value: p, key: p, circular: true })
    return this.targets.get(obj) as Target
  }

  private shape(obj: object): Shape {
    for (const [cls] of NUMERIC) if (obj instanceof cls) return { kind: 'leaf' }
    for (const [cls] of TEXTUAL) if (obj instanceof cls) return { kind: 'leaf' }
    if (obj instanceof PSSecureString || obj instanceof Uint8Array || obj instanceof PSEnum) {
      return { kind: 'leaf' }
    }
    if (Array.isArray(obj)) return { kind: 'array', items: obj as unknown[] }
    if (obj instanceof Map) return { kind: 'map', map: obj as Map<unknown, unknown> }
    if (obj instanceof PSObject) {
      return obj.adapted.size === 0 && obj.extended.size === 0
        ? { kind: 'summary', obj }
        : { kind: 'object', obj }
    }
    return { kind: 'leaf' }
  }

  map(value: unknown, depth: number): Json {
    if (value === null || typeof value !== 'object') return scalarJson(value)
    const t = this.target(value)
    if (!this.shared.has(t.key)) return this.body(t, depth)
    const id = this.ids.get(t.key)
    if (id !== undefined) return { $ref: id }
    const newId = String(this.ids.size + 1)
    this.ids.set(t.key, newId)
    const body = this.body(t, depth)
    if (Array.isArray(body)) return { $id: newId, $values: body }
    if (body === null || typeof body !== 'object') return { $id: newId, $value: body }
    return { $id: newId, ...body }
  }

  /** The JSON of a chain's end (without `$id`). */
  private body(t: Target, depth: number): Json {
    if (t.circular) return summary(t.value as object)
    const value = t.value
    if (value === null || typeof value !== 'object') return scalarJson(value)
    const obj = value
    for (const [cls, type] of NUMERIC)
      if (obj instanceof cls) return typed(type, (obj as { value: number }).value)
    for (const [cls, type] of TEXTUAL) if (obj instanceof cls) return typed(type, String(obj))
    if (obj instanceof PSSecureString) return typed('System.Security.SecureString', null)
    if (obj instanceof Uint8Array) return typed('System.Byte[]', Buffer.from(obj).toString('base64'))
    if (obj instanceof PSEnum) return withType(obj.typeNames, { value: obj.value, name: obj.name })
    if (depth >= MAX_DEPTH) return summary(obj)
    const shape = this.shape(obj)
    switch (shape.kind) {
      case 'array':
        return shape.items.map((v) => this.map(v, depth + 1))
      case 'map': {
        const type = getMeta(obj)?.typeNames[0] ?? 'System.Collections.Hashtable'
        const entries = [...shape.map]
        if (entries.every(([k]) => typeof k === 'string')) {
          const out: { [key: string]: Json } = {}
          for (const [k, v] of entries) out[escapeKey(k as string)] = this.map(v, depth + 1)
          return typed(type, out)
        }
        return {
          '@type': type,
          entries: entries.map(([k, v]) => [this.map(k, depth + 1), this.map(v, depth + 1)]),
        }
      }
      case 'object': {
        const out: { [key: string]: Json } = {}
        for (const [k, v] of shape.obj.adapted) out[escapeKey(k)] = this.map(v, depth + 1)
        for (const [k, v] of shape.obj.extended) out[escapeKey(k)] = this.map(v, depth + 1)
        return withType(shape.obj.typeNames, out)
      }
      case 'summary':
        return summary(obj)
      default:
        return String(obj)
    }
  }
}

/** JSON of a value that is not an object. */
function scalarJson(value: unknown): Json {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : typed('System.Double', String(value))
    case 'bigint':
      return typed('System.Int64', value.toString())
    default:
      return String(value)
  }
}

/** `{"@type":…,"value":"<ToString>"}`. */
function summary(obj: object): Json {
  const typeNames = obj instanceof PSObject ? obj.typeNames : (getMeta(obj)?.typeNames ?? [])
  return withType(typeNames, {
    value: obj instanceof PSObject ? obj.toString() : (getMeta(obj)?.toStringValue ?? ''),
  })
}
