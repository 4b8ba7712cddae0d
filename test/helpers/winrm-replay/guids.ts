/**
 * GUID mapping for the replay server: recorded GUIDs (ShellId, CommandId, RPID, PID, …) are bound to
 * the client's fresh ones the first time both appear in the same position, and responses are
 * rewritten with the bindings. Bindings are one-to-one; the nil GUID only maps to itself.
 */
import { guidFromBytes, guidToBytes, NIL_GUID } from '../../../src/internal/guid.ts'

/** A GUID anywhere in text (no anchors), case-insensitive. */
export const GUID_IN_TEXT = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/g

const WHOLE_GUID =
  /^(?:uuid:)?\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/

/** The canonical (lower-case) GUID when `text` is exactly a GUID (optionally `uuid:`-prefixed), else undefined. */
export function asGuid(text: string): string | undefined {
  const m = WHOLE_GUID.exec(text.trim())
  return m === null ? undefined : (m[1] as string).toLowerCase()
}

/** Byte order of the GUIDs in PSRP message headers: .NET (`le`) or RFC 4122 (`be`, pypsrp < 0.3.1). */
export type GuidOrder = 'le' | 'be'

/** Reads a header GUID. */
export function readGuid(bytes: Uint8Array, offset: number, order: GuidOrder): string {
  return guidFromBytes(bytes, offset, order)
}

/** Writes a header GUID in place. */
export function writeGuid(bytes: Uint8Array, offset: number, guid: string, order: GuidOrder): void {
  bytes.set(guidToBytes(guid, order), offset)
}

/** A one-to-one, transactional binding between recorded and actual GUIDs. */
export class GuidMap {
  #toActual = new Map<string, string>()
  #toRecorded = new Map<string, string>()
  /**
   * When set and true for the actual GUID a recorded one is bound to, that binding may be replaced
   * (a finished command whose recorded id the recording reuses, where the client uses a new one).
   */
  canRelease: ((actual: string) => boolean) | undefined

  /** Number of bindings. */
  get size(): number {
    return this.#toActual.size
  }

  /** The actual GUID bound to a recorded one. */
  actual(recorded: string): string | undefined {
    return this.#toActual.get(recorded.toLowerCase())
  }

  /** The recorded GUID bound to an actual one. */
  recorded(actual: string): string | undefined {
    return this.#toRecorded.get(actual.toLowerCase())
  }

  /**
   * Checks that `actual` may stand for `recorded` (binding them when neither is bound yet).
   * Returns an explanation when it may not.
   */
  bind(recorded: string, actual: string, where: string): string | undefined {
    const r = recorded.toLowerCase()
    const a = actual.toLowerCase()
    if (r === NIL_GUID || a === NIL_GUID) {
      return r === a
        ? undefined
        : `${where}: expected ${r === NIL_GUID ? 'the nil GUID' : 'a GUID'}, got ${a}`
    }
    const bound = this.#toActual.get(r)
    if (bound !== undefined) {
      if (bound === a) return undefined
      if (this.canRelease?.(bound) === true && !this.#toRecorded.has(a)) {
        this.#toRecorded.delete(bound)
        this.#toActual.set(r, a)
        this.#toRecorded.set(a, r)
        return undefined
      }
      const other = this.#toRecorded.get(a)
      return (
        `${where}: got ${a}, but the recording's ${r} already stands for ${bound}` +
        (other !== undefined ? ` (and ${a} stands for the recording's ${other})` : '')
      )
    }
    const other = this.#toRecorded.get(a)
    if (other !== undefined) {
      return `${where}: got ${a}, which already stands for the recording's ${other}, where the recording has ${r}`
    }
    this.#toActual.set(r, a)
    this.#toRecorded.set(a, r)
    return undefined
  }

  /**
   * The actual GUID for a recorded one seen in a response. An unbound GUID is server-chosen (a WinRS
   * ShellId, an ActivityId): it is pinned to itself, so the client must echo it unchanged.
   */
  forResponse(recorded: string): string {
    const r = recorded.toLowerCase()
    const bound = this.#toActual.get(r)
    if (bound !== undefined) return bound
    if (r !== NIL_GUID && !this.#toRecorded.has(r)) {
      this.#toActual.set(r, r)
      this.#toRecorded.set(r, r)
    }
    return r
  }

  /** A copy of the current bindings, for {@link restore}. */
  snapshot(): [Map<string, string>, Map<string, string>] {
    return [new Map(this.#toActual), new Map(this.#toRecorded)]
  }

  /** Goes back to a {@link snapshot}. */
  restore(s: [Map<string, string>, Map<string, string>]): void {
    this.#toActual = new Map(s[0])
    this.#toRecorded = new Map(s[1])
  }

  /** All bindings, recorded → actual. */
  entries(): [string, string][] {
    return [...this.#toActual]
  }
}

/** `guid` written in the letter case of `like` (Windows writes upper case; clients vary). */
export function inCaseOf(guid: string, like: string): string {
  return like === like.toUpperCase() && like !== like.toLowerCase() ? guid.toUpperCase() : guid.toLowerCase()
}
