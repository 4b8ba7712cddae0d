/**
 * Helpers shared by the message codecs: reading typed properties out of a deserialized message
 * body with a {@link ProtocolError} when a required one is missing or of the wrong type.
 *
 * @module
 */
import { ClixmlError, ProtocolError } from '../../errors.ts'
import { PSObject, retype } from '../../clixml/index.ts'

/** The body as a PSObject, or a ProtocolError naming the message. */
export function bodyObject(message: string, value: unknown): PSObject {
  if (!(value instanceof PSObject)) throw new ProtocolError(`${message} body is not an object`)
  return value
}

/** A required property (any type). */
export function required(message: string, o: PSObject, name: string): unknown {
  if (!o.has(name)) throw new ProtocolError(`${message} is missing ${name}`)
  return o.get(name)
}

/**
 * `Number(v)` for the value of property `message.name`. A value that cannot be converted, such as an
 * enum whose value refers to itself, gives a {@link ProtocolError} naming `message.name` (with the
 * {@link ClixmlError} as its cause); an object whose text refers to itself converts as its
 * `[circular]` text does, to NaN. Never a stack overflow.
 */
export function numberValue(message: string, name: string, v: unknown): number {
  try {
    return Number(v)
  } catch (err) {
    if (err instanceof ClixmlError) {
      throw new ProtocolError(`${message}.${name} is not a number: ${err.message}`, { cause: err })
    }
    throw err
  }
}

/** A required number (I32 or a numeric wrapper). */
export function requiredNumber(message: string, o: PSObject, name: string): number {
  const v = required(message, o, name)
  const n =
    typeof v === 'number' ? v : typeof v === 'object' && v !== null ? numberValue(message, name, v) : NaN
  if (Number.isNaN(n)) throw new ProtocolError(`${message}.${name} is not a number`)
  return n
}

/** A required 64-bit call id (I64). */
export function requiredBigint(message: string, o: PSObject, name: string): bigint {
  const v = required(message, o, name)
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  throw new ProtocolError(`${message}.${name} is not an Int64`)
}

/** A required string. */
export function requiredString(message: string, o: PSObject, name: string): string {
  const v = required(message, o, name)
  if (typeof v !== 'string') throw new ProtocolError(`${message}.${name} is not a string`)
  return v
}

/** A required boolean. */
export function requiredBoolean(message: string, o: PSObject, name: string): boolean {
  const v = required(message, o, name)
  if (typeof v !== 'boolean') throw new ProtocolError(`${message}.${name} is not a boolean`)
  return v
}

/** An optional property, undefined when absent or Nil. */
export function optional(o: PSObject, name: string): unknown {
  const v = o.get(name)
  return v === null ? undefined : v
}

/** A body of extended properties only (`<Obj RefId="0"><MS>…</MS></Obj>`). */
export function msObject(props: [string, unknown][]): PSObject {
  return new PSObject({ extended: props })
}

/**
 * The typed view of a body object whose wire form carries no type names (e.g. PROGRESS_RECORD,
 * HostInfo): an instance of `cls` sharing the same properties. Values already of `cls` pass through.
 */
export function asTyped<T extends PSObject>(
  cls: new (init?: { typeNames?: string[] }) => T,
  value: unknown,
  what: string,
): T {
  const typed = retype(cls, value)
  if (typed === undefined) throw new ProtocolError(`${what} is not an object`)
  return typed
}
