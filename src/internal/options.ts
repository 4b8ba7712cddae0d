/**
 * Checks of numeric options, shared by the public classes that take limits and sizes, so every such
 * option is refused the same way: an {@link InvalidArgumentError} naming the option and the value.
 *
 * @module
 */
import { InvalidArgumentError } from '../errors.ts'

/**
 * `value`, after checking that it is a positive safe integer.
 *
 * @throws {InvalidArgumentError} naming the option `name` when it is not (0, negative, fractional,
 *   NaN, infinite).
 */
export function positiveIntegerOption(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${String(value)}`)
  }
  return value
}
