/**
 * A single-consumer async queue: producers `push()` synchronously, one consumer pulls with
 * `for await`. Used by transports to hand received data to the PSRP driver.
 *
 * @module
 */
import { InvalidStateError } from '../errors.ts'
import { Fifo } from '../internal/fifo.ts'

/**
 * Unbounded single-consumer async event queue. `end()` finishes the iteration after the buffered
 * values are consumed. When the consumer stops early (`break` in `for await`), later pushes are dropped.
 */
export class AsyncEventQueue<T> implements AsyncIterableIterator<T> {
  readonly #buffer = new Fifo<T>()
  #waiter: ((r: IteratorResult<T, undefined>) => void) | undefined
  #ended = false
  #detached = false

  /** Number of buffered values not yet consumed. */
  get size(): number {
    return this.#buffer.size
  }

  /** True once {@link end} was called or the consumer detached. */
  get ended(): boolean {
    return this.#ended || this.#detached
  }

  /** Adds a value (ignored after {@link end} or once the consumer has detached). */
  push(value: T): void {
    if (this.#ended || this.#detached) return
    const w = this.#waiter
    if (w !== undefined) {
      this.#waiter = undefined
      w({ value, done: false })
      return
    }
    this.#buffer.push(value)
  }

  /** Ends the stream; the consumer sees `done` after draining buffered values. Idempotent. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    const w = this.#waiter
    if (w !== undefined) {
      this.#waiter = undefined
      w({ value: undefined, done: true })
    }
  }

  /** Pulls the next value. */
  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#buffer.size > 0) {
      const value = this.#buffer.shift() as T
      return Promise.resolve({ value, done: false })
    }
    if (this.#ended || this.#detached) return Promise.resolve({ value: undefined, done: true })
    if (this.#waiter !== undefined) {
      return Promise.reject(new InvalidStateError('next', 'waiting', 'the event queue has a single consumer'))
    }
    return new Promise((resolve) => {
      this.#waiter = resolve
    })
  }

  /** Detaches the consumer (called by `break` in `for await`); buffered and later values are dropped. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#detached = true
    this.#buffer.clear()
    const w = this.#waiter
    this.#waiter = undefined
    w?.({ value: undefined, done: true })
    return Promise.resolve({ value: undefined, done: true })
  }

  /** Returns itself (one consumer: a second concurrent `next()` is refused). */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this
  }
}
