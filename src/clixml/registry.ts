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

const types = new Map<string, PSObjectClass>()

/** Registers a typed class for a .NET type name. */
export function registerType(typeName: string, cls: PSObjectClass): void {
  types.set(typeName, cls)
}

/** The registered class for the most derived known type name, if any. */
export function lookupType(typeNames: readonly string[]): PSObjectClass | undefined {
  for (const t of typeNames) {
    const cls = types.get(t.startsWith('Deserialized.') ? t.slice(13) : t)
    if (cls !== undefined) return cls
  }
  return undefined
}
