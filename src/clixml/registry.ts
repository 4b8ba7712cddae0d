/**
 * Registry of known complex types (MS-PSRP 2.2.3): maps .NET type names to the typed PSObject
 * subclasses the deserializer creates. Incoming type names match with or without the
 * `Deserialized.` prefix PowerShell adds to rehydrated objects.
 *
 * @module
 */
import type { PSObject } from './ps-object.ts'

/** A PSObject subclass constructible the way the deserializer builds objects. */
export type PSObjectClass = new (init?: { typeNames?: string[] }) => PSObject

/**
 * The registered classes by the incoming type names that find them: each registered name under itself (unless it
 * starts with `Deserialized.`, which incoming names lose before the look-up) and under
 * `Deserialized.` + itself, so a look-up needs no sliced copy of the name.
 */
const incoming = new Map<string, PSObjectClass>()

const PREFIX = 'Deserialized.'

/** Registers a typed class for a .NET type name. */
export function registerType(typeName: string, cls: PSObjectClass): void {
  if (!typeName.startsWith(PREFIX)) incoming.set(typeName, cls)
  incoming.set(PREFIX + typeName, cls)
}

/** The registered class for the most derived known type name, if any. */
export function lookupType(typeNames: readonly string[]): PSObjectClass | undefined {
  for (const t of typeNames) {
    const cls = incoming.get(t)
    if (cls !== undefined) return cls
  }
  return undefined
}
