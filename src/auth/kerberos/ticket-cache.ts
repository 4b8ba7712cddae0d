/**
 * An in-memory cache of the tickets a client obtained from the KDC (its TGT and service tickets),
 * shared by the security contexts of one connection: the next context for the same user and
 * service presents the cached ticket with a fresh authenticator (RFC 4120 §3.2.2) instead of
 * logging in again, as MIT's and Windows' credential caches allow. A ticket is used until
 * {@link TICKET_REUSE_MARGIN_MS} before its end time.
 *
 * It holds session keys: `util.inspect` and `JSON.stringify` show only how many tickets it has.
 *
 * @module
 */
import type { KerberosCredential } from './kdc-exchange.ts'

/** A cached ticket is not used within this many milliseconds of its end time. */
export const TICKET_REUSE_MARGIN_MS = 60_000

const INSPECT = Symbol.for('nodejs.util.inspect.custom')

/** Tickets by what they were obtained for (see {@link KerberosContext}). */
export class KerberosTicketCache {
  readonly #tickets = new Map<string, KerberosCredential>()

  /** The ticket stored under `key`, unless it ends within the reuse margin of `now` (then dropped). */
  get(key: string, now: Date): KerberosCredential | undefined {
    const t = this.#tickets.get(key)
    if (t === undefined) return undefined
    if (t.endtime.getTime() - TICKET_REUSE_MARGIN_MS <= now.getTime()) {
      this.#tickets.delete(key)
      return undefined
    }
    if (t.starttime !== undefined && t.starttime.getTime() > now.getTime()) return undefined
    return t
  }

  /** Stores a ticket under `key`. */
  set(key: string, ticket: KerberosCredential): void {
    this.#tickets.set(key, ticket)
  }

  /** Forgets every ticket (e.g. after the server refused one). */
  clear(): void {
    this.#tickets.clear()
  }

  /** How many tickets it holds. */
  get size(): number {
    return this.#tickets.size
  }

  /** No keys or tickets in JSON. */
  toJSON(): { tickets: number } {
    return { tickets: this.#tickets.size }
  }

  [INSPECT](): string {
    return `KerberosTicketCache { tickets: ${this.#tickets.size} }`
  }
}
