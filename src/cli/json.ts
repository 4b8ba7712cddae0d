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
 * when the object had none. Objects nested deeper than {@link MAX_DEPTH}, and references back to an
 * enclosing object, are written as `{"@type":…,"value":"<ToString>"}`.
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

/** Nesting depth beyond which objects are written as their ToString text. */
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
  return map(value, [], 0)
}

/** One line of `--json` output: the mapped value, serialized. */
export function toJsonLine(value: unknown): string {
  return JSON.stringify(toJsonValue(value))
}

function map(value: unknown, stack: object[], depth: number): Json {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : typed('System.Double', String(value))
    case 'bigint':
      return typed('System.Int64', value.toString())
    case 'object':
      break
    default:
      return String(value)
  }
  const obj = value as object
  for (const [cls, type] of NUMERIC)
    if (obj instanceof cls) return typed(type, (obj as { value: number }).value)
  for (const [cls, type] of TEXTUAL) if (obj instanceof cls) return typed(type, String(obj))
  if (obj instanceof PSSecureString) return typed('System.Security.SecureString', null)
  if (obj instanceof Uint8Array) return typed('System.Byte[]', Buffer.from(obj).toString('base64'))
  if (obj instanceof PSEnum) return withType(obj.typeNames, { value: obj.value, name: obj.name })
  const summary = (): Json => {
    const typeNames = obj instanceof PSObject ? obj.typeNames : (getMeta(obj)?.typeNames ?? [])
    return withType(typeNames, {
      value: obj instanceof PSObject ? obj.toString() : (getMeta(obj)?.toStringValue ?? ''),
    })
  }
  if (stack.includes(obj) || depth >= MAX_DEPTH) return summary()
  stack.push(obj)
  try {
    if (Array.isArray(obj)) return obj.map((v) => map(v, stack, depth + 1))
    if (obj instanceof Map) {
      const type = getMeta(obj)?.typeNames[0] ?? 'System.Collections.Hashtable'
      const entries = [...(obj as Map<unknown, unknown>)]
      if (entries.every(([k]) => typeof k === 'string')) {
        const out: { [key: string]: Json } = {}
        for (const [k, v] of entries) out[k as string] = map(v, stack, depth + 1)
        return typed(type, out)
      }
      return {
        '@type': type,
        entries: entries.map(([k, v]) => [map(k, stack, depth + 1), map(v, stack, depth + 1)]),
      }
    }
    if (obj instanceof PSObject) {
      if (obj.baseValue !== undefined && obj.baseValue !== null) return map(obj.baseValue, stack, depth)
      if (obj.adapted.size === 0 && obj.extended.size === 0) return summary()
      const out: { [key: string]: Json } = {}
      for (const [k, v] of obj.adapted) out[k] = map(v, stack, depth + 1)
      for (const [k, v] of obj.extended) out[k] = map(v, stack, depth + 1)
      return withType(obj.typeNames, out)
    }
    return String(obj)
  } finally {
    stack.pop()
  }
}
