/**
 * A first-in, first-out queue over an array and a head index: taking is O(1) where `Array#shift`
 * moves every element. A taken slot is emptied at once, so the queue never keeps a taken value alive
 * (an OutOfProc session once held 1,024 taken 32 KiB fragments so, 32 MiB during a fetch), and the
 * taken prefix is cut off once it is over 1,024 entries and half of the array.
 *
 * @module
 */

/** Entries taken before the array is compacted (and then only when they are half of it). */
const COMPACT_AFTER = 1024

/** A FIFO queue; see the module notes. `shift()` gives undefined when empty: check {@link size} first when `T` may be undefined. */
export class Fifo<T> {
  readonly #items: (T | undefined)[] = []
  #head = 0

  /** Entries not yet taken. */
  get size(): number {
    return this.#items.length - this.#head
  }

  /** Appends an entry. */
  push(value: T): void {
    this.#items.push(value)
  }

  /** Takes the oldest entry, or undefined when there is none. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined
    const value = this.#items[this.#head] as T
    this.#items[this.#head++] = undefined
    if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#items.length) {
      this.#items.splice(0, this.#head)
      this.#head = 0
    }
    return value
  }

  /** Drops every entry. */
  clear(): void {
    this.#items.length = 0
    this.#head = 0
  }
}
