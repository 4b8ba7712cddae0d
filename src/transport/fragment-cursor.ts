/**
 * Loss detection for WinRM Receives that are sent again. MS-WSMV gives a Receive no sequence number
 * and the server takes the output it puts in a ReceiveResponse off its queue (MS-PSRP 3.2.5.4.1), so a
 * response lost on the network is output lost. What remains to go by are the PSRP fragment headers
 * (MS-PSRP 2.2.4): an object's fragments are numbered 0, 1, 2 … and the ObjectIds a server process
 * gives out increase by one per message, across every stream of the process (PowerShell draws them
 * from one process-wide counter). So after a retry:
 *
 * - a fragment at or before the last one delivered on the stream is a repeat and is dropped;
 * - an unfinished object must continue with its next fragment;
 * - after a whole object, the stream must continue with fragment 0 of a later object, and every
 *   ObjectId in between must have been seen on another stream of the same pool
 *   ({@link ObjectIdLedger}); an id nobody has seen was in the lost response.
 *
 * A gap is a {@link TransportError}: output arrives exactly once or its loss is reported, never a
 * silent hole. An id that another stream has not received yet at the time of the check (two pipelines
 * producing at once while one of them loses a response) is reported as lost too: the check cannot
 * tell it apart, and a false alarm is the safe side.
 *
 * @module
 */
import { TransportError } from '../errors.ts'
import { decodeFragment } from '../psrp/wire/fragment.ts'

/** Disjoint ranges of ids kept before the oldest are forgotten (a bound on a hostile server). */
const MAX_RANGES = 4096

/**
 * The PSRP ObjectIds seen on any stream of one runspace pool (its own Receive and every pipeline's),
 * kept as sorted disjoint ranges: in-order ids extend the last range, so memory grows only with the
 * holes between streams that interleave, and at most {@link MAX_RANGES} ranges are kept (older ids
 * are then treated as unseen, which can only raise a loss report after a retry).
 */
export class ObjectIdLedger {
  /** [first, last] pairs, ascending, non-adjacent. */
  readonly #ranges: [bigint, bigint][] = []

  /** The highest id seen, or -1 when none. */
  get max(): bigint {
    return this.#ranges.at(-1)?.[1] ?? -1n
  }

  /** Notes that the message `id` arrived. */
  record(id: bigint): void {
    const r = this.#ranges
    // find the first range whose end is >= id - 1 (searching from the end: ids mostly arrive in order)
    let i = r.length
    while (i > 0 && (r[i - 1] as [bigint, bigint])[1] >= id - 1n) i--
    const at = r[i]
    if (at === undefined) {
      r.push([id, id])
    } else if (id >= at[0] - 1n) {
      if (id < at[0]) at[0] = id
      if (id > at[1]) at[1] = id
      const next = r[i + 1]
      if (next !== undefined && next[0] <= at[1] + 1n) {
        at[1] = next[1] > at[1] ? next[1] : at[1]
        r.splice(i + 1, 1)
      }
    } else {
      r.splice(i, 0, [id, id])
    }
    if (r.length > MAX_RANGES) r.splice(0, r.length - MAX_RANGES)
  }

  /** True when every id strictly between `after` and `before` was seen (or there is none). */
  coversBetween(after: bigint, before: bigint): boolean {
    if (before - after <= 1n) return true
    const first = after + 1n
    const last = before - 1n
    return this.#ranges.some(([a, b]) => a <= first && b >= last)
  }
}

/** The last PSRP fragment delivered on one Receive stream. */
interface FragmentPosition {
  readonly objectId: bigint
  readonly fragmentId: bigint
  readonly end: boolean
}

/**
 * Follows the PSRP fragments of one Receive stream (the pool's or a pipeline's) and checks where the
 * output continues after a retried Receive, as the module comment describes. Stream data that is not
 * whole fragments turns the checks off for the rest of the stream.
 */
export class FragmentCursor {
  readonly #what: string
  readonly #ledger: ObjectIdLedger
  /** The highest id seen on the pool when the stream began: its own ids come after it. */
  readonly #floor: bigint
  #last: FragmentPosition | undefined
  #check = false
  #unframed = false

  /**
   * @param what names the stream in errors (`pipeline …`, `the runspace pool`).
   * @param ledger the ids seen on every stream of the pool, shared by its cursors.
   */
  constructor(what: string, ledger: ObjectIdLedger = new ObjectIdLedger()) {
    this.#what = what
    this.#ledger = ledger
    this.#floor = ledger.max
  }

  /** A Receive of this stream was sent again: check where the next output starts. */
  retried(): void {
    this.#check = !this.#unframed
  }

  /**
   * The bytes of `data` to deliver: all of it, or without the fragments already delivered. Throws
   * {@link TransportError} when the output does not continue where it stopped.
   */
  accept(data: Uint8Array): Uint8Array {
    const keep: Uint8Array[] = []
    let dropped = false
    let offset = 0
    while (offset < data.length) {
      let decoded: ReturnType<typeof decodeFragment>
      try {
        decoded = decodeFragment(data, offset)
      } catch {
        decoded = undefined
      }
      if (decoded === undefined) {
        // not whole fragments: nothing to compare with from here on
        this.#unframed = true
        this.#check = false
        keep.push(data.subarray(offset))
        break
      }
      const f = decoded.fragment
      if (this.#check) {
        const last = this.#last
        if (
          last !== undefined &&
          (f.objectId < last.objectId || (f.objectId === last.objectId && f.fragmentId <= last.fragmentId))
        ) {
          dropped = true
          offset = decoded.next
          continue
        }
        this.#checkContinues(last, f)
        this.#check = false
      }
      this.#last = { objectId: f.objectId, fragmentId: f.fragmentId, end: f.end }
      this.#ledger.record(f.objectId)
      keep.push(data.subarray(offset, decoded.next))
      offset = decoded.next
    }
    if (!dropped) return data
    return new Uint8Array(Buffer.concat(keep))
  }

  #checkContinues(last: FragmentPosition | undefined, f: { objectId: bigint; fragmentId: bigint }): void {
    let lost: string | undefined
    if (last !== undefined && !last.end) {
      if (f.objectId !== last.objectId || f.fragmentId !== last.fragmentId + 1n) {
        lost = `after object ${last.objectId} fragment ${last.fragmentId}`
      }
    } else {
      const after = last?.objectId ?? this.#floor
      // ids at or below the floor cannot be judged (given out before the stream began, seen late)
      // (and with nothing seen on the pool yet, where its ids start is the server's business)
      const judged = last !== undefined || (after >= 0n && f.objectId > after)
      if (f.fragmentId !== 0n || (judged && !this.#ledger.coversBetween(after, f.objectId))) {
        lost = last === undefined ? 'before its first object arrived' : `after object ${last.objectId}`
      }
    }
    if (lost !== undefined) {
      throw new TransportError(
        `output of ${this.#what} was lost with the connection: ${lost} the server continued at object ` +
          `${f.objectId} fragment ${f.fragmentId} (a Receive response that never arrived took it off ` +
          `the server's queue)`,
      )
    }
  }
}
