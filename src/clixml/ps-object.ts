/**
 * The PowerShell object model of CLIXML complex objects (MS-PSRP 2.2.5.2): an `<Obj>` with type
 * names (`TN`), a `ToString`, an optional base value (primitive, enum value or collection), adapted
 * properties (`Props`) and extended properties (`MS`).
 *
 * @module
 */

/**
 * Symbol under which arrays and Maps that came from an `<Obj>` keep the object's CLIXML identity
 * (type names, ToString, collection kind, properties), so they re-serialize unchanged.
 */
export const psMeta: unique symbol = Symbol.for('psrp.clixml.meta') as never

/** Collection kinds of MS-PSRP 2.2.5.2.6. */
export type CollectionKind = 'LST' | 'IE' | 'QUE' | 'STK' | 'DCT'

/** What {@link psMeta} holds on an array or Map. */
export interface CollectionMeta {
  typeNames: string[]
  toStringValue: string | undefined
  kind: CollectionKind
  adapted: Map<string, unknown>
  extended: Map<string, unknown>
}

/** Reads the CLIXML identity of an array or Map, if it came from CLIXML (or was tagged). */
export function getMeta(value: object): CollectionMeta | undefined {
  return (value as { [psMeta]?: CollectionMeta })[psMeta]
}

/** Tags an array or Map with a CLIXML identity (non-enumerable, invisible to JSON). */
export function setMeta<T extends object>(value: T, meta: CollectionMeta): T {
  Object.defineProperty(value, psMeta, { value: meta, enumerable: false, configurable: true, writable: true })
  return value
}

function lookup(map: Map<string, unknown>, name: string): { found: boolean; value: unknown } {
  if (map.has(name)) return { found: true, value: map.get(name) }
  const lower = name.toLowerCase()
  for (const [k, v] of map) if (k.toLowerCase() === lower) return { found: true, value: v }
  return { found: false, value: undefined }
}

/** A deserialized (or to-be-serialized) PowerShell object. */
export class PSObject {
  /** Type names, most derived first; empty when the object had no `TN`. */
  typeNames: string[]
  /** The `<ToString>` text, if any. */
  toStringValue: string | undefined
  /** Primitive or collection carried inside the `<Obj>`, undefined if none. */
  baseValue: unknown
  /** Adapted properties (`<Props>`), in order. */
  readonly adapted: Map<string, unknown>
  /** Extended properties (`<MS>`), in order. */
  readonly extended: Map<string, unknown>

  constructor(init?: {
    typeNames?: string[]
    toStringValue?: string | undefined
    baseValue?: unknown
    adapted?: Iterable<[string, unknown]>
    extended?: Iterable<[string, unknown]>
  }) {
    this.typeNames = init?.typeNames ?? []
    this.toStringValue = init?.toStringValue
    this.baseValue = init?.baseValue
    this.adapted = new Map(init?.adapted)
    this.extended = new Map(init?.extended)
  }

  /** A `PSCustomObject` with the given note properties (like `[pscustomobject]@{…}`). */
  static custom(props: Record<string, unknown>): PSObject {
    return new PSObject({
      typeNames: ['System.Management.Automation.PSCustomObject', 'System.Object'],
      extended: Object.entries(props),
    })
  }

  /** A property value: extended first, then adapted (case-insensitive like PowerShell); undefined if absent. */
  get(name: string): unknown {
    const e = lookup(this.extended, name)
    if (e.found) return e.value
    return lookup(this.adapted, name).value
  }

  /** True when the object has the property (extended or adapted). */
  has(name: string): boolean {
    return lookup(this.extended, name).found || lookup(this.adapted, name).found
  }

  /** Sets an extended property. */
  set(name: string, value: unknown): this {
    this.extended.set(name, value)
    return this
  }

  /** All property names, adapted then extended. */
  get propertyNames(): string[] {
    return [...new Set([...this.adapted.keys(), ...this.extended.keys()])]
  }

  /** True when one of the type names (with or without `Deserialized.`) equals `name`. */
  isA(name: string): boolean {
    return this.typeNames.some((t) => t === name || t === `Deserialized.${name}`)
  }

  /** The `<ToString>` text, else the base value's text, else the first type name. */
  toString(): string {
    if (this.toStringValue !== undefined) return this.toStringValue
    if (this.baseValue !== undefined && this.baseValue !== null) return String(this.baseValue)
    return this.typeNames[0] ?? 'System.Object'
  }

  /** A plain JSON view: properties as an object (or the base value when there are none). */
  toJSON(): unknown {
    if (this.adapted.size === 0 && this.extended.size === 0) {
      return this.baseValue !== undefined ? this.baseValue : this.toString()
    }
    const out: Record<string, unknown> = {}
    for (const [k, v] of this.adapted) out[k] = v
    for (const [k, v] of this.extended) out[k] = v
    return out
  }
}

/**
 * An enum value (an `<Obj>` whose type names include `System.Enum`, MS-PSRP 2.2.5.2.7): the
 * numeric value plus the name PowerShell gave it in `<ToString>`.
 */
export class PSEnum extends PSObject {
  /** The numeric value. */
  get value(): number {
    return Number(this.baseValue)
  }
  /** The symbolic name (for flags enums a comma-separated list). */
  get name(): string {
    return this.toStringValue ?? String(this.baseValue)
  }
  /** The numeric value, so `Number(e)` and comparisons work. */
  override valueOf(): number {
    return this.value
  }
  /** Whether a flag is set (for flags enums). */
  hasFlag(flag: number): boolean {
    return (this.value & flag) === flag
  }
  override toJSON(): unknown {
    return this.name
  }

  /** Builds an enum object of the given .NET type (an instance of the class it is called on). */
  static create<T extends PSEnum>(
    this: new (init?: ConstructorParameters<typeof PSObject>[0]) => T,
    typeName: string,
    value: number,
    name: string,
  ): T {
    return new this({
      typeNames: [typeName, 'System.Enum', 'System.ValueType', 'System.Object'],
      toStringValue: name,
      baseValue: value,
    })
  }
}

/**
 * `value` as an instance of the typed PSObject class `cls`: returned as is when it already is one,
 * otherwise a new instance carrying the same type names, ToString, base value and properties (for
 * wire forms that carry no type names, e.g. PROGRESS_RECORD bodies or host-call parameters).
 * Undefined when `value` is not a PSObject.
 */
export function retype<T extends PSObject>(
  cls: new (init?: { typeNames?: string[] }) => T,
  value: unknown,
): T | undefined {
  if (value instanceof cls) return value
  if (!(value instanceof PSObject)) return undefined
  const typed = new cls({ typeNames: value.typeNames })
  typed.toStringValue = value.toStringValue
  typed.baseValue = value.baseValue
  for (const [k, v] of value.adapted) typed.adapted.set(k, v)
  for (const [k, v] of value.extended) typed.extended.set(k, v)
  return typed
}

/**
 * The value without its PSObject wrapper, like PowerShell's `$x.PSObject.BaseObject`: a primitive or
 * collection that travelled with extra properties (e.g. `Get-Date`'s DateTime with its `DisplayHint`
 * note) arrives as a PSObject whose `baseValue` is the typed value; this returns that value. Anything
 * else (including a PSObject without a base value) is returned unchanged.
 */
export function baseObject(value: unknown): unknown {
  return value instanceof PSObject && value.baseValue !== undefined ? value.baseValue : value
}
