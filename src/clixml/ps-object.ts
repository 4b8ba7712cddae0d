/**
 * The PowerShell object model of CLIXML complex objects (MS-PSRP 2.2.5.2): an `<Obj>` with type
 * names (`TN`), a `ToString`, an optional base value (primitive, enum value or collection), adapted
 * properties (`Props`) and extended properties (`MS`).
 *
 * @module
 */
import { ClixmlError } from '../errors.ts'

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
  metaDescriptor.value = meta
  try {
    Object.defineProperty(value, psMeta, metaDescriptor)
  } finally {
    metaDescriptor.value = undefined
  }
  return value
}

/** The property descriptor of {@link setMeta}, one object for every call (its value set for the call only). */
const metaDescriptor: PropertyDescriptor = {
  value: undefined,
  enumerable: false,
  configurable: true,
  writable: true,
}

/**
 * What {@link PSObject.toString} gives for an object whose text depends on itself: an `<Obj>` whose base
 * value is (or leads back to) the object itself, e.g. `<Obj RefId="0"><Ref RefId="0" /></Obj>`.
 */
export const CIRCULAR_TEXT = '[circular]'

/**
 * What {@link PSObject.toString} gives when the text of a base value nests (through collections)
 * deeper than 256 objects, rather than recursing until the stack runs out, or in place of the rest of
 * a collection's text after 100 000 items.
 */
export const NESTED_TEXT = '[nested too deeply]'

/** How many base values that are collections a text may nest through. */
const MAX_NESTED_TEXT = 256

/**
 * How many collection items one text may visit. Collections can share items (a list holding the
 * previous list twice, n times over, is 2^n items when written out), so the text of a collection
 * stops with {@link NESTED_TEXT} after this many rather than growing exponentially.
 */
const MAX_TEXT_ITEMS = 100_000

/** Objects and lists whose text is being computed further up the stack (a cycle re-enters). */
const textInProgress = new Set<object>()
let textDepth = 0
let textItems = 0

/**
 * The text of a base value that is not itself a PSObject (an array, Map, typed primitive …), the base
 * value of `owner`. Its text may lead back to `owner` (an array holding the object that holds the
 * array), so `owner` is marked as in progress while it is computed; any object of a chain of base
 * values that ends at `owner` reaches the mark when it is re-entered.
 */
function nestedText(value: object, owner: PSObject): string {
  if (textDepth >= MAX_NESTED_TEXT) return NESTED_TEXT
  if (textDepth === 0) textItems = 0
  textInProgress.add(owner)
  textDepth++
  try {
    return Array.isArray(value) ? listText(value) : String(value)
  } finally {
    textDepth--
    textInProgress.delete(owner)
  }
}

/**
 * A list's text as `Array.prototype.join` writes it (items comma-separated, null and undefined as
 * nothing, nested lists flattened), but bounded: a list inside itself is {@link CIRCULAR_TEXT}, and
 * nesting and the number of items visited are capped ({@link NESTED_TEXT}).
 */
function listText(list: readonly unknown[]): string {
  if (textInProgress.has(list)) return CIRCULAR_TEXT
  if (textDepth >= MAX_NESTED_TEXT) return NESTED_TEXT
  textInProgress.add(list)
  textDepth++
  try {
    const parts: string[] = []
    for (const item of list) {
      if (++textItems > MAX_TEXT_ITEMS) {
        parts.push(NESTED_TEXT)
        break
      }
      parts.push(
        item === null || item === undefined ? '' : Array.isArray(item) ? listText(item) : String(item),
      )
    }
    return parts.join(',')
  } finally {
    textDepth--
    textInProgress.delete(list)
  }
}

/** True for a PSObject whose text is computed by {@link PSObject.toString} itself (not an override). */
function plainText(value: unknown): value is PSObject {
  return value instanceof PSObject && value.toString === PSObject.prototype.toString
}

/** True when the object has no adapted or extended properties. */
function bare(o: PSObject): boolean {
  return o.adapted.size === 0 && o.extended.size === 0
}

/** A base value that {@link PSObject.toJSON} looks through: a bare object that has a base value itself. */
function isLink(value: unknown): value is PSObject {
  return value instanceof PSObject && bare(value) && value.baseValue !== undefined
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

  /**
   * The `<ToString>` text, else the base value's text, else the first type name. Never recurses
   * without bound: a base value that leads back to the object reads as {@link CIRCULAR_TEXT}, and a
   * chain of base values (each an object whose base value is the next) is followed in a loop.
   */
  toString(): string {
    // The chain of base values is walked in a loop, with a second pointer at half speed: the two
    // meet only when the chain runs in a circle (Floyd's cycle finding, no memory per step).
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let o: PSObject = this
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let slow: PSObject = this
    for (let step = 1; ; step++) {
      if (textInProgress.has(o)) return CIRCULAR_TEXT
      if (o.toStringValue !== undefined) return o.toStringValue
      const base = o.baseValue
      if (base === undefined || base === null) return o.typeNames[0] ?? 'System.Object'
      if (typeof base !== 'object') return String(base)
      if (!plainText(base)) return nestedText(base, o)
      o = base
      if (o === slow) return CIRCULAR_TEXT
      if (step % 2 === 0) slow = slow.baseValue as PSObject
    }
  }

  /**
   * A plain JSON view: properties as an object (or the base value when there are none). A chain of
   * property-less objects is followed to its end; one that leads back to itself is
   * {@link CIRCULAR_TEXT}.
   */
  toJSON(): unknown {
    if (bare(this)) {
      if (this.baseValue === undefined) return this.toString()
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      let o: PSObject = this
      // eslint-disable-next-line @typescript-eslint/no-this-alias
      let slow: PSObject = this
      for (let step = 1; isLink(o.baseValue); step++) {
        o = o.baseValue
        if (o === slow) return CIRCULAR_TEXT
        if (step % 2 === 0) slow = slow.baseValue as PSObject
      }
      return o.baseValue
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
  /**
   * The numeric value. A base value that is itself an enum is followed (in a loop); one that leads
   * back to the enum throws a {@link ClixmlError} instead of recursing.
   */
  get value(): number {
    // a chain of enums is walked in a loop; a second pointer at half speed meets it only in a circle
    let base = this.baseValue
    let slow: unknown = this.baseValue
    for (let step = 1; base instanceof PSEnum; step++) {
      base = base.baseValue
      if (base === slow || base === this) {
        throw new ClixmlError(`the value of enum ${this.typeNames[0] ?? 'System.Enum'} refers to itself`)
      }
      if (step % 2 === 0) slow = (slow as PSEnum).baseValue
    }
    // anything else converts through its text, which is cycle-safe
    return Number(base)
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
